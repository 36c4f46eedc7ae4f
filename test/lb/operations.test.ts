// LBOperations against recorded in-memory maps: the reference write order,
// compare-before-write, convergence after a failure at any point, delete,
// prune, Maglev tables that agree across nodes, and the IPv6 no-op.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatLBDump,
  InjectedFaultError,
  LBOperations,
  memoryLBMaps,
  type LBMap,
  type LBMaps,
} from '../../datapath/index.js';
import { DB } from '../../statedb/index.js';
import { LBWriter, newLBTables, parseL3n4Addr, type Frontend, type LBObjectChange } from '../../tables/index.js';

/** Maps that log every write as `<map> put|delete <key>` and can fail the n-th write. */
function recordingMaps(inner: LBMaps) {
  const log: string[] = [];
  const state = { failAt: -1, count: 0 };
  const wrap = <K, V>(m: LBMap<K, V>, short: string): LBMap<K, V> => ({
    name: m.name,
    get: (k) => m.get(k),
    put: (k, v) => {
      if (state.count++ === state.failAt) throw new InjectedFaultError(m.name, 'put');
      log.push(`${short} put ${JSON.stringify(k)}`);
      m.put(k, v);
    },
    delete: (k) => {
      if (state.count++ === state.failAt) throw new InjectedFaultError(m.name, 'delete');
      log.push(`${short} delete ${JSON.stringify(k)}`);
      return m.delete(k);
    },
    deleteMany: (ks) => {
      if (state.count++ === state.failAt) throw new InjectedFaultError(m.name, 'delete');
      log.push(`${short} delete ${ks.map((k) => JSON.stringify(k)).join(' ')}`);
      m.deleteMany(ks);
    },
    entries: () => m.entries(),
  });
  const maps: LBMaps = {
    services: wrap(inner.services, 'svc'),
    backends: wrap(inner.backends, 'be'),
    revNat: wrap(inner.revNat, 'rev'),
    affinityMatch: wrap(inner.affinityMatch, 'aff'),
    sourceRange: wrap(inner.sourceRange, 'src'),
    maglev: {
      ...inner.maglev,
      name: inner.maglev.name,
      tableSize: inner.maglev.tableSize,
      get: (id) => inner.maglev.get(id),
      ids: () => inner.maglev.ids(),
      set: (id, t) => {
        if (state.count++ === state.failAt) throw new InjectedFaultError('maglev', 'set');
        log.push(`maglev set ${id}`);
        inner.maglev.set(id, t);
      },
      delete: (id) => {
        if (state.count++ === state.failAt) throw new InjectedFaultError('maglev', 'delete');
        log.push(`maglev delete ${id}`);
        return inner.maglev.delete(id);
      },
    },
  };
  return { maps, log, state };
}

function world(opts: { maglev?: boolean } = {}) {
  const db = new DB();
  const tables = newLBTables(db);
  const writer = new LBWriter(db, tables, { nodeName: 'n1' });
  const raw = memoryLBMaps({ maglevTableSize: 251 });
  const rec = recordingMaps(raw);
  const ops = new LBOperations({ tables, maps: rec.maps, ...(opts.maglev ? { defaultAlgorithm: 'maglev' as const } : {}) });
  const apply = (...changes: LBObjectChange[]) => assert.equal(writer.apply(changes).errors, []);
  const fe = (addr: string): Frontend => tables.frontends.get(db.readTxn(), tables.frontends.primary.query(parseL3n4Addr(addr)))!;
  const update = (addr: string) => ops.update(db.readTxn(), 0, fe(addr));
  return { db, tables, writer, raw, ops, apply, fe, update, ...rec };
}

const service = (name: string, spec: Record<string, unknown>, status?: unknown): LBObjectChange => ({
  type: 'upsert',
  kind: 'Service',
  object: { metadata: { name, namespace: 'd' }, spec, ...(status === undefined ? {} : { status }) },
});
const slice = (name: string, service: string, eps: readonly { ip: string; state?: 'ready' | 'terminating' | 'down' }[]): LBObjectChange => ({
  type: 'upsert',
  kind: 'EndpointSlice',
  object: {
    metadata: { name, namespace: 'd', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ port: 8080 }],
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: e.state === 'terminating' ? { ready: false, serving: true, terminating: true } : e.state === 'down' ? { ready: false } : { ready: true },
    })),
  },
});

const order = suite('write order');

order('backends, then slots, affinity, source ranges, rev-NAT, and the master last', () => {
  const w = world();
  w.apply(
    service(
      'a',
      { type: 'LoadBalancer', clusterIP: '10.96.0.1', sessionAffinity: 'ClientIP', loadBalancerSourceRanges: ['10.0.0.0/8'], ports: [{ port: 80 }] },
      { loadBalancer: { ingress: [{ ip: '172.16.0.1' }] } },
    ),
    slice('a-1', 'a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]),
  );
  w.update('172.16.0.1:80/TCP');
  const kinds = w.log.map((l) => `${l.split(' ')[0]} ${l.split(' ')[1]}${l.includes('"backendSlot":0') ? ' master' : ''}`);
  assert.equal(kinds, ['be put', 'svc put', 'be put', 'svc put', 'aff put', 'aff put', 'src put', 'rev put', 'svc put master']);
});

order('a shrinking set: orphans first, the master, then the trailing slots', () => {
  const w = world();
  w.apply(service('a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }), slice('a-1', 'a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }]));
  w.update('10.96.0.1:80/TCP');
  w.log.length = 0;
  w.apply(slice('a-1', 'a', [{ ip: '10.0.0.1' }]));
  w.update('10.96.0.1:80/TCP');
  assert.equal(
    w.log.map((l) => l.replace(/"address":\d+,/, '')),
    ['be delete 2', 'be delete 3', 'svc put {"dport":80,"backendSlot":0,"proto":6,"scope":0}', 'svc delete {"dport":80,"backendSlot":3,"proto":6,"scope":0}', 'svc delete {"dport":80,"backendSlot":2,"proto":6,"scope":0}'],
  );
});

order('compare before write: an update with nothing changed writes nothing', () => {
  const w = world({ maglev: true });
  w.apply(service('a', { clusterIP: '10.96.0.1', externalIPs: ['198.51.100.1'], sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }), slice('a-1', 'a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]));
  w.update('10.96.0.1:80/TCP');
  w.update('198.51.100.1:80/TCP');
  assert.ok(w.log.includes('maglev set 2'));
  w.log.length = 0;
  w.update('10.96.0.1:80/TCP');
  w.update('198.51.100.1:80/TCP');
  assert.equal(w.log, []);
});
order.run();

const faults = suite('partial failure');

faults('a failure at any write, then retries, ends in the same maps as no failure', () => {
  const script = (w: ReturnType<typeof world>) => [
    () => w.apply(service('a', { clusterIP: '10.96.0.1', externalIPs: ['198.51.100.1'], sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }), slice('a-1', 'a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3', state: 'terminating' }])),
    () => w.apply(slice('a-1', 'a', [{ ip: '10.0.0.2' }, { ip: '10.0.0.4' }, { ip: '10.0.0.3', state: 'down' }])),
    () => w.apply(slice('a-1', 'a', [{ ip: '10.0.0.4' }])),
  ];
  const addrs = ['10.96.0.1:80/TCP', '198.51.100.1:80/TCP'];
  const reference = world({ maglev: true });
  const dumps: string[] = [];
  for (const step of script(reference)) {
    step();
    for (const a of addrs) reference.update(a);
    dumps.push(formatLBDump(reference.raw));
  }
  const total = reference.state.count;
  for (let failAt = 0; failAt < total; failAt++) {
    const w = world({ maglev: true });
    w.state.failAt = failAt;
    script(w).forEach((step, i) => {
      step();
      for (const a of addrs) {
        for (let attempt = 0; ; attempt++) {
          try {
            w.update(a);
            break;
          } catch (err) {
            assert.instance(err, InjectedFaultError);
            assert.ok(attempt < 1, 'one injected failure only');
          }
        }
      }
      assert.is(formatLBDump(w.raw), dumps[i], `failure at write ${failAt}, step ${i}`);
    });
  }
});

faults('delete continues after a failure and frees the IDs; deleting again (or what was never written) succeeds', () => {
  const w = world();
  w.apply(service('a', { clusterIP: '10.96.0.1', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }), slice('a-1', 'a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]));
  const fe = w.fe('10.96.0.1:80/TCP');
  w.ops.update(w.db.readTxn(), 0, fe);
  w.state.failAt = w.state.count + 3;
  assert.throws(() => w.ops.delete(w.db.readTxn(), 0, fe), (e: unknown) => e instanceof InjectedFaultError);
  w.ops.delete(w.db.readTxn(), 0, fe);
  assert.is(formatLBDump(w.raw), '');
  assert.is(w.ops.state.serviceIds.size, 0);
  assert.is(w.ops.state.backendIds.size, 0);
  w.ops.delete(w.db.readTxn(), 0, fe);
  assert.is(w.ops.idOf(fe.address), 0);
});
faults.run();

const prune = suite('prune');

prune('removes entries nothing explains and forgets drift so the next update repairs it', () => {
  const w = world();
  w.apply(service('a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }), slice('a-1', 'a', [{ ip: '10.0.0.1' }]));
  w.update('10.96.0.1:80/TCP');
  const good = formatLBDump(w.raw);
  const svcKey = { address: 0x0a600001, dport: 80, backendSlot: 0, proto: 6, scope: 0 };
  w.raw.services.put({ ...svcKey, dport: 81 }, { backendId: 0, count: 0, revNatIndex: 9, flags: 0, flags2: 0, qcount: 0 });
  w.raw.services.put({ ...svcKey, backendSlot: 5 }, { backendId: 1, count: 0, revNatIndex: 1, flags: 0, flags2: 0, qcount: 0 });
  w.raw.services.put({ ...svcKey, dport: 0, proto: 0 }, { backendId: 0, count: 0, revNatIndex: 0, flags: 0, flags2: 0, qcount: 0 });
  w.raw.backends.put(77, { address: 0x0a000063, port: 1, proto: 6, flags: 0, clusterId: 0, zone: 0 });
  w.raw.revNat.put(9, { address: 1, port: 1 });
  w.raw.affinityMatch.put({ backendId: 1, revNatId: 1 }, 1);
  w.raw.sourceRange.put({ prefixlen: 40, revNatId: 1, addr: 0x0a000000 }, 1);
  w.raw.maglev.set(9, new Uint32Array(251));
  // Drift: the slot now points elsewhere.
  w.raw.services.put({ ...svcKey, backendSlot: 1 }, { backendId: 42, count: 0, revNatIndex: 1, flags: 0, flags2: 0, qcount: 0 });
  w.ops.prune(w.db.readTxn(), [w.fe('10.96.0.1:80/TCP')]);
  w.update('10.96.0.1:80/TCP');
  assert.is(formatLBDump(w.raw), good);
});

prune('frontends gone from the table lose their entries; restored entries nobody claims are deleted', () => {
  const w = world();
  w.apply(service('a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }), service('b', { clusterIP: '10.96.0.2', ports: [{ port: 80 }] }), slice('a-1', 'a', [{ ip: '10.0.0.1' }]));
  w.update('10.96.0.1:80/TCP');
  w.update('10.96.0.2:80/TCP');
  // A second agent on the same maps, whose table has only b.
  const db = new DB();
  const tables = newLBTables(db);
  new LBWriter(db, tables, { nodeName: 'n1' }).apply([service('b', { clusterIP: '10.96.0.2', ports: [{ port: 80 }] })]);
  const ops = new LBOperations({ tables, maps: w.raw });
  const b = tables.frontends.get(db.readTxn(), tables.frontends.primary.query(parseL3n4Addr('10.96.0.2:80/TCP')))!;
  ops.update(db.readTxn(), 0, b);
  assert.is(ops.idOf(b.address), 2, 'restored ID');
  ops.prune(db.readTxn(), [b]);
  assert.is(formatLBDump(w.raw), 'REV: ID=2 ADDR=10.96.0.2:80\nSVC: ID=2 ADDR=10.96.0.2:80/TCP SLOT=0 LBALG=undef AFFTimeout=0 COUNT=0 QCOUNT=0 FLAGS=ClusterIP+non-routable\n');
  ops.prune(db.readTxn(), []);
  assert.is(formatLBDump(w.raw), '', 'its frontend gone from the table, b is removed too');
});
prune.run();

const maglev = suite('maglev and families');

maglev('the same backends give the same table on every node, whatever the node-local IDs', () => {
  const a = world({ maglev: true });
  const b = world({ maglev: true });
  // Node b saw other backends first: its IDs differ.
  b.apply(service('z', { clusterIP: '10.96.9.9', ports: [{ port: 80 }] }), slice('z-1', 'z', [{ ip: '10.9.0.1' }, { ip: '10.9.0.2' }]));
  b.update('10.96.9.9:80/TCP');
  for (const w of [a, b]) {
    w.apply(service('m', { clusterIP: '10.96.0.1', externalIPs: ['198.51.100.1'], ports: [{ port: 80 }] }), slice('m-1', 'm', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }]));
    w.update('198.51.100.1:80/TCP');
  }
  const byAddress = (w: ReturnType<typeof world>) => {
    const id = w.ops.idOf(parseL3n4Addr('198.51.100.1:80/TCP'));
    const names = new Map([...w.ops.state.backends.values()].map((bs) => [bs.id, bs.address.ip]));
    return [...w.raw.maglev.get(id)!].map((beId) => names.get(beId));
  };
  const tableA = byAddress(a);
  assert.is(tableA.length, 251);
  assert.not.equal(a.ops.state.backends.size, b.ops.state.backends.size);
  assert.equal(byAddress(b), tableA);
});

maglev('IPv6 frontends are a no-op (the datapath has IPv4 maps only)', () => {
  const w = world();
  w.apply(service('six', { clusterIP: 'fd00::1', ipFamilies: ['IPv6'], ports: [{ port: 80 }] }));
  w.ops.update(w.db.readTxn(), 0, w.fe('[fd00::1]:80/TCP'));
  assert.equal(w.log, []);
  assert.is(w.ops.idOf(parseL3n4Addr('[fd00::1]:80/TCP')), 0);
});
maglev.run();
