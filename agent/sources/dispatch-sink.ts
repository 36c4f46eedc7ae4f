// Routes each kind to the sink that owns it: the agent sends Services and
// EndpointSlices to the load-balancing writer, Pods, Namespaces and
// NetworkPolicies to the policy writer, Nodes to the node-address writer.
// Each target applies its part of a batch in its own transaction; targets
// are called in the order their kinds first appear in the batch.
import { describeRef, KUBE_KINDS, refOf, type KubeKind } from './kinds.js';
import type { ApplyResult, KubeChange, ObjectApplyError, ObjectSink } from './sink.js';

export type SinkRoutes = Partial<Record<KubeKind, ObjectSink>>;

export interface DispatchSinkOptions {
  /**
   * What to do with a change of a kind no route handles: `report` (default)
   * returns it as a per-object UnroutedKindError; `ignore` drops it.
   */
  readonly unrouted?: 'report' | 'ignore';
}

/** A change of a kind that no target sink handles. */
export class UnroutedKindError extends Error {
  override readonly name = 'UnroutedKindError';
  constructor(readonly change: KubeChange) {
    super(`no sink handles ${change.kind} (${describeRef(refOf(change.kind, change.object))})`);
  }
}

/** One or more target sinks threw; the others applied their part. */
export class DispatchError extends Error {
  override readonly name = 'DispatchError';
  constructor(readonly failures: readonly { kinds: readonly KubeKind[]; error: unknown }[]) {
    super(
      failures
        .map((f) => `sink for ${f.kinds.join('/')}: ${f.error instanceof Error ? f.error.message : String(f.error)}`)
        .join('; '),
    );
  }
}

export class DispatchSink implements ObjectSink {
  private readonly unrouted: 'report' | 'ignore';

  constructor(
    private readonly routes: SinkRoutes,
    opts: DispatchSinkOptions = {},
  ) {
    this.unrouted = opts.unrouted ?? 'report';
  }

  /** The kinds some target handles, in KUBE_KINDS order (what a source should read). */
  get kinds(): KubeKind[] {
    return KUBE_KINDS.filter((k) => this.routes[k] !== undefined);
  }

  /**
   * Splits the batch per target and applies each part. Per-object errors of
   * all targets are returned together. If a target throws, the others still
   * apply and a DispatchError is thrown afterwards, so the source retries the
   * whole batch (targets are idempotent, see ObjectSink.apply).
   */
  async apply(changes: readonly KubeChange[]): Promise<ApplyResult> {
    const parts = new Map<ObjectSink, KubeChange[]>();
    const errors: ObjectApplyError[] = [];
    for (const change of changes) {
      const target = this.routes[change.kind];
      if (target === undefined) {
        if (this.unrouted === 'report') errors.push({ change, error: new UnroutedKindError(change) });
        continue;
      }
      let part = parts.get(target);
      if (part === undefined) parts.set(target, (part = []));
      part.push(change);
    }
    const failures: { kinds: KubeKind[]; error: unknown }[] = [];
    for (const [target, part] of parts) {
      try {
        errors.push(...(await target.apply(part)).errors);
      } catch (error) {
        failures.push({ kinds: [...new Set(part.map((c) => c.kind))], error });
      }
    }
    if (failures.length > 0) throw new DispatchError(failures);
    return { errors };
  }

  /**
   * Registers the initializer with every distinct target handling one of
   * `kinds` (a target serving several kinds registers once, with those
   * kinds). markDone completes them all; retried after a failure, it calls
   * only the targets not yet done.
   */
  registerInitializer(sourceName: string, kinds: readonly KubeKind[]): { markDone(): Promise<void> } {
    const byTarget = new Map<ObjectSink, KubeKind[]>();
    for (const kind of kinds) {
      const target = this.routes[kind];
      if (target === undefined) continue;
      const list = byTarget.get(target);
      if (list === undefined) byTarget.set(target, [kind]);
      else list.push(kind);
    }
    const pending = [...byTarget].map(([target, ks]) => ({ ks, handle: target.registerInitializer(sourceName, ks) }));
    return {
      markDone: async () => {
        const failures: { kinds: KubeKind[]; error: unknown }[] = [];
        for (const p of [...pending]) {
          try {
            await p.handle.markDone();
            pending.splice(pending.indexOf(p), 1);
          } catch (error) {
            failures.push({ kinds: p.ks, error });
          }
        }
        if (failures.length > 0) throw new DispatchError(failures);
      },
    };
  }
}
