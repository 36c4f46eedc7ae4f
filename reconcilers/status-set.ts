// Several reconcilers on one table: each keeps its own named status in one
// StatusSet on the row. Marking the row pending marks every reconciler
// pending with one shared id.
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { ReconcilerError } from './errors.js';
import type { StatusJSON } from './status.js';
import { formatDuration, nextStatusId, Status } from './status.js';

/** Immutable; every change returns a new set. */
export class StatusSet {
  private constructor(
    private readonly statuses: ReadonlyMap<string, Status>,
    /** The id of the latest pending marking, shared by its statuses. */
    readonly id: number,
    /** When the set was last marked pending (epoch ms). */
    readonly createdAt: number,
  ) {
    Object.freeze(this);
  }

  /** An empty set: every name reads as pending (a fresh row to reconcile everywhere). */
  static pending(clock: Clock = systemClock): StatusSet {
    return new StatusSet(new Map(), nextStatusId(), clock.now());
  }

  /** Rebuilds a set from its JSON form ({name: status}). Throws ReconcilerError on a malformed value. */
  static fromJSON(json: unknown, clock: Clock = systemClock): StatusSet {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new ReconcilerError('status set: expected an object of named statuses');
    }
    const map = new Map<string, Status>();
    let id = 0;
    for (const [name, value] of Object.entries(json)) {
      const s = Status.fromJSON(value);
      map.set(name, s);
      if (s.kind === 'pending' && s.id !== 0) id = s.id;
    }
    return new StatusSet(map, id === 0 ? nextStatusId() : id, clock.now());
  }

  /** A copy with every known status pending under one fresh id: "reconcile this new version everywhere". */
  markPending(clock: Clock = systemClock): StatusSet {
    const id = nextStatusId();
    const now = clock.now();
    const next = new Map<string, Status>();
    for (const name of this.statuses.keys()) next.set(name, Status.pending(clock, id));
    return new StatusSet(next, id, now);
  }

  /** The status of reconciler `name`; an unknown name reads as pending with the set's id. */
  get(name: string): Status {
    return this.statuses.get(name) ?? Status.make('pending', this.createdAt, undefined, this.id);
  }

  /** A copy with `name` set to status. */
  set(name: string, status: Status): StatusSet {
    const next = new Map(this.statuses);
    next.set(name, status);
    return new StatusSet(next, this.id, this.createdAt);
  }

  /** Names with an explicit status, in insertion order. */
  names(): string[] {
    return [...this.statuses.keys()];
  }

  /** "Errored: b (boom), Pending: c, Done: a (3s ago)": groups by kind, names sorted. */
  format(now: number = systemClock.now()): string {
    const groups: [string, string[]][] = [
      ['Errored', []],
      ['Pending', []],
      ['Refreshing', []],
      ['Done', []],
    ];
    const byKind = { error: 0, pending: 1, refreshing: 2, done: 3 } as const;
    for (const name of [...this.statuses.keys()].sort()) {
      const s = this.statuses.get(name)!;
      const label =
        s.kind === 'error'
          ? `${name} (${s.error ?? 'unknown error'})`
          : s.kind === 'done'
            ? `${name} (${formatDuration(now - s.updatedAt)} ago)`
            : name;
      groups[byKind[s.kind]]![1].push(label);
    }
    const parts = groups.filter(([, names]) => names.length > 0).map(([k, names]) => `${k}: ${names.join(', ')}`);
    return parts.length === 0 ? 'Pending' : parts.join(', ');
  }

  toString(): string {
    return this.format();
  }

  toJSON(): Record<string, StatusJSON> {
    const out: Record<string, StatusJSON> = {};
    for (const [name, s] of this.statuses) out[name] = s.toJSON();
    return out;
  }
}
