// The in-process demo database the CLI reads until the agent exists: two
// small tables shaped like the real ones (services, and frontends with a
// secondary index on their service), a handful of rows, and optional
// activity so `db watch` has changes to show.
import { DB, Keys, nonUniqueIndex, uniqueIndex } from '../../statedb/index.js';
import type { Table } from '../../statedb/index.js';

export interface DemoService {
  /** "namespace/name". */
  readonly name: string;
  readonly namespace: string;
  readonly clusterIP: string;
  readonly ports: readonly { readonly port: number; readonly protocol: 'TCP' | 'UDP' }[];
}

export interface DemoFrontend {
  /** "ip:port/protocol". */
  readonly address: string;
  readonly service: string;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  readonly backends: number;
  readonly status: 'Done' | 'Pending';
}

export interface DemoDatabase {
  readonly db: DB;
  readonly services: Table<DemoService, string>;
  readonly frontends: Table<DemoFrontend, string>;
  /**
   * Changes one frontend every `intervalMs` (update, delete, re-insert, in
   * turn) until the returned function is called. The timer keeps the
   * process alive while it runs.
   */
  startActivity(intervalMs: number): () => void;
}

const SERVICES: DemoService[] = [
  { name: 'default/web', namespace: 'default', clusterIP: '10.96.0.20', ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }] },
  { name: 'kube-system/kube-dns', namespace: 'kube-system', clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] },
  { name: 'shop/checkout', namespace: 'shop', clusterIP: '10.96.0.30', ports: [{ port: 8080, protocol: 'TCP' }] },
];

const FRONTENDS: DemoFrontend[] = [
  { address: '10.96.0.10:53/TCP', service: 'kube-system/kube-dns', type: 'ClusterIP', backends: 2, status: 'Done' },
  { address: '10.96.0.10:53/UDP', service: 'kube-system/kube-dns', type: 'ClusterIP', backends: 2, status: 'Done' },
  { address: '10.96.0.20:443/TCP', service: 'default/web', type: 'ClusterIP', backends: 3, status: 'Done' },
  { address: '10.96.0.20:80/TCP', service: 'default/web', type: 'ClusterIP', backends: 3, status: 'Done' },
  { address: '10.96.0.30:8080/TCP', service: 'shop/checkout', type: 'ClusterIP', backends: 1, status: 'Pending' },
  { address: '192.168.1.10:30080/TCP', service: 'default/web', type: 'NodePort', backends: 3, status: 'Done' },
];

/** Registers the demo tables in `db` (default: a new DB). */
export function demoTables(db = new DB()): Omit<DemoDatabase, 'startActivity'> {
  const services = db.newTable({
    name: 'services',
    primary: uniqueIndex('name', Keys.string, (s: DemoService) => s.name),
    secondary: { namespace: nonUniqueIndex('namespace', Keys.string, (s: DemoService) => s.namespace) },
    header: ['Name', 'ClusterIP', 'Ports'],
    row: (s: DemoService) => [s.name, s.clusterIP, s.ports.map((p) => `${p.port}/${p.protocol}`).join(', ')],
  });
  const frontends = db.newTable({
    name: 'frontends',
    primary: uniqueIndex('address', Keys.string, (f: DemoFrontend) => f.address),
    secondary: { service: nonUniqueIndex('service', Keys.string, (f: DemoFrontend) => f.service) },
    header: ['Address', 'Type', 'Service', 'Backends', 'Status'],
    row: (f: DemoFrontend) => [f.address, f.type, f.service, String(f.backends), f.status],
  });
  return { db, services, frontends };
}

/** The demo database, filled. */
export function createDemoDatabase(): DemoDatabase {
  const { db, services, frontends } = demoTables();
  db.write([services, frontends], (txn) => {
    for (const s of SERVICES) services.insert(txn, s);
    for (const f of FRONTENDS) frontends.insert(txn, f);
  });
  const startActivity = (intervalMs: number): (() => void) => {
    let step = 0;
    const timer = setInterval(() => {
      const f = FRONTENDS[4]!; // the checkout frontend: scales, goes away, comes back
      db.write(frontends, (txn) => {
        const phase = step++ % 3;
        if (phase === 0) frontends.insert(txn, { ...f, backends: 2 + (step % 5), status: 'Done' });
        else if (phase === 1) frontends.delete(txn, f);
        else frontends.insert(txn, { ...f });
      });
    }, intervalMs);
    return () => clearInterval(timer);
  };
  return { db, services, frontends, startActivity };
}
