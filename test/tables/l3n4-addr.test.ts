// L3n4Addr: the string form, the 24-byte key of the frontends table, and
// the order that key gives.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  InvalidL3n4AddrError,
  L3N4ADDR_KEY_SIZE,
  compareL3n4Addr,
  formatL3n4Addr,
  l3n4Addr,
  l3n4AddrFromKey,
  l3n4AddrKey,
  parseL3n4Addr,
  type L3n4Addr,
} from '../../tables/index.js';

const text = suite('string form');
const forms: [string, L3n4Addr][] = [
  ['1.2.3.4:80/TCP', { ip: '1.2.3.4', port: 80, protocol: 'TCP', scope: 'external' }],
  ['[2001::1]:443/UDP', { ip: '2001::1', port: 443, protocol: 'UDP', scope: 'external' }],
  ['10.0.0.1:53/UDP/i', { ip: '10.0.0.1', port: 53, protocol: 'UDP', scope: 'internal' }],
  ['[::]:30000/SCTP/i', { ip: '::', port: 30000, protocol: 'SCTP', scope: 'internal' }],
  ['0.0.0.0:0/ANY', { ip: '0.0.0.0', port: 0, protocol: 'ANY', scope: 'external' }],
];
for (const [form, addr] of forms) {
  text(form, () => {
    assert.equal(parseL3n4Addr(form), addr);
    assert.is(formatL3n4Addr(addr), form);
  });
}
text('parse canonicalises the address and protocol case', () => {
  assert.equal(parseL3n4Addr('[2001:0DB8::0001]:80/tcp'), { ip: '2001:db8::1', port: 80, protocol: 'TCP', scope: 'external' });
  assert.equal(parseL3n4Addr('[::ffff:10.0.0.1]:80/TCP').ip, '10.0.0.1');
});
text('bad strings are rejected with the reason', () => {
  const cases: [string, RegExp][] = [
    ['1.2.3.4:80', /expected ip:port\/PROTO/],
    ['1.2.3.4/TCP', /expected ip:port\/PROTO/],
    ['2001::1:80/TCP', /expected ip:port\/PROTO/],
    ['[1.2.3.4]:80/TCP', /brackets are for IPv6 only/],
    ['1.2.3.4:65536/TCP', /not in 0\.\.65535/],
    ['1.2.3.4:080/TCP', /not in 0\.\.65535/],
    ['1.2.3.4:80/ICMP', /protocol ICMP is not one of TCP, UDP, SCTP, ANY/],
    ['1.2.3:80/TCP', /four dotted decimal parts/],
    ['[fe80::1%eth0]:80/TCP', /zone ids/],
    ['1.2.3.4:80/TCP/x', /expected ip:port\/PROTO/],
  ];
  for (const [input, reason] of cases) {
    assert.throws(() => parseL3n4Addr(input), (err: Error) => err instanceof InvalidL3n4AddrError && reason.test(err.message), input);
  }
});
text('l3n4Addr() validates the port', () => {
  assert.throws(() => l3n4Addr('1.2.3.4', 70000, 'TCP'), /70000 is not in 0\.\.65535/);
  assert.throws(() => l3n4Addr('1.2.3.4', 1.5, 'TCP'), /not in 0\.\.65535/);
});

const key = suite('key bytes (reference 2.2)');
key('IPv4: v4-mapped address, cluster id, port big-endian, protocol letter, scope', () => {
  const k = l3n4AddrKey(parseL3n4Addr('10.1.2.3:8080/UDP/i'), 0x01020304);
  assert.is(k.length, L3N4ADDR_KEY_SIZE);
  assert.equal(Array.from(k), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3, 1, 2, 3, 4, 0x1f, 0x90, 0x55, 1]);
});
key('IPv6 and the protocol letters', () => {
  const k = l3n4AddrKey(parseL3n4Addr('[2001:db8::1]:443/SCTP'));
  assert.equal(Array.from(k.subarray(0, 16)), [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(Array.from(k.subarray(16)), [0, 0, 0, 0, 0x01, 0xbb, 0x53, 0]);
  assert.is(l3n4AddrKey(parseL3n4Addr('1.1.1.1:1/TCP'))[22], 'T'.charCodeAt(0));
  assert.is(l3n4AddrKey(parseL3n4Addr('1.1.1.1:1/ANY'))[22], '?'.charCodeAt(0));
});
key('key round-trips', () => {
  const arbAddr = fc.record({
    ip: fc.oneof(fc.ipV4(), fc.ipV6()),
    port: fc.integer({ min: 0, max: 65535 }),
    protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const, 'ANY' as const),
    scope: fc.constantFrom('external' as const, 'internal' as const),
  });
  fc.assert(
    fc.property(arbAddr, (raw) => {
      const addr = l3n4Addr(raw.ip, raw.port, raw.protocol, raw.scope);
      assert.equal(l3n4AddrFromKey(l3n4AddrKey(addr)), addr);
      assert.equal(parseL3n4Addr(formatL3n4Addr(addr)), addr);
    }),
    { numRuns: 1000 },
  );
});
key('order: address bytes, then port, protocol letter, scope', () => {
  const sorted = [
    '10.0.0.2:80/TCP',
    '10.0.0.1:80/UDP',
    '10.0.0.1:80/TCP/i',
    '10.0.0.1:443/TCP',
    '10.0.0.1:80/TCP',
    '[::1]:80/TCP',
    '10.0.0.1:80/SCTP',
  ]
    .map(parseL3n4Addr)
    .sort(compareL3n4Addr)
    .map(formatL3n4Addr);
  assert.equal(sorted, [
    '[::1]:80/TCP',
    '10.0.0.1:80/SCTP',
    '10.0.0.1:80/TCP',
    '10.0.0.1:80/TCP/i',
    '10.0.0.1:80/UDP',
    '10.0.0.1:443/TCP',
    '10.0.0.2:80/TCP',
  ]);
});

text.run();
key.run();
