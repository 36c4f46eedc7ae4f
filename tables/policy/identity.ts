// Security identities: one number per distinct label set, which the
// datapath compares instead of labels. Reserved identities are constants;
// pod identities come from a global range, CIDR identities from a
// node-local range marked by bit 24 (as Cilium does), so the two can never
// collide and a CIDR identity is recognisable by its value alone.
import type { Labels } from '../labels.js';
import { canonicalPrefix, parsePrefix } from '../net/prefix.js';

/**
 * Reserved identities (Cilium's numbers). host: this node; world: any
 * address nothing more specific claims; unmanaged: local pods not managed
 * by us; health: the health-check endpoint; init: endpoints whose labels are
 * not yet known; remote-node: other nodes of the cluster.
 */
export const ReservedIdentity = {
  Unknown: 0,
  Host: 1,
  World: 2,
  Unmanaged: 3,
  Health: 4,
  Init: 5,
  RemoteNode: 6,
} as const;

export const POD_IDENTITY_MIN = 256;
export const POD_IDENTITY_MAX = 65535;
/** Bit 24 marks node-local identities (CIDR identities live there). */
export const LOCAL_IDENTITY_FLAG = 1 << 24;
export const CIDR_IDENTITY_MIN = LOCAL_IDENTITY_FLAG | 1;
export const CIDR_IDENTITY_MAX = LOCAL_IDENTITY_FLAG | 0xffffff;

/** The label the identity of a pod carries for its namespace. */
export const NAMESPACE_IDENTITY_LABEL = 'k8s:io.kubernetes.pod.namespace';
/** Prefix of the labels the identity of a pod carries for its namespace's labels. */
export const NAMESPACE_LABELS_IDENTITY_PREFIX = 'k8s:io.cilium.k8s.namespace.labels.';

export type IdentityKind = 'pod' | 'cidr';

/** One allocation; the list of them is what a durable table persists. */
export interface IdentityAllocation {
  readonly id: number;
  readonly kind: IdentityKind;
  /** Canonical label string: sorted `key=value` joined by ','; `cidr:<prefix>` for CIDRs. */
  readonly labels: string;
}

/** No free identity left in a range. */
export class IdentityExhaustedError extends Error {
  override readonly name = 'IdentityExhaustedError';
  constructor(readonly kind: IdentityKind) {
    super(`no free ${kind} identity left`);
  }
}

/** Canonical label string: sorted by key, `key=value` joined by ','. */
export function canonicalLabels(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/**
 * The labels a pod's identity is made of: its own labels under `k8s:`, its
 * namespace, and its namespace's labels. Namespace membership and namespace
 * labels must be part of the identity, or a namespaceSelector could not
 * tell two pods with the same labels in different namespaces apart.
 */
export function endpointIdentityLabels(namespace: string, podLabels: Labels, namespaceLabels: Labels = {}): Labels {
  const out: Record<string, string> = { [NAMESPACE_IDENTITY_LABEL]: namespace };
  for (const [k, v] of Object.entries(podLabels)) out[`k8s:${k}`] = v;
  for (const [k, v] of Object.entries(namespaceLabels)) out[`${NAMESPACE_LABELS_IDENTITY_PREFIX}${k}`] = v;
  return out;
}

interface Slot {
  readonly allocation: IdentityAllocation;
  refs: number;
  /** Restored from a previous run and not claimed by acquire since. */
  restored: boolean;
}

/** Result of restoring a list of previous allocations. */
export interface RestoreReport {
  readonly restored: number;
  /** Entries that were not restored, with the reason (out of range, duplicate id or labels). */
  readonly rejected: readonly { readonly allocation: IdentityAllocation; readonly reason: string }[];
}

/**
 * Allocates identities: the same label set always gets the same identity
 * while it is referenced or restored. New identities are taken upward from
 * a cursor that wraps once, so a released number is not handed to another
 * label set right away (stale ipcache or policy entries may still name it).
 */
export class IdentityAllocator {
  private readonly byLabels = new Map<string, Slot>();
  private readonly byId = new Map<number, Slot>();
  private nextPod = POD_IDENTITY_MIN;
  private nextCidr = CIDR_IDENTITY_MIN;

  /**
   * Re-creates previous allocations (e.g. from a durable table) so that
   * identities survive restarts. Restored entries hold no reference: claim
   * them with acquire, then drop the rest with releaseUnclaimedRestored.
   * Invalid or conflicting entries are skipped and reported; never throws.
   */
  restore(allocations: Iterable<IdentityAllocation>): RestoreReport {
    let restored = 0;
    const rejected: { allocation: IdentityAllocation; reason: string }[] = [];
    for (const a of allocations) {
      const reason = this.restoreProblem(a);
      if (reason !== undefined) {
        rejected.push({ allocation: a, reason });
        continue;
      }
      const slot: Slot = { allocation: { id: a.id, kind: a.kind, labels: a.labels }, refs: 0, restored: true };
      this.byLabels.set(a.labels, slot);
      this.byId.set(a.id, slot);
      if (a.kind === 'pod') this.nextPod = Math.max(this.nextPod, a.id + 1);
      else this.nextCidr = Math.max(this.nextCidr, a.id + 1);
      restored++;
    }
    return { restored, rejected };
  }

  private restoreProblem(a: IdentityAllocation): string | undefined {
    const [min, max] = a.kind === 'pod' ? [POD_IDENTITY_MIN, POD_IDENTITY_MAX] : [CIDR_IDENTITY_MIN, CIDR_IDENTITY_MAX];
    if (a.kind !== 'pod' && a.kind !== 'cidr') return `unknown kind ${String(a.kind)}`;
    if (!Number.isInteger(a.id) || a.id < min || a.id > max) return `id ${a.id} is outside the ${a.kind} range ${min}..${max}`;
    if (typeof a.labels !== 'string') return 'labels must be a canonical label string';
    if (this.byId.has(a.id)) return `id ${a.id} is already allocated`;
    if (this.byLabels.has(a.labels)) return `labels ${a.labels} already have an identity`;
    return undefined;
  }

  /** Takes a reference on the identity of a pod label set, allocating it if new. Throws IdentityExhaustedError. */
  acquire(labels: Labels): IdentityAllocation {
    return this.acquireKey(canonicalLabels(labels), 'pod');
  }

  /**
   * Takes a reference on the identity of a CIDR prefix. `/0` prefixes are
   * the world: they return the reserved World identity and hold nothing.
   * Throws InvalidAddressError on a bad prefix, IdentityExhaustedError.
   */
  acquireCIDR(prefix: string): IdentityAllocation {
    const parsed = parsePrefix(prefix);
    if (parsed.bits === 0) return { id: ReservedIdentity.World, kind: 'cidr', labels: 'reserved:world' };
    return this.acquireKey(`cidr:${canonicalPrefix(prefix)}`, 'cidr');
  }

  private acquireKey(key: string, kind: IdentityKind): IdentityAllocation {
    const existing = this.byLabels.get(key);
    if (existing !== undefined) {
      existing.refs++;
      existing.restored = false;
      return existing.allocation;
    }
    const id = this.freeId(kind);
    const slot: Slot = { allocation: { id, kind, labels: key }, refs: 1, restored: false };
    this.byLabels.set(key, slot);
    this.byId.set(id, slot);
    return slot.allocation;
  }

  private freeId(kind: IdentityKind): number {
    const [min, max] = kind === 'pod' ? [POD_IDENTITY_MIN, POD_IDENTITY_MAX] : [CIDR_IDENTITY_MIN, CIDR_IDENTITY_MAX];
    let candidate = kind === 'pod' ? this.nextPod : this.nextCidr;
    for (let tried = 0; tried <= max - min; tried++) {
      if (candidate > max) candidate = min;
      if (!this.byId.has(candidate)) {
        if (kind === 'pod') this.nextPod = candidate + 1;
        else this.nextCidr = candidate + 1;
        return candidate;
      }
      candidate++;
    }
    throw new IdentityExhaustedError(kind);
  }

  /**
   * Drops one reference; the identity is freed when none remain. Returns
   * the references left, or -1 for an unknown or reserved id (a no-op).
   */
  release(id: number): number {
    const slot = this.byId.get(id);
    if (slot === undefined || slot.refs === 0) return -1;
    slot.refs--;
    if (slot.refs === 0) {
      this.byId.delete(id);
      this.byLabels.delete(slot.allocation.labels);
    }
    return slot.refs;
  }

  /** Frees restored identities nobody acquired since restore; returns them. Idempotent. */
  releaseUnclaimedRestored(): IdentityAllocation[] {
    const dropped: IdentityAllocation[] = [];
    for (const slot of [...this.byId.values()]) {
      if (!slot.restored) continue;
      this.byId.delete(slot.allocation.id);
      this.byLabels.delete(slot.allocation.labels);
      dropped.push(slot.allocation);
    }
    return dropped.sort((a, b) => a.id - b.id);
  }

  /** The identity of a pod label set, if allocated. */
  lookup(labels: Labels): IdentityAllocation | undefined {
    return this.byLabels.get(canonicalLabels(labels))?.allocation;
  }

  /** The allocation with this id, if any. */
  lookupId(id: number): IdentityAllocation | undefined {
    return this.byId.get(id)?.allocation;
  }

  /** References held on an id (0 for restored-only or unknown). */
  references(id: number): number {
    return this.byId.get(id)?.refs ?? 0;
  }

  /** Every allocation (restored ones included), by id: what to persist. */
  allocations(): IdentityAllocation[] {
    return [...this.byId.values()].map((s) => s.allocation).sort((a, b) => a.id - b.id);
  }
}
