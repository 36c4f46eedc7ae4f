// Truncated and malformed packets: never an out-of-bounds read (the verifier
// guarantees it; these show the programs classify them), never a crash;
// each is passed or dropped with a reason.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfError, Reason, diffCounters, type Datapath } from '../../datapath/index.js';
import { openTestDatapath, putService, runTc, runXdp } from '../support/datapath-fixture.js';
import { ETH_HLEN, TcpFlag, buildPacket, internetChecksum, parsePacket, verifyChecksums } from '../support/packet.js';

const VIP = '10.96.0.30';
interface Ctx {
  dp: Datapath & { dispose(): void };
}

const bad = suite<Ctx>('malformed', {} as Ctx);
bad.before.each((ctx) => {
  ctx.dp = openTestDatapath();
  putService(ctx.dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: [{ id: 1, addr: '10.3.0.2', port: 8080 }] });
  putService(ctx.dp, { vip: VIP, port: 53, proto: 'udp', id: 2, backends: [{ id: 2, addr: '10.3.0.3', port: 5353 }] });
});
bad.after.each((ctx) => {
  ctx.dp.dispose();
});

const fullTcp = () => buildPacket({ saddr: '10.0.0.1', daddr: VIP, proto: 'tcp', sport: 40000, dport: 80, tcpFlags: TcpFlag.SYN });
const fullUdp = () => buildPacket({ saddr: '10.0.0.1', daddr: VIP, proto: 'udp', sport: 40000, dport: 53 });

/** Rewrites the IPv4 header checksum after a test edited the header. */
function fixIpChecksum(frame: Buffer): Buffer {
  const ihl = (frame[ETH_HLEN]! & 0x0f) * 4;
  frame.writeUInt16BE(0, ETH_HLEN + 10);
  frame.writeUInt16BE(internetChecksum(frame.subarray(ETH_HLEN, ETH_HLEN + Math.max(20, ihl))), ETH_HLEN + 10);
  return frame;
}

bad('frames shorter than Ethernet are refused by the kernel before any program runs', ({ dp }) => {
  for (let len = 0; len < ETH_HLEN; len++) {
    const frame = fullTcp().subarray(0, len);
    for (const prog of [dp.programs.tcIngress, dp.programs.xdp]) {
      assert.throws(() => prog.testRun({ data: frame }), (err: unknown) => err instanceof BpfError && err.code === 'EINVAL', `${prog.name} len ${len}`);
    }
  }
});

bad('every truncation of a TCP or UDP packet to a VIP, from Ethernet to a full header, is dropped as malformed', ({ dp }) => {
  for (const [full, l4Len] of [[fullTcp(), 20], [fullUdp(), 8]] as const) {
    const headers = ETH_HLEN + 20 + l4Len;
    for (let len = ETH_HLEN; len <= headers; len++) {
      const frame = full.subarray(0, len);
      for (const run of [runTc, runXdp]) {
        if (run === runTc && len < ETH_HLEN + 20) {
          // The kernel's skb test run refuses an IPv4 frame without a full
          // IPv4 header; the XDP run below covers these lengths.
          assert.throws(() => runTc(dp, frame), (err: unknown) => err instanceof BpfError && err.code === 'EINVAL', `tc len ${len}`);
          continue;
        }
        const before = dp.counters();
        const res = run(dp, frame);
        const d = diffCounters(dp.counters(), before);
        if (len < headers) {
          assert.is(res.verdict, 'drop', `${run.name} len ${len}`);
          assert.is(d.DROP_MALFORMED.packets, 1, `${run.name} len ${len} counted as malformed`);
        } else {
          assert.is(res.verdict, 'pass', `${run.name} full header`);
          assert.is(d.FORWARDED.packets, 1);
        }
      }
    }
  }
});

bad('IHL below 5, a version other than 4, or a total length shorter than the header: dropped as malformed', ({ dp }) => {
  const cases: [string, (f: Buffer) => void][] = [
    ...[0, 1, 2, 3, 4].map((ihl): [string, (f: Buffer) => void] => [`ihl ${ihl}`, (f) => void (f[ETH_HLEN] = 0x40 | ihl)]),
    ['version 6', (f) => void (f[ETH_HLEN] = 0x65)],
    ['total length 10', (f) => f.writeUInt16BE(10, ETH_HLEN + 2)],
    ['ihl 15 beyond the packet', (f) => void (f[ETH_HLEN] = 0x4f)],
  ];
  for (const [label, edit] of cases) {
    const frame = fullTcp();
    edit(frame);
    fixIpChecksum(frame);
    for (const run of [runTc, runXdp]) {
      const before = dp.counters();
      assert.is(run(dp, frame).verdict, 'drop', `${label} (${run.name})`);
      assert.is(diffCounters(dp.counters(), before).DROP_MALFORMED.packets, 1, label);
    }
  }
});

bad('IP options are skipped correctly: the L4 header after them is DNATed with valid checksums', ({ dp }) => {
  for (let words = 1; words <= 10; words++) {
    const options = Buffer.alloc(words * 4, 1); // NOPs
    options[options.length - 1] = 0; // end of options
    const frame = buildPacket({ saddr: '10.0.0.1', daddr: VIP, proto: 'tcp', sport: 40000 + words, dport: 80, ipOptions: options, payload: 'opt' });
    for (const run of [runTc, runXdp]) {
      const res = run(dp, frame);
      const p = parsePacket(res.out);
      assert.equal([res.verdict, p.ip.ihl, p.ip.daddr, p.l4?.dport, p.payload.toString()], ['pass', 20 + words * 4, '10.3.0.2', 8080, 'opt'], `${words} words, ${run.name}`);
      assert.equal(verifyChecksums(res.out), { ip: true, l4: true });
    }
  }
});

bad('fragments pass untouched and are counted as such (no ports to match)', ({ dp }) => {
  const first = buildPacket({ saddr: '10.0.0.1', daddr: VIP, proto: 'udp', sport: 40000, dport: 53, moreFragments: true, payload: 'x'.repeat(16) });
  const later = buildPacket({ saddr: '10.0.0.1', daddr: VIP, proto: 17, fragmentOffset: 3, payload: 'y'.repeat(16) });
  const before = dp.counters();
  for (const frame of [first, later]) {
    for (const run of [runTc, runXdp]) {
      const res = run(dp, frame);
      assert.is(res.verdict, 'pass');
      assert.equal(Buffer.compare(res.out, frame), 0);
    }
  }
  assert.is(diffCounters(dp.counters(), before).PASSED_FRAGMENT.packets, 4);
});

bad('a malformed packet is reported as a drop event', ({ dp }) => {
  const events = dp.events();
  try {
    events.poll();
    runTc(dp, fullTcp().subarray(0, ETH_HLEN + 20 + 10));
    const got = events.poll();
    assert.equal(got.map((e) => [e.type, e.reason]), [['drop', Reason.DROP_MALFORMED]]);
  } finally {
    events.close();
  }
});

bad.run();
