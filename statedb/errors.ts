// Typed errors. Every error names the table (and index, key or holder) it is
// about, so a log line alone says what failed. `instanceof` works on each.

/** Base class of every statedb error. */
export class StateDBError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A table or index definition is invalid. The subclasses say which rule failed. */
export class InvalidSchemaError extends StateDBError {}

/** A table name does not match ^[a-z][a-z0-9_-]{0,30}$. */
export class InvalidTableNameError extends InvalidSchemaError {}

/** An index name is empty. */
export class EmptyIndexNameError extends InvalidSchemaError {}

/** An index name starts with "__" (reserved for internal indexes). */
export class ReservedIndexNameError extends InvalidSchemaError {}

/** Two indexes of one table share a name. */
export class DuplicateIndexError extends InvalidSchemaError {}

/** The primary index is not a unique single-key index. */
export class PrimaryIndexNotUniqueError extends InvalidSchemaError {}

/** A table name is already registered in this DB. */
export class DuplicateTableError extends StateDBError {
  constructor(readonly table: string) {
    super(`table "${table}": a table with this name already exists`);
  }
}

/** The table belongs to another DB, or the query to another table. */
export class TableNotRegisteredError extends StateDBError {}

/** The write transaction has already been committed or aborted. */
export class TransactionClosedError extends StateDBError {
  constructor(readonly table: string | undefined, readonly state: 'committed' | 'aborted') {
    super(`${table === undefined ? '' : `table "${table}": `}write transaction already ${state}`);
  }
}

/** A write to a table the transaction did not lock. */
export class TableNotLockedError extends StateDBError {
  constructor(readonly table: string) {
    super(`table "${table}": not locked for writing by this transaction`);
  }
}

/** A write transaction asked for a table another open write transaction holds. */
export class TableLockedError extends StateDBError {
  constructor(
    readonly table: string,
    readonly holder: string,
  ) {
    super(`table "${table}" is already locked for writing by ${holder}; commit or abort that transaction first`);
  }
}

/** compareAndSwap/compareAndDelete found the object at another revision. `current` is the stored one. */
export class RevisionNotEqualError<T = unknown> extends StateDBError {
  constructor(
    readonly table: string,
    readonly expected: number,
    readonly current: { object: T; revision: number },
  ) {
    super(`table "${table}": revision not equal (expected ${expected}, current ${current.revision})`);
  }
}

/** compareAndSwap found no object with that primary key. */
export class ObjectNotFoundError extends StateDBError {
  constructor(
    readonly table: string,
    readonly key: string,
  ) {
    super(`table "${table}": object not found (primary key ${key})`);
  }
}

/** A second object claimed a key of a unique index. The transaction is left as before the call. */
export class UniqueConstraintError<T = unknown> extends StateDBError {
  constructor(
    readonly table: string,
    readonly index: string,
    readonly key: string,
    readonly existing: T,
  ) {
    super(`table "${table}": unique index "${index}" already holds key ${key} for another object`);
  }
}

/** The very object stored was inserted again: it was probably mutated in place. */
export class SameObjectError extends StateDBError {
  constructor(readonly table: string) {
    super(
      `table "${table}": the very same object reference is already stored; ` +
        'stored objects are immutable, insert a modified copy instead',
    );
  }
}

/** An index was used in a way it does not support (e.g. an LPM index as primary). */
export class UnsupportedIndexOperationError extends StateDBError {}

/** A key string given to an index parser (CLI/HTTP) is malformed. */
export class KeyParseError extends StateDBError {}

/** Validation mode found a broken invariant after a commit. */
export class ValidationError extends StateDBError {}

/** An initializer name was registered twice while pending, or marked done in another table. */
export class InitializerError extends StateDBError {}
