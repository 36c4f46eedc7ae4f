// Public API of flagella/reconcilers. Nothing outside this folder imports its internals.
export { Reconciler } from './reconciler.js';
export type { Rate, ReconcilerConfig, ReconcilerLogger, RetryConfig, TableOf } from './config.js';
export { DEFAULTS as RECONCILER_DEFAULTS } from './config.js';
export type { BatchEntry, BatchOperations, MaybePromise, Operations } from './operations.js';
export { isThenable } from './operations.js';
export { errorMessage, formatDuration, Status } from './status.js';
export type { StatusJSON, StatusKind } from './status.js';
export { StatusSet } from './status-set.js';
export { statusProperty, statusSetProperty } from './status-accessor.js';
export type { StatusAccessor } from './status-accessor.js';
export type { Progress } from './progress.js';
export type { Health, HealthLevel } from './health.js';
export { MAX_REPORTED_ERRORS } from './health.js';
export { backoffDelay } from './backoff.js';
export { settle, SystemClock, systemClock, TestClock } from './clock.js';
export type { Clock, ClockTimer, TimerOptions } from './clock.js';
export { seededRandom } from './random.js';
export { ReconcilerConfigError, ReconcilerError, ReconcilerStoppedError } from './errors.js';
