// Real traffic through the whole pipeline: a client and three backends in
// their own namespaces, joined through a host namespace where the datapath
// is attached with tcx. The ClusterIP service is driven through the tables
// (Kubernetes objects into the writer) and the reconciler into the kernel
// maps. Connections spread over the three backends; a backend marked
// terminating gets no new connections while its established one keeps
// working; removing the service makes the virtual IP stop answering.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectMany, createLbTopology, serverName, startTcpServer, TcpSession, withTopology } from '../support/netns.js';
import { MapsUnderTest, Pipeline } from './harness.js';

const VIP = '10.96.0.10';

function service(): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'test' }, spec: { clusterIP: VIP, ports: [{ port: 80, targetPort: 8080 }] } };
}

function slice(backends: readonly { ip: string; terminating: boolean }[]): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'echo-1', namespace: 'test', labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4',
    ports: [{ port: 8080 }],
    endpoints: backends.map((b) => ({
      addresses: [b.ip],
      conditions: b.terminating ? { ready: false, serving: true, terminating: true } : { ready: true, serving: true, terminating: false },
    })),
  };
}

test('ClusterIP traffic through writer, reconciler and kernel maps: spread, graceful termination, removal', async () => {
  const maps = MapsUnderTest.create({ target: 'kernel' });
  const pipeline = new Pipeline(maps, { target: 'kernel' }).start();
  try {
    await withTopology(async (topo) => {
      const t = createLbTopology(topo, 3);
      for (const [i, be] of t.backends.entries()) await startTcpServer(topo, be.ns, `b${i + 1}`, 8080);
      const dp = maps.datapath!;
      dp.attach(
        [t.client, ...t.backends].map((leaf) => ({ ifname: leaf.hostIf, netns: t.host.name })),
        { mode: 'tcx' },
      );
      const before = await connectMany(topo, t.client.ns, VIP, 80, 1);
      assert.is(before[0]!.ok, false, 'no service yet: the VIP does not answer');

      const all = t.backends.map((b) => ({ ip: b.address, terminating: false }));
      assert.equal(
        pipeline.apply([
          { type: 'upsert', kind: 'Service', object: service() },
          { type: 'upsert', kind: 'EndpointSlice', object: slice(all) },
        ]),
        [],
      );
      await pipeline.settle();

      const spread = await connectMany(topo, t.client.ns, VIP, 80, 30);
      for (const r of spread) {
        assert.ok(r.ok, `connection failed: ${r.error}`);
        assert.is(r.remote, `${VIP}:80`, 'the client talks to the VIP');
      }
      const served = new Map<string, number>();
      for (const r of spread) served.set(serverName(r.reply), (served.get(serverName(r.reply)) ?? 0) + 1);
      assert.equal([...served.keys()].sort(), ['b1', 'b2', 'b3'], `every backend served: ${JSON.stringify([...served])}`);

      // An established connection, then its backend starts terminating.
      const session = await TcpSession.open(topo, t.client.ns, VIP, 80);
      const first = await session.request('one');
      assert.ok(first.ok, first.error);
      const draining = serverName(first.reply);
      const index = Number(draining.slice(1)) - 1;
      pipeline.apply([{ type: 'upsert', kind: 'EndpointSlice', object: slice(all.map((b, i) => ({ ...b, terminating: i === index }))) }]);
      await pipeline.settle();
      assert.match(maps.dump(), new RegExp(`^BE: ID=\\d+ ADDR=${t.backends[index]!.address.replace(/\./g, '\\.')}:8080/TCP STATE=terminating$`, 'm'));

      const after = await connectMany(topo, t.client.ns, VIP, 80, 24);
      assert.ok(after.every((r) => r.ok), JSON.stringify(after.filter((r) => !r.ok)));
      const newBackends = new Set(after.map((r) => serverName(r.reply)));
      assert.not.ok(newBackends.has(draining), `the terminating backend ${draining} got a new connection`);
      assert.is(newBackends.size, 2, `the two others share the new connections: ${[...newBackends].join(', ')}`);
      const again = await session.request('two');
      assert.ok(again.ok, `the established connection to the terminating backend broke: ${again.error}`);
      assert.is(serverName(again.reply), draining, 'it still reaches the same backend');
      await session.close();

      // The service goes: the VIP stops answering.
      pipeline.apply([{ type: 'delete', kind: 'Service', object: service() }]);
      await pipeline.settle();
      assert.not.match(maps.dump(), /^SVC: /m, 'no service entries left');
      const gone = await connectMany(topo, t.client.ns, VIP, 80, 2);
      assert.ok(gone.every((r) => !r.ok), `the VIP still answered: ${JSON.stringify(gone)}`);
    });
  } finally {
    await pipeline.stop();
    maps.dispose();
  }
});

test.run();
