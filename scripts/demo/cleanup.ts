// Everything the demo creates is registered here as it is created, and
// removed in reverse order by one synchronous pass: the same pass runs at
// the end of the demo, when a step fails, and from the SIGINT/SIGTERM
// handlers (synchronous, so an interrupted demo is cleaned up before the
// process exits, and a second Ctrl-C cannot cut it short).

export class Cleanup {
  private readonly steps: { what: string; undo: () => void }[] = [];
  private done = false;

  /** Registers how to undo something just created. */
  add(what: string, undo: () => void): void {
    this.steps.push({ what, undo });
  }

  /** Undoes everything, newest first; a failing step is reported and the rest still run. Idempotent. Returns the failures. */
  runAll(): string[] {
    if (this.done) return [];
    this.done = true;
    const failures: string[] = [];
    for (const step of this.steps.reverse()) {
      try {
        step.undo();
      } catch (e) {
        failures.push(`${step.what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return failures;
  }
}
