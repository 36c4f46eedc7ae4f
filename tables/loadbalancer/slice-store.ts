// Which EndpointSlice contributed which backends, so that a service's
// backends are the merge of its slices and a shrunk or deleted slice
// releases exactly what it brought. It lives beside the tables (the rows
// only hold the merged result); changes are staged per write transaction
// and applied only after the transaction committed, so an aborted batch
// leaves nothing behind.
import type { Backend, BackendState } from './backend.js';
import { l3n4AddrKeyString } from './lb-keys.js';

/** What one slice says. */
export interface SliceRecord {
  /** `namespace/service`. */
  readonly serviceName: string;
  readonly backends: readonly Backend[];
}

const STATE_RANK: Record<BackendState, number> = { active: 0, terminating: 1, quarantined: 2, maintenance: 3 };

/** The committed slices, by `namespace/slice-name`, with a per-service index. */
export class SliceStore {
  private readonly slices = new Map<string, SliceRecord>();
  // One slice per service is the common case: a bare name, a Set when more.
  private readonly byService = new Map<string, string | Set<string>>();

  get size(): number {
    return this.slices.size;
  }

  get(sliceName: string): SliceRecord | undefined {
    return this.slices.get(sliceName);
  }

  /** Slice names of a service, sorted. */
  namesOf(serviceName: string): string[] {
    const v = this.byService.get(serviceName);
    if (v === undefined) return [];
    return typeof v === 'string' ? [v] : [...v].sort();
  }

  /** Applies staged changes (null deletes). */
  apply(changes: ReadonlyMap<string, SliceRecord | null>): void {
    for (const [name, record] of changes) {
      const old = this.slices.get(name);
      if (old !== undefined) this.unindex(old.serviceName, name);
      if (record === null) {
        this.slices.delete(name);
      } else {
        this.slices.set(name, record);
        this.index(record.serviceName, name);
      }
    }
  }

  private index(serviceName: string, sliceName: string): void {
    const v = this.byService.get(serviceName);
    if (v === undefined) this.byService.set(serviceName, sliceName);
    else if (typeof v === 'string') {
      if (v !== sliceName) this.byService.set(serviceName, new Set([v, sliceName]));
    } else v.add(sliceName);
  }

  private unindex(serviceName: string, sliceName: string): void {
    const v = this.byService.get(serviceName);
    if (v === undefined) return;
    if (typeof v === 'string') {
      if (v === sliceName) this.byService.delete(serviceName);
      return;
    }
    v.delete(sliceName);
    if (v.size === 1) this.byService.set(serviceName, [...v][0]!);
  }
}

/** A transaction's view of the slices: staged changes over the committed store. */
export class SliceOverlay {
  readonly changes = new Map<string, SliceRecord | null>();
  // Staged slice names per service they now point to, so slicesOf costs
  // the service's slices, not the whole batch.
  private readonly stagedByService = new Map<string, string[]>();

  constructor(private readonly store: SliceStore) {}

  get(sliceName: string): SliceRecord | undefined {
    const staged = this.changes.get(sliceName);
    if (staged !== undefined) return staged ?? undefined;
    return this.store.get(sliceName);
  }

  set(sliceName: string, record: SliceRecord | null): void {
    const before = this.changes.get(sliceName);
    if (before) {
      const names = this.stagedByService.get(before.serviceName);
      const i = names === undefined ? -1 : names.indexOf(sliceName);
      if (i >= 0) names!.splice(i, 1);
    }
    this.changes.set(sliceName, record);
    if (record === null) return;
    const names = this.stagedByService.get(record.serviceName);
    if (names === undefined) this.stagedByService.set(record.serviceName, [sliceName]);
    else if (!names.includes(sliceName)) names.push(sliceName);
  }

  /** The slices of a service as committed (before this transaction), sorted by slice name. */
  committedSlicesOf(serviceName: string): SliceRecord[] {
    const out: SliceRecord[] = [];
    for (const name of this.store.namesOf(serviceName)) out.push(this.store.get(name)!);
    return out;
  }

  /** The slices of a service as this transaction sees them, sorted by slice name. */
  slicesOf(serviceName: string): SliceRecord[] {
    const committed = this.store.namesOf(serviceName);
    const staged = this.stagedByService.get(serviceName);
    const names = staged === undefined || staged.length === 0 ? committed : committed.length === 0 && staged.length === 1 ? staged : [...new Set([...committed, ...staged])].sort();
    const out: SliceRecord[] = [];
    for (const name of names) {
      // A committed slice whose staged record moved it elsewhere (or deleted it) drops out here.
      const record = this.get(name);
      if (record !== undefined && record.serviceName === serviceName) out.push(record);
    }
    return out;
  }
}

/**
 * The service's backends from all its slices: an address listed by several
 * slices appears once, with the best state (ready anywhere means ready) and
 * the union of its port names; the first slice by name gives the rest.
 */
export function mergeSliceBackends(slices: readonly SliceRecord[]): readonly Backend[] {
  if (slices.length === 0) return [];
  if (slices.length === 1) return slices[0]!.backends;
  const merged = new Map<string, Backend>();
  for (const slice of slices) {
    for (const be of slice.backends) {
      const key = l3n4AddrKeyString(be.address);
      const seen = merged.get(key);
      if (seen === undefined) {
        merged.set(key, be);
        continue;
      }
      const portNames = [...new Set([...seen.portNames, ...be.portNames])].sort();
      const better = STATE_RANK[be.state] < STATE_RANK[seen.state] ? be : seen;
      merged.set(key, portNames.length === better.portNames.length ? better : { ...better, portNames });
    }
  }
  return [...merged.values()];
}
