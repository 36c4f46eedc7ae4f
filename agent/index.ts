// Public API of flagella/agent. Nothing outside this folder imports its internals.
export {};
export * from './sources/index.js';
export { runCli, buildProgram } from './cli/run.js';
export type { CliIO } from './cli/run.js';
export type { CliContext, CliSettings, CommandModule, Output } from './cli/context.js';
export { commandModules } from './cli/commands/index.js';
export { DataSourceError } from './cli/data-source.js';
export type { DataSource, DataSourceErrorKind, QueryKind, RowSet, RowShape, SourceChange, SourceRow } from './cli/data-source.js';
export { AgentUnreachableError, ApiClient, ApiProtocolError, ApiResponseError, DEFAULT_API_SOCKET } from './cli/api-client.js';
export type { ApiClientOptions } from './cli/api-client.js';
export { AgentDataSource } from './cli/agent-source.js';
export { LocalDataSource } from './cli/local-source.js';
export type { LocalDataSourceOptions } from './cli/local-source.js';
export { createDemoDatabase, demoTables } from './cli/demo-db.js';
export type { DemoDatabase, DemoFrontend, DemoService } from './cli/demo-db.js';
export { CliError, EXIT_CODES_TEXT, ExitCode } from './cli/errors.js';
// The agent runtime, its HTTP API and observability (embedding: Agent.start, runAgent).
export * from './runtime/index.js';
export * from './api/index.js';
export * from './observability/index.js';
