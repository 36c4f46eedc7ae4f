// Key encoders: bytewise order equals the key's natural order, round trips,
// text forms, and clear errors on bad input.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB, KeyParseError, Keys, uniqueIndex } from '../../statedb/index.js';
import type { KeyType } from '../../statedb/index.js';
import { escapeComponent, unescapeComponent } from '../../statedb/binary.js';
import { throwsA } from './fixtures.js';

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sign = (n: number) => Math.sign(n);

/** Checks that encode preserves order and decode inverts it, over values from arb. */
function orderPreserved<K>(type: KeyType<K>, arb: fc.Arbitrary<K>, compare: (a: K, b: K) => number): void {
  fc.assert(
    fc.property(arb, arb, (a, b) => {
      assert.is(sign(cmp(type.encode(a), type.encode(b))), sign(compare(a, b)));
      assert.is(type.encode(type.decode(type.encode(a))), type.encode(a));
    }),
    { numRuns: 500 },
  );
}

const ints = suite('integers');

ints('unsigned ints are big-endian and fixed width', () => {
  assert.is(Keys.u16.encode(258), '\x01\x02');
  assert.is(Keys.u32.encode(1).length, 4);
  assert.ok(Keys.u64.encode(1) < Keys.u64.encode(256));
  orderPreserved(Keys.u32, fc.nat({ max: 2 ** 32 - 1 }), (a, b) => a - b);
  orderPreserved(Keys.u8, fc.nat({ max: 255 }), (a, b) => a - b);
});

ints('u64 takes numbers and bigints beyond 2^53', () => {
  const big = (1n << 60n) + 5n;
  assert.is(Keys.u64.decode(Keys.u64.encode(big)), big);
  assert.is(Keys.u64.decode(Keys.u64.encode(42)), 42);
  assert.ok(Keys.u64.encode(2 ** 53 - 1) < Keys.u64.encode(big));
  orderPreserved(Keys.u64, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (a, b) =>
    Number(BigInt(a) - BigInt(b) > 0n) - Number(BigInt(a) - BigInt(b) < 0n),
  );
});

ints('signed ints sort numerically (sign bit flipped)', () => {
  orderPreserved(Keys.i8, fc.integer({ min: -128, max: 127 }), (a, b) => a - b);
  orderPreserved(Keys.i16, fc.integer({ min: -32768, max: 32767 }), (a, b) => a - b);
  orderPreserved(Keys.i32, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (a, b) => a - b);
  orderPreserved(Keys.i64, fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (a, b) =>
    BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0,
  );
  assert.ok(Keys.i32.encode(-1) < Keys.i32.encode(0));
  assert.is(Keys.i32.parse('-17'), -17);
});

ints('out-of-range and non-integer keys are rejected', () => {
  throwsA(() => Keys.u8.encode(256), RangeError);
  throwsA(() => Keys.u32.encode(-1), RangeError);
  throwsA(() => Keys.i8.encode(128), RangeError);
  throwsA(() => Keys.u16.encode(1.5), RangeError);
  throwsA(() => Keys.u64.encode(2 ** 60), RangeError, 'unsafe numbers must be bigints');
  throwsA(() => Keys.u32.parse('12x'), KeyParseError);
  throwsA(() => Keys.u64.parse('18446744073709551616'), KeyParseError);
});

ints.run();

const text = suite('strings, bools, bytes');

text('strings encode as UTF-8 and sort by code point', () => {
  assert.is(Keys.string.encode('abc'), 'abc');
  assert.is(Keys.string.decode(Keys.string.encode('héllo ✓ 𝄞')), 'héllo ✓ 𝄞');
  orderPreserved(Keys.string, fc.string({ unit: 'binary' }), (a, b) => {
    const ca = [...a].map((c) => c.codePointAt(0)!);
    const cb = [...b].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i]! - cb[i]!;
    return ca.length - cb.length;
  });
});

text('bool is T/F and parses the usual spellings', () => {
  assert.is(Keys.bool.encode(true), 'T');
  assert.is(Keys.bool.encode(false), 'F');
  assert.is(Keys.bool.parse('yes'), true);
  assert.is(Keys.bool.parse('False'), false);
  throwsA(() => Keys.bool.parse('maybe'), KeyParseError);
});

text('bytes keep bytewise order and print as hex', () => {
  const b = new Uint8Array([0, 1, 255]);
  assert.is(Keys.bytes.format(b), '0001ff');
  assert.equal([...Keys.bytes.parse('0x0001ff')], [0, 1, 255]);
  throwsA(() => Keys.bytes.parse('abc'), KeyParseError);
  orderPreserved(Keys.bytes, fc.uint8Array({ maxLength: 6 }), (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
});

text.run();

const ip = suite('IP addresses and prefixes');

ip('IPv4 is stored IPv4-mapped in 16 bytes', () => {
  assert.is(Keys.ip.encode('10.0.0.1'), Keys.ip.encode('::ffff:10.0.0.1'));
  assert.is(Keys.ip.encode(new Uint8Array([10, 0, 0, 1])), Keys.ip.encode('10.0.0.1'));
  assert.is(Keys.ip.format('::ffff:10.0.0.1'), '10.0.0.1');
  assert.ok(Keys.ip.encode('10.0.0.2') < Keys.ip.encode('10.0.0.10'));
});

ip('IPv6 text forms parse and format canonically', () => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1:2', 'fe80::1:2'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:DB8::', '2001:db8::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ];
  for (const [input, canonical] of cases) assert.is(Keys.ip.format(input), canonical, input);
  for (const bad of ['1.2.3', '256.1.1.1', '01.2.3.4', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'x']) {
    throwsA(() => Keys.ip.encode(bad), KeyParseError, bad);
  }
});

ip('prefixes are masked, 17 bytes, IPv4 lengths shifted by 96', () => {
  const p = Keys.prefix.encode('10.1.2.3/8');
  assert.is(p.length, 17);
  assert.is(p.charCodeAt(16), 8 + 96);
  assert.is(Keys.prefix.decode(p), '10.0.0.0/8');
  assert.is(Keys.prefix.format('fd00:1::5/32'), 'fd00:1::/32');
  assert.is(Keys.prefix.format('10.0.0.1'), '10.0.0.1/32', 'a bare address is a host prefix');
  throwsA(() => Keys.prefix.encode('10.0.0.0/33'), KeyParseError);
  throwsA(() => Keys.prefix.encode('::/129'), KeyParseError);
});

ip.run();

const tuples = suite('composite keys');

tuples('components keep their order and exactness', () => {
  const t = Keys.tuple(Keys.string, Keys.u16);
  assert.ok(t.encode(['a', 2]) < t.encode(['ab', 1]), '("a",2) < ("ab",1)');
  assert.ok(t.encode(['a', 1]) < t.encode(['a', 2]));
  assert.ok(!t.encode(['ab', 1]).startsWith(Keys.string.encode('a') + '\x00'), '"a" is terminated, so it is not a prefix of "ab"');
  assert.equal(t.decode(t.encode(['x\x00y', 7])), ['x\x00y', 7]);
  assert.equal(t.parse('svc,80'), ['svc', 80]);
  assert.is(t.format(['svc', 80]), 'svc,80');
  throwsA(() => t.parse('only-one'), KeyParseError);
  const t3 = Keys.tuple(Keys.string, Keys.i32, Keys.bytes);
  orderPreserved(
    t3,
    fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 4 }), fc.integer({ min: -5, max: 5 }), fc.uint8Array({ maxLength: 3 })),
    (a, b) =>
      cmp(Keys.string.encode(a[0]), Keys.string.encode(b[0])) ||
      a[1] - b[1] ||
      Buffer.compare(Buffer.from(a[2]), Buffer.from(b[2])),
  );
});

tuples('component escaping preserves order, is prefix-free and round-trips (bytes 0 and 1 included)', () => {
  const bin = fc
    .array(fc.constantFrom(0, 1, 2, 0x61, 0xff), { maxLength: 8 })
    .map((codes) => String.fromCharCode(...codes));
  fc.assert(
    fc.property(bin, bin, fc.constantFrom('', 'x', '\x00'), (a, b, rest) => {
      const ea = escapeComponent(a);
      const eb = escapeComponent(b);
      assert.is(sign(cmp(ea, eb)), sign(cmp(a, b)));
      assert.is(sign(cmp(`${ea}\x00${rest}`, `${eb}\x00${rest}`)), sign(cmp(a, b)), 'terminated components sort by the component first');
      assert.equal(unescapeComponent(`${ea}\x00${rest}`, 0), { value: a, next: ea.length + 1 });
    }),
    { numRuns: 3000 },
  );
});

tuples('a composite primary key in a table', () => {
  interface Port {
    readonly svc: string;
    readonly port: number;
  }
  const db = new DB({ validate: true });
  const t = db.newTable({
    name: 'ports',
    primary: uniqueIndex('svc-port', Keys.tuple(Keys.string, Keys.u16), (p: Port) => [p.svc, p.port] as const),
  });
  db.write(t, (w) => {
    for (const p of [
      { svc: 'ab', port: 1 },
      { svc: 'a', port: 2 },
      { svc: 'a', port: 1 },
    ])
      t.insert(w, p);
  });
  const r = db.readTxn();
  assert.equal(
    [...t.all(r)].map((e) => `${e.object.svc}:${e.object.port}`),
    ['a:1', 'a:2', 'ab:1'],
  );
  assert.is(t.get(r, t.primary.query(['a', 2]))?.port, 2);
  assert.is(t.get(r, t.primary.query(['a', 3])), undefined);
  // @ts-expect-error a wrong key type does not compile
  assert.throws(() => t.primary.query('a'));
});

tuples('queries are typed by the index key type', () => {
  const db = new DB();
  const t = db.newTable({ name: 'typed', primary: uniqueIndex('id', Keys.u32, (o: { id: number }) => o.id) });
  // @ts-expect-error a string key on a u32 index does not compile
  assert.throws(() => t.primary.query('1'));
  assert.is(t.get(db.readTxn(), t.primary.query(1)), undefined);
});

tuples.run();
