// Public API of flagella/statedb. Nothing outside this folder imports its internals.
export { DB } from './db.js';
export type { AnyTable, DBOptions, WriteTxnOptions } from './db.js';
export { Table } from './table.js';
export type { InitializedState, KeyOfDef, RowCodec, SecondaryDefs, TableDef, Watched } from './table.js';
export { Query, TableIndex, REVISION_INDEX_NAME } from './table-index.js';
export { ReadTxn, WriteTxn } from './txn.js';
export type { Txn, TxnStatus } from './txn.js';
export type { Change, Entry } from './entry.js';
export { ChangeIterator, StaleSnapshotError } from './changes.js';
export type { ChangeBatch } from './changes.js';
export { lpmIndex, multiIndex, nonUniqueIndex, uniqueIndex } from './indexes.js';
export type { IndexDef, IndexKind } from './indexes.js';
export { Keys } from './keys.js';
export type { Int64, IPAddressInput, KeyType } from './keys.js';
export { closedWatch, waitAny, WaitAbortedError, Watch } from './watch.js';
export type {
  CommitEvent,
  CommitHook,
  CommittedTable,
  NewTableHook,
  PrepareCommitHook,
  StateDBMetrics,
  TableFigures,
} from './hooks.js';
export { noopMetrics } from './hooks.js';
export * from './errors.js';
export {
  describeTable,
  formatRow,
  getByString,
  listByString,
  lowerBoundByString,
  prefixByString,
  queryByString,
  rowToJSON,
  tableByName,
  UnknownIndexError,
  UnknownTableError,
} from './tooling.js';
export type { IndexInfo, TableInfo } from './tooling.js';
export { DurableStore, openStore, storeOf } from './durable.js';
export type { OpenStoreOptions, RestoredTable } from './durable.js';
export {
  DurableStoreError,
  StoreDecodeError,
  StoreIncompatibleError,
  StoreLockedError,
  StoreStateError,
  StoreUnreadableError,
  StoreWriteError,
} from './durable-errors.js';
export { dumpJSON, dumpJSONChunks, dumpTables, plainRow, toPlain } from './dump.js';
export {
  alignLine,
  cellsFromJSON,
  escapeCell,
  formatRows,
  OUTPUT_FORMATS,
  renderJSON,
  renderTable,
  renderYAML,
  selectColumns,
  tableCells,
  UnknownColumnError,
} from './format.js';
export type { Cells, FormatOptions, OutputFormat } from './format.js';
export { observeChanges, observeQuery } from './rx.js';
export type { ObserveQueryOptions, QueryResult } from './rx.js';
export { prometheusMetrics } from './metrics-prometheus.js';
export type { PrometheusMetricsOptions } from './metrics-prometheus.js';
