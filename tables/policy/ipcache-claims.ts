// Who claims each ipcache prefix, and who wins. A prefix can be claimed by
// this node (host addresses), by pods (their IPs; two pods can briefly
// share an IP while one is being replaced) and by a CIDR a policy uses. The
// most specific claim wins: host, then a local pod, then a remote pod (the
// smallest id among equals, so the choice is stable), then the CIDR.
import type { IpcacheSource } from './policy-tables.js';

export interface IpcacheClaim {
  readonly identity: number;
  readonly source: IpcacheSource;
  /** Endpoint id for pods, '' otherwise. */
  readonly owner: string;
  /** Pods: on this node. */
  readonly local: boolean;
}

const SOURCE_RANK: Record<IpcacheSource, number> = { host: 0, endpoint: 1, cidr: 2 };

function better(a: IpcacheClaim, b: IpcacheClaim): boolean {
  const ra = SOURCE_RANK[a.source];
  const rb = SOURCE_RANK[b.source];
  if (ra !== rb) return ra < rb;
  if (a.local !== b.local) return a.local;
  return a.owner < b.owner;
}

/** Claims per prefix, keyed by claimant (`endpoint:<id>`, `cidr`, `host`). */
export class IpcacheClaims {
  private readonly byPrefix = new Map<string, Map<string, IpcacheClaim>>();

  /** Sets (or replaces) a claimant's claim on a prefix. */
  set(prefix: string, claimant: string, claim: IpcacheClaim): void {
    let claims = this.byPrefix.get(prefix);
    if (claims === undefined) {
      claims = new Map();
      this.byPrefix.set(prefix, claims);
    }
    claims.set(claimant, claim);
  }

  /** Drops a claimant's claim; a no-op when it has none. */
  remove(prefix: string, claimant: string): void {
    const claims = this.byPrefix.get(prefix);
    if (claims === undefined) return;
    claims.delete(claimant);
    if (claims.size === 0) this.byPrefix.delete(prefix);
  }

  /** The winning claim on a prefix, or undefined when nobody claims it. */
  winner(prefix: string): IpcacheClaim | undefined {
    let best: IpcacheClaim | undefined;
    for (const claim of this.byPrefix.get(prefix)?.values() ?? []) {
      if (best === undefined || better(claim, best)) best = claim;
    }
    return best;
  }

  /** Every claimed prefix. */
  prefixes(): IterableIterator<string> {
    return this.byPrefix.keys();
  }
}
