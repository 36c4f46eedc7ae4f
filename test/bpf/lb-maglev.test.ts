// Maglev selection in the datapath: the program hashes (saddr, sport, proto)
// into the service's inner table of M entries. Conntrack timeouts are 0 here,
// so every packet selects afresh and the table alone decides.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DatapathConfigError, type Datapath } from '../../datapath/index.js';
import { openTestDatapath, putService, runTc, runXdp, type ServiceSpec } from '../support/datapath-fixture.js';
import { TcpFlag, buildPacket, parsePacket } from '../support/packet.js';

const VIP = '10.96.0.20';
const M = 251;
const NO_CT = { tcpSeconds: 0, synSeconds: 0, finSeconds: 0, otherSeconds: 0 };

const BACKENDS: ServiceSpec['backends'] = Array.from({ length: 5 }, (_, i) => ({ id: 10 + i, addr: `10.2.${i}.2`, port: 8080 }));
const ADDR_BY_ID = new Map(BACKENDS.map((b) => [b.id, b.addr]));

/** A tiny table builder: ids take turns over the M entries. */
function roundRobinTable(ids: readonly number[]): number[] {
  return Array.from({ length: M }, (_, i) => ids[i % ids.length]!);
}

/** The same table with every entry of `leaving` handed to the others in turn: only its entries change. */
function withoutBackend(table: readonly number[], leaving: number): number[] {
  const rest = [...new Set(table)].filter((id) => id !== leaving);
  let next = 0;
  return table.map((id) => (id === leaving ? rest[next++ % rest.length]! : id));
}

function flow(i: number, dp: Datapath, run = runTc): string {
  const frame = buildPacket({ saddr: `10.5.${i >> 8}.${i & 255}`, daddr: VIP, proto: 'tcp', sport: 20000 + ((i * 7) % 40000), dport: 80, tcpFlags: TcpFlag.SYN });
  return parsePacket(run(dp, frame).out).ip.daddr;
}

interface Ctx {
  dp: Datapath & { dispose(): void };
}

const maglev = suite<Ctx>('maglev', {} as Ctx);
maglev.before.each((ctx) => {
  ctx.dp = openTestDatapath({ maglevTableSize: M, ctTimeouts: NO_CT });
});
maglev.after.each((ctx) => {
  ctx.dp.dispose();
});

maglev('the same 5-tuple always reaches the same backend (tc and XDP agree)', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 7, backends: BACKENDS, algorithm: 'maglev' });
  dp.setMaglevTable(7, roundRobinTable(BACKENDS.map((b) => b.id)));
  const used = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const first = flow(i, dp);
    used.add(first);
    for (let r = 0; r < 3; r++) assert.is(flow(i, dp), first, `flow ${i} repeat ${r}`);
    assert.is(flow(i, dp, runXdp), first, `flow ${i} on XDP`);
  }
  assert.is(used.size, BACKENDS.length, 'the table spreads flows over every backend');
});

maglev('replacing one backend\'s entries moves only the flows that were on it', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 7, backends: BACKENDS, algorithm: 'maglev' });
  const table = roundRobinTable(BACKENDS.map((b) => b.id));
  dp.setMaglevTable(7, table);
  const before = Array.from({ length: 500 }, (_, i) => flow(i, dp));
  const leaving = 12;
  dp.setMaglevTable(7, withoutBackend(table, leaving));
  let moved = 0;
  for (let i = 0; i < before.length; i++) {
    const now = flow(i, dp);
    if (before[i] === ADDR_BY_ID.get(leaving)) {
      assert.is.not(now, ADDR_BY_ID.get(leaving), `flow ${i} left the removed backend`);
      moved += 1;
    } else {
      assert.is(now, before[i], `flow ${i} on a remaining backend kept it`);
    }
  }
  assert.ok(moved > 0, 'some flows were on the removed backend');
});

maglev('the config default applies when the service leaves the algorithm unset', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 7, backends: BACKENDS });
  dp.setMaglevTable(7, roundRobinTable([13]));
  dp.setConfig({ defaultLbAlgorithm: 'maglev' });
  for (let i = 0; i < 50; i++) assert.is(flow(i, dp), ADDR_BY_ID.get(13));
  dp.setConfig({ defaultLbAlgorithm: 'random' });
  const spread = new Set(Array.from({ length: 100 }, (_, i) => flow(i, dp)));
  assert.ok(spread.size > 1, 'random again once the default changes');
});

maglev('a Maglev service without a table falls back to random and still forwards', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 8, backends: BACKENDS, algorithm: 'maglev' });
  const seen = new Set(Array.from({ length: 100 }, (_, i) => flow(i, dp)));
  for (const addr of seen) assert.ok([...ADDR_BY_ID.values()].includes(addr), addr);
  assert.ok(seen.size > 1);
});

maglev('a table of the wrong size is refused before touching the map', ({ dp }) => {
  assert.throws(() => dp.setMaglevTable(7, [1, 2, 3]), (err: unknown) => err instanceof DatapathConfigError && /expected M = 251/.test(err.message));
  assert.is(dp.maps.lb4Maglev.get(7), undefined);
});

maglev.run();
