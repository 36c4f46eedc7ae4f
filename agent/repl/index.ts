// Public face of agent/repl (the interactive shell of `flagella repl`);
// loaded on demand by the repl command.
export { runRepl } from './repl.js';
export type { ReplOptions } from './repl.js';
export { historyPath, History, HISTORY_SIZE } from './history.js';
export { splitLine, quoteWord } from './line-parser.js';
export type { SplitLine } from './line-parser.js';
export { complete } from './completer.js';
export type { CompletionSource, TableNames } from './completer.js';
export { expand, resolveLine, REPL_HELP } from './repl-commands.js';
export type { ReplAction } from './repl-commands.js';
