// Strict IP and prefix parsing: what is accepted, its canonical form, and
// the reason given for everything rejected.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  InvalidAddressError,
  canonicalIP,
  canonicalPrefix,
  compareIPs,
  formatIPBytes,
  parseIPBytes,
  parsePrefix,
  prefixContains,
  prefixContainsIP,
  unmapIPBytes,
} from '../../tables/index.js';

const canonical = suite('canonical forms');

const accepted: [string, string][] = [
  ['1.2.3.4', '1.2.3.4'],
  ['0.0.0.0', '0.0.0.0'],
  ['255.255.255.255', '255.255.255.255'],
  ['10.0.0.10', '10.0.0.10'],
  ['::', '::'],
  ['::1', '::1'],
  ['2001:DB8::1', '2001:db8::1'],
  ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
  // RFC 5952 4.2.2: a single zero group is not compressed.
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  // RFC 5952 4.2.3: the longest run is compressed, the first on a tie.
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['fe80:0:0:0:0:0:0:0', 'fe80::'],
  ['0:0:0:0:0:0:0:1', '::1'],
  ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ['1::2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  // RFC 5952 5: IPv4-mapped addresses keep the dotted tail.
  ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
  ['::FFFF:0102:0304', '::ffff:1.2.3.4'],
  ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
];
for (const [input, expected] of accepted) {
  canonical(`${input} -> ${expected}`, () => {
    assert.is(canonicalIP(input), expected);
  });
}

const rejected = suite('rejected addresses name the reason');
const bad: [string, RegExp][] = [
  ['1.2.3', /four dotted decimal parts/],
  ['1.2.3.4.5', /four dotted decimal parts/],
  ['01.2.3.4', /leading zero/],
  ['1.2.3.04', /leading zero/],
  ['256.0.0.1', /above 255/],
  ['1.2.3.-4', /not a decimal number/],
  ['1.2.3.4 ', /not a decimal number/],
  ['', /four dotted decimal parts/],
  ['garbage', /four dotted decimal parts/],
  ['0x1.2.3.4', /not a decimal number/],
  ['fe80::1%eth0', /zone ids are not allowed/],
  ['1:2:3:4:5:6:7:8:9', /not a valid IPv6 address/],
  ['1::2::3', /not a valid IPv6 address/],
  ['12345::', /not a valid IPv6 address/],
  ['::1.2.3', /not a valid IPv6 address/],
  ['::g', /not a valid IPv6 address/],
  [':1', /not a valid IPv6 address/],
];
for (const [input, reason] of bad) {
  rejected(JSON.stringify(input), () => {
    try {
      parseIPBytes(input);
      assert.unreachable(`${input} was accepted`);
    } catch (err) {
      assert.instance(err, InvalidAddressError);
      assert.match((err as Error).message, reason);
      assert.match((err as Error).message, JSON.stringify(input));
    }
  });
}

const properties = suite('properties');
properties('format then parse gives the same bytes (v4 and v6)', () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), (bytes) => {
      const text = formatIPBytes(bytes);
      assert.equal(Array.from(parseIPBytes(text)), Array.from(bytes));
      assert.is(canonicalIP(text), text);
    }),
    { numRuns: 2000 },
  );
});
properties('sparse v6 addresses (many zero groups) round-trip', () => {
  const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(
    fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
      const long = words.map((w) => w.toString(16)).join(':');
      const bytes = parseIPBytes(long);
      assert.equal(Array.from(parseIPBytes(formatIPBytes(bytes))), Array.from(bytes));
      assert.ok(!formatIPBytes(bytes).includes(':::'));
    }),
    { numRuns: 2000 },
  );
});
properties('unmap turns ::ffff:a.b.c.d into 4 bytes and leaves other v6 alone', () => {
  assert.is(formatIPBytes(unmapIPBytes(parseIPBytes('::ffff:10.1.2.3'))), '10.1.2.3');
  assert.is(formatIPBytes(unmapIPBytes(parseIPBytes('::1'))), '::1');
  assert.is(formatIPBytes(unmapIPBytes(parseIPBytes('10.1.2.3'))), '10.1.2.3');
});
properties('compareIPs orders by 16-byte form: v6 below ::ffff:0:0 first, then v4', () => {
  const sorted = ['10.0.0.2', '2001::1', '::1', '10.0.0.10', '9.255.255.255'].sort(compareIPs);
  assert.equal(sorted, ['::1', '9.255.255.255', '10.0.0.2', '10.0.0.10', '2001::1']);
});

const prefixes = suite('prefixes');
prefixes('canonical prefixes clear host bits', () => {
  assert.is(canonicalPrefix('10.1.2.3/8'), '10.0.0.0/8');
  assert.is(canonicalPrefix('192.168.1.0/24'), '192.168.1.0/24');
  assert.is(canonicalPrefix('0.0.0.0/0'), '0.0.0.0/0');
  assert.is(canonicalPrefix('1.2.3.4/32'), '1.2.3.4/32');
  assert.is(canonicalPrefix('2001:db8::1/32'), '2001:db8::/32');
  assert.is(canonicalPrefix('2001:db8:ffff::/33'), '2001:db8:8000::/33');
  assert.is(canonicalPrefix('::/0'), '::/0');
});
prefixes('invalid prefixes', () => {
  for (const [text, reason] of [
    ['10.0.0.0', /needs a \/length/],
    ['10.0.0.0/33', /0\.\.32/],
    ['10.0.0.0/-1', /0\.\.32/],
    ['10.0.0.0/08', /0\.\.32/],
    ['::/129', /0\.\.128/],
    ['10.0.0/8', /four dotted/],
    ['10.0.0.0/', /0\.\.32/],
  ] as const) {
    assert.throws(() => parsePrefix(text), (err: Error) => err instanceof InvalidAddressError && reason.test(err.message), text);
  }
});
prefixes('containment', () => {
  const p = parsePrefix;
  assert.ok(prefixContains(p('10.0.0.0/8'), p('10.1.0.0/16')));
  assert.ok(prefixContains(p('10.0.0.0/8'), p('10.0.0.0/8')));
  assert.not.ok(prefixContains(p('10.1.0.0/16'), p('10.0.0.0/8')));
  assert.not.ok(prefixContains(p('10.0.0.0/8'), p('11.0.0.0/16')));
  assert.not.ok(prefixContains(p('0.0.0.0/0'), p('::/0')));
  assert.ok(prefixContains(p('0.0.0.0/0'), p('1.2.3.4/32')));
  assert.ok(prefixContains(p('2001:db8::/32'), p('2001:db8:1::/48')));
  assert.ok(prefixContainsIP(p('192.168.0.0/23'), '192.168.1.255'));
  assert.not.ok(prefixContainsIP(p('192.168.0.0/23'), '192.168.2.0'));
});

canonical.run();
rejected.run();
properties.run();
prefixes.run();
