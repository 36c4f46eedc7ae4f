// Public API of flagella/agent. Nothing outside this folder imports its internals.
export {};
export * from './sources/index.js';
export { runCli, buildProgram } from './cli/run.js';
export type { CliIO } from './cli/run.js';
export type { CliContext, CommandModule, Output } from './cli/context.js';
export { commandModules } from './cli/commands/index.js';
export { DataSourceError } from './cli/data-source.js';
export type { DataSource, DataSourceErrorKind, QueryKind, RowSet, SourceChange, SourceRow } from './cli/data-source.js';
export { LocalDataSource } from './cli/local-source.js';
export type { LocalDataSourceOptions } from './cli/local-source.js';
export { createDemoDatabase, demoTables } from './cli/demo-db.js';
export type { DemoDatabase, DemoFrontend, DemoService } from './cli/demo-db.js';
export { CliError, ExitCode } from './cli/errors.js';
// The agent runtime, its HTTP API and observability (embedding: Agent.start, runAgent).
export * from './runtime/index.js';
export * from './api/index.js';
export * from './observability/index.js';
