// PolicyWriter as an ObjectSink: Pods, Namespaces and NetworkPolicies of a
// source's batch in one write transaction. The writer reports errors per
// object name, so they are matched back to the changes here. A
// NetworkPolicy that fails validation is stored (it enforces nothing) and
// also reported as rejected, so the source logs it and `--once` fails.
import type { PolicyObjectChange, PolicyObjectKind, PolicyWriter } from '../../tables/index.js';
import type { ApplyResult, InitializerHandle, KubeChange, KubeKind, ObjectApplyError, ObjectSink } from '../sources/index.js';

/** A NetworkPolicy stored with a validation error: it enforces nothing until fixed. */
export class InvalidPolicyError extends Error {
  override readonly name = 'InvalidPolicyError';
}

const POLICY_KINDS: readonly PolicyObjectKind[] = ['Pod', 'Namespace', 'NetworkPolicy'];

function nameOf(change: KubeChange): string {
  const meta = change.object.metadata;
  const name = meta?.name ?? '<unnamed>';
  return meta?.namespace ? `${meta.namespace}/${name}` : name;
}

function toPolicyChange(change: KubeChange): PolicyObjectChange | undefined {
  const op = change.type;
  switch (change.kind) {
    case 'Pod':
      return { kind: 'Pod', op, object: change.object };
    case 'Namespace':
      return { kind: 'Namespace', op, object: change.object };
    case 'NetworkPolicy':
      return { kind: 'NetworkPolicy', op, object: change.object };
    default:
      return undefined;
  }
}

export class PolicySink implements ObjectSink {
  /** `policyError` gives the stored validation error of a policy row, for the message. */
  constructor(
    private readonly writer: PolicyWriter,
    private readonly policyError: (name: string) => string | undefined = () => undefined,
  ) {}

  /** See ObjectSink.apply. Throws only what the writer throws (nothing applied). */
  apply(changes: readonly KubeChange[]): ApplyResult {
    const converted: PolicyObjectChange[] = [];
    const byKey = new Map<string, KubeChange>();
    const errors: ObjectApplyError[] = [];
    for (const change of changes) {
      const pc = toPolicyChange(change);
      if (pc === undefined) {
        errors.push({ change, error: new Error(`the policy writer does not handle ${change.kind} objects`) });
        continue;
      }
      converted.push(pc);
      byKey.set(`${change.kind} ${nameOf(change)}`, change);
    }
    const report = this.writer.apply(converted);
    for (const err of report.errors) {
      const change = byKey.get(`${err.kind} ${err.object}`) ?? changes.find((c) => c.kind === err.kind);
      if (change !== undefined) errors.push({ change, error: err });
    }
    for (const name of report.invalidPolicies) {
      const change = byKey.get(`NetworkPolicy ${name}`);
      if (change !== undefined) errors.push({ change, error: new InvalidPolicyError(`${this.policyError(name) ?? `NetworkPolicy ${name} is invalid`} (it enforces nothing)`) });
    }
    return { errors };
  }

  /** One initializer per input table of the kinds (endpoints, namespaces, policies). */
  registerInitializer(sourceName: string, kinds: readonly KubeKind[]): InitializerHandle {
    const done = POLICY_KINDS.filter((k) => kinds.includes(k)).map((k) => this.writer.registerInitializer(k, sourceName));
    return { markDone: () => done.forEach((d) => d()) };
  }
}
