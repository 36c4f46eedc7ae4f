// The packet builder and the independent checksum verifier the datapath
// tests rely on: if these were wrong, every rewrite check would be too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TcpFlag, buildPacket, onesComplementSum, parsePacket, verifyChecksums } from '../support/packet.js';

test('RFC 1071 example sums to the published value', () => {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
  assert.is(onesComplementSum(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])), 0xddf2);
});

test('built TCP and UDP packets parse back with valid checksums', () => {
  const tcp = buildPacket({ saddr: '10.0.0.1', daddr: '10.96.0.10', proto: 'tcp', sport: 40000, dport: 80, tcpFlags: TcpFlag.SYN, payload: 'hello' });
  const p = parsePacket(tcp);
  assert.equal([p.ip.saddr, p.ip.daddr, p.l4?.sport, p.l4?.dport, p.payload.toString()], ['10.0.0.1', '10.96.0.10', 40000, 80, 'hello']);
  assert.equal(verifyChecksums(tcp), { ip: true, l4: true });
  const udp = buildPacket({ saddr: '10.0.0.1', daddr: '10.96.0.10', proto: 'udp', sport: 5000, dport: 53, payload: 'odd' });
  assert.equal(verifyChecksums(udp), { ip: true, l4: true });
  const none = buildPacket({ saddr: '10.0.0.1', daddr: '10.96.0.10', proto: 'udp', udpNoChecksum: true });
  assert.equal(verifyChecksums(none), { ip: true, l4: 'absent' });
});

test('the verifier catches a changed address, port or payload byte', () => {
  const good = buildPacket({ saddr: '10.0.0.1', daddr: '10.96.0.10', proto: 'tcp', payload: 'abc' });
  for (const [offset, label] of [[30, 'daddr'], [36, 'dport'], [54, 'payload']] as const) {
    const bad = Buffer.from(good);
    bad[offset] = bad[offset]! ^ 0x01;
    const verdict = verifyChecksums(bad);
    assert.not.equal(verdict, { ip: true, l4: true }, label);
  }
});

test('IP options move the L4 header and keep checksums valid', () => {
  const pkt = buildPacket({ saddr: '1.2.3.4', daddr: '5.6.7.8', proto: 'udp', dport: 9, ipOptions: Uint8Array.from([1, 1, 1, 0]) });
  const p = parsePacket(pkt);
  assert.is(p.ip.ihl, 24);
  assert.is(p.l4?.dport, 9);
  assert.equal(verifyChecksums(pkt), { ip: true, l4: true });
});

test.run();
