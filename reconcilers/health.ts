// The reconciler's health as a value: ok, or degraded with the counts and
// the latest errors, in the form the agent shows and logs.

export type HealthLevel = 'ok' | 'degraded' | 'stopped';

export interface Health {
  readonly level: HealthLevel;
  /** "OK, 3 object(s)" or "Degraded: 2 error(s): update "a": boom; prune: disk full". */
  readonly message: string;
  /** Objects in the table as of the last round. */
  readonly objects: number;
  /** Current errors: objects waiting for a retry, plus 1 while the last prune failed. */
  readonly errorCount: number;
  /** The first MAX_REPORTED_ERRORS errors ("<op> <key>: <message>", "prune: <message>"). */
  readonly errors: readonly string[];
  /** How many further errors are not listed. */
  readonly omittedErrors: number;
  /** When this health was computed (clock ms). */
  readonly updatedAt: number;
}

export const MAX_REPORTED_ERRORS = 10;

/** Builds a Health from the current error descriptions (in a stable order). */
export function makeHealth(objects: number, errors: readonly string[], errorCount: number, now: number): Health {
  if (errorCount === 0) {
    return { level: 'ok', message: `OK, ${objects} object(s)`, objects, errorCount, errors: [], omittedErrors: 0, updatedAt: now };
  }
  const listed = errors.slice(0, MAX_REPORTED_ERRORS);
  const omitted = errorCount - listed.length;
  const more = omitted > 0 ? `; ${omitted} further error(s) omitted` : '';
  return {
    level: 'degraded',
    message: `Degraded: ${errorCount} error(s): ${listed.join('; ')}${more}`,
    objects,
    errorCount,
    errors: listed,
    omittedErrors: omitted,
    updatedAt: now,
  };
}

export function stoppedHealth(objects: number, now: number): Health {
  return { level: 'stopped', message: 'Stopped', objects, errorCount: 0, errors: [], omittedErrors: 0, updatedAt: now };
}

/** Two healths say the same thing (ignoring when they were computed). */
export function sameHealth(a: Health, b: Health): boolean {
  return a.level === b.level && a.message === b.message && a.objects === b.objects;
}
