// Runs the policy controller's steps: one now, then one whenever an input
// table changes or becomes initialized. The controller has its own loop;
// the agent drives the steps itself so it knows whether the last step
// failed (health) and can ask for a step and see whether anything was left
// to do (convergence for --once).
import { waitAny, WaitAbortedError, type DB, type Watch } from '../../statedb/index.js';
import type { PolicyController, PolicyStepReport, PolicyTables } from '../../tables/index.js';
import type { Logger } from '../observability/index.js';

export class PolicyDriver {
  private readonly abort = new AbortController();
  private loopDone: Promise<void> | undefined;
  private lastError: { message: string; at: string } | undefined;
  private steps = 0;
  private failures = 0;

  constructor(
    private readonly db: DB,
    private readonly tables: PolicyTables,
    private readonly controller: PolicyController,
    private readonly logger: Logger,
    private readonly retryMs = 1000,
  ) {}

  start(): void {
    this.loopDone ??= this.loop().catch((err: unknown) => {
      const message = `the policy loop stopped: ${err instanceof Error ? err.message : String(err)}`;
      this.lastError = { message, at: new Date().toISOString() };
      this.logger.error({ err: message }, 'policy loop failed');
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loopDone;
  }

  /** Runs one step now (synchronously): its report, or the error (recorded for health). */
  step(): PolicyStepReport | Error {
    try {
      const report = this.controller.step();
      this.steps++;
      this.lastError = undefined;
      return report;
    } catch (err) {
      this.failures++;
      const error = err instanceof Error ? err : new Error(String(err));
      this.lastError = { message: error.message, at: new Date().toISOString() };
      this.logger.error({ err: error.message }, 'policy computation failed; retrying with a full recompute');
      return error;
    }
  }

  /** The state for status and health. */
  state(): { steps: number; failures: number; lastError: { message: string; at: string } | undefined } {
    return { steps: this.steps, failures: this.failures, lastError: this.lastError };
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const result = this.step();
      const watches = result instanceof Error ? [] : this.inputWatches();
      try {
        if (result instanceof Error) await waitAny([], AbortSignal.any([signal, AbortSignal.timeout(this.retryMs)]));
        else await waitAny(watches, signal);
      } catch (err) {
        if (!(err instanceof WaitAbortedError)) throw err;
        if (signal.aborted) return;
      }
      // Let commits of the same tick land in one step.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private inputWatches(): Watch[] {
    const t = this.tables;
    const txn = this.db.readTxn();
    const inputs = [t.endpoints, t.namespaces, t.policies] as const;
    const watches: Watch[] = inputs.map((table) => table.allWatch(txn).watch);
    for (const table of inputs) {
      const init = table.initialized(txn);
      if (!init.initialized) watches.push(init.watch);
    }
    return watches;
  }
}
