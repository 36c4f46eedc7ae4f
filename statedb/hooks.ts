// Seams for what is built on top of the core: a commit hook (durable
// tables write each commit's changed rows in one LMDB transaction) and a
// metrics sink (prom-client, logs). Both cost nothing when unused.
import type { Entry } from './entry.js';

/** One table's share of a commit, as passed to commit hooks. */
export interface CommittedTable {
  /** The table (typed as unknown rows: hooks are table-agnostic). */
  readonly table: { readonly name: string; readonly durable: boolean };
  /** The table revision after the commit. */
  readonly revision: number;
  /** The final version of every row inserted or updated by the commit, in revision order (computed on first use). */
  readonly upserted: readonly Entry<unknown>[];
  /** Rows deleted by the commit (final state: deleted), with their delete revisions. */
  readonly deleted: readonly Entry<unknown>[];
  /** True when the rows came from `restore` (a durable layer need not write them back). */
  readonly restored: boolean;
}

/** What a commit hook receives. Called synchronously after the commit is visible and watches closed. */
export interface CommitEvent {
  readonly tables: readonly CommittedTable[];
}

/**
 * Called after every commit that changed at least one table. A throwing hook
 * does not undo the commit (it is already visible); the error propagates to
 * the committer after all hooks ran.
 */
export type CommitHook = (event: CommitEvent) => void;

/**
 * Called inside every commit that changed at least one table, before the new
 * state becomes visible (the durable layer writes the commit to disk here).
 * A throwing hook aborts the commit: nothing becomes visible, no watch
 * closes, no revision moves, the locks are released and the error reaches
 * the committer. Hooks run in registration order and the first failure stops
 * the rest: register at most one hook with side effects to undo.
 */
export type PrepareCommitHook = (event: CommitEvent) => void;

/** Called by DB.newTable before a table is registered; throwing refuses the table. */
export type NewTableHook = (table: { readonly name: string; readonly durable: boolean }) => void;

/** Per-table figures reported after each commit that changed the table. */
export interface TableFigures {
  readonly table: string;
  readonly objects: number;
  readonly revision: number;
  /** Deleted objects kept for change iterators that have not seen them yet. */
  readonly graveyard: number;
  readonly deleteTrackers: number;
}

/** A metrics sink. Every method is optional in effect: the default does nothing. */
export interface StateDBMetrics {
  /** One committed write transaction: tables it locked, ms from open to end of commit. */
  writeTxnCommitted(tables: readonly string[], durationMs: number): void;
  /** Figures of a table changed by a commit. */
  tableFigures(figures: TableFigures): void;
}

export const noopMetrics: StateDBMetrics = {
  writeTxnCommitted() {},
  tableFigures() {},
};
