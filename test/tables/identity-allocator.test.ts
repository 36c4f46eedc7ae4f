// Security identities: stable per label set, restorable, reference counted,
// in disjoint pod and CIDR ranges.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CIDR_IDENTITY_MIN,
  IdentityAllocator,
  IdentityExhaustedError,
  POD_IDENTITY_MIN,
  ReservedIdentity,
  canonicalLabels,
  endpointIdentityLabels,
} from '../../tables/index.js';

const alloc = suite('IdentityAllocator');

alloc('reserved identities have Cilium\'s numbers', () => {
  assert.equal([ReservedIdentity.Host, ReservedIdentity.World, ReservedIdentity.Unmanaged], [1, 2, 3]);
});

alloc('the same label set gets the same identity, whatever the key order', () => {
  const a = new IdentityAllocator();
  const web = a.acquire({ 'k8s:app': 'web', 'k8s:tier': 'front' });
  const again = a.acquire({ 'k8s:tier': 'front', 'k8s:app': 'web' });
  const db = a.acquire({ 'k8s:app': 'db' });
  assert.is(web.id, POD_IDENTITY_MIN);
  assert.is(again.id, web.id);
  assert.is(db.id, POD_IDENTITY_MIN + 1);
  assert.is(web.labels, 'k8s:app=web,k8s:tier=front');
  assert.is(a.references(web.id), 2);
  assert.equal(a.lookup({ 'k8s:app': 'db' }), db);
});

alloc('references: freed only when the last one is released; numbers are not reused at once', () => {
  const a = new IdentityAllocator();
  const web = a.acquire({ app: 'web' });
  a.acquire({ app: 'web' });
  assert.is(a.release(web.id), 1);
  assert.ok(a.lookupId(web.id));
  assert.is(a.release(web.id), 0);
  assert.is(a.lookupId(web.id), undefined);
  assert.is(a.release(web.id), -1, 'unknown: no-op');
  assert.is(a.release(ReservedIdentity.World), -1);
  const next = a.acquire({ app: 'web' });
  assert.is(next.id, web.id + 1, 'a released number is not handed out right away');
});

alloc('CIDR identities live in the local range (bit 24); /0 is the world', () => {
  const a = new IdentityAllocator();
  const net = a.acquireCIDR('10.1.2.3/16');
  assert.equal(net, { id: CIDR_IDENTITY_MIN, kind: 'cidr', labels: 'cidr:10.1.0.0/16' });
  assert.ok((net.id & (1 << 24)) !== 0);
  assert.is(a.acquireCIDR('10.1.0.0/16').id, net.id);
  assert.is(a.acquireCIDR('0.0.0.0/0').id, ReservedIdentity.World);
  assert.is(a.acquireCIDR('::/0').id, ReservedIdentity.World);
  assert.is(a.acquire({ app: 'web' }).id, POD_IDENTITY_MIN, 'pod range independent of the CIDR range');
  assert.throws(() => a.acquireCIDR('10.0.0.0/99'), /prefix length/);
});

alloc('restore: identities survive a restart; unclaimed ones are dropped on request', () => {
  const first = new IdentityAllocator();
  const web = first.acquire({ app: 'web' });
  const db = first.acquire({ app: 'db' });
  const net = first.acquireCIDR('192.168.0.0/24');
  const saved = JSON.parse(JSON.stringify(first.allocations())) as ReturnType<IdentityAllocator['allocations']>;

  const second = new IdentityAllocator();
  assert.equal(second.restore(saved), { restored: 3, rejected: [] });
  assert.is(second.acquire({ app: 'db' }).id, db.id);
  assert.is(second.acquireCIDR('192.168.0.0/24').id, net.id);
  const fresh = second.acquire({ app: 'cache' });
  assert.ok(fresh.id > Math.max(web.id, db.id), 'new identities continue past restored ones');
  assert.equal(second.releaseUnclaimedRestored().map((x) => x.id), [web.id]);
  assert.equal(second.releaseUnclaimedRestored(), [], 'idempotent');
  assert.equal(second.allocations().map((x) => x.id), [db.id, fresh.id, net.id]);
});

alloc('restore rejects bad or conflicting entries and keeps the rest', () => {
  const a = new IdentityAllocator();
  const report = a.restore([
    { id: 300, kind: 'pod', labels: 'app=a' },
    { id: 300, kind: 'pod', labels: 'app=b' },
    { id: 301, kind: 'pod', labels: 'app=a' },
    { id: 5, kind: 'pod', labels: 'app=c' },
    { id: 300, kind: 'cidr', labels: 'cidr:1.0.0.0/8' },
  ]);
  assert.is(report.restored, 1);
  assert.equal(report.rejected.map((r) => r.reason), [
    'id 300 is already allocated',
    'labels app=a already have an identity',
    'id 5 is outside the pod range 256..65535',
    'id 300 is outside the cidr range 16777217..33554431',
  ]);
});

alloc('exhaustion is a typed error; the cursor wraps to reuse freed numbers', () => {
  const a = new IdentityAllocator();
  const total = 65535 - 256 + 1;
  for (let i = 0; i < total; i++) a.acquire({ n: String(i) });
  assert.throws(() => a.acquire({ n: 'one more' }), (e: unknown) => e instanceof IdentityExhaustedError);
  a.release(1000);
  assert.is(a.acquire({ n: 'one more' }).id, 1000);
});

alloc('identity labels of an endpoint include its namespace and namespace labels', () => {
  const labels = endpointIdentityLabels('shop', { app: 'web' }, { team: 'a' });
  assert.is(canonicalLabels(labels), 'k8s:app=web,k8s:io.cilium.k8s.namespace.labels.team=a,k8s:io.kubernetes.pod.namespace=shop');
  const a = new IdentityAllocator();
  assert.is.not(a.acquire(endpointIdentityLabels('shop', { app: 'web' })).id, a.acquire(endpointIdentityLabels('dev', { app: 'web' })).id);
});

alloc.run();
