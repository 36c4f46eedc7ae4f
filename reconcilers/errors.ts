// Typed errors of the reconciler engine. Each message says which reconciler
// and what failed.

/** Base class of every reconciler error. */
export class ReconcilerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration value is invalid (the message names the setting and the value). */
export class ReconcilerConfigError extends ReconcilerError {}

/** The reconciler was stopped (or never started) while something waited on it. */
export class ReconcilerStoppedError extends ReconcilerError {}
