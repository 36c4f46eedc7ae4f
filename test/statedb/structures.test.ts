// The persistent structures under the indexes, against brute-force models:
// the B+tree (splits, merges, snapshots untouched by later writes, cursors)
// and the LPM trie (longest match, containment, order).
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BTree } from '../../statedb/btree.js';
import { LpmTrie } from '../../statedb/lpm-trie.js';
import { Keys } from '../../statedb/index.js';

type TreeOp = { del: boolean; key: number };

test('B+tree: random batches agree with a Map; old snapshots never change', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.record({ del: fc.boolean(), key: fc.nat(3000) }), { maxLength: 400 }), { maxLength: 8 }),
      fc.nat(3000),
      (batches: TreeOp[][], seek) => {
        let tree = BTree.empty<string, number>();
        const model = new Map<string, number>();
        const snapshots: { tree: BTree<string, number>; entries: [string, number][] }[] = [];
        const k = (n: number) => Keys.u32.encode(n);
        for (const batch of batches) {
          const w = tree.forWrite();
          for (const { del, key } of batch) {
            if (del) {
              assert.is(w.delete(k(key)), model.get(k(key)));
              model.delete(k(key));
            } else {
              assert.is(w.set(k(key), key), model.get(k(key)));
              model.set(k(key), key);
            }
          }
          w.freeze(true);
          tree = w;
          assert.equal(tree.check(), []);
          const entries = [...model].sort((a, b) => (a[0] < b[0] ? -1 : 1));
          const seen: [string, number][] = [];
          for (const c = tree.cursor(); c.valid; c.next()) seen.push([c.key, c.value]);
          assert.equal(seen, entries);
          assert.is(tree.size, model.size);
          const from = entries.filter(([key]) => key >= k(seek));
          const got: string[] = [];
          for (const c = tree.cursor(k(seek)); c.valid; c.next()) got.push(c.key);
          assert.equal(got, from.map(([key]) => key));
          snapshots.push({ tree, entries });
        }
        for (const s of snapshots) {
          const seen: [string, number][] = [];
          for (const c = s.tree.cursor(); c.valid; c.next()) seen.push([c.key, c.value]);
          assert.equal(seen, s.entries, 'a committed tree is never mutated by later writes');
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('B+tree: grows to several levels and shrinks back, valid after every batch', () => {
  let tree = BTree.empty<number, number>();
  const keys = Array.from({ length: 20_000 }, (_, i) => (i * 7919) % 20_000);
  for (let i = 0; i < keys.length; i += 2500) {
    const w = tree.forWrite();
    for (const k of keys.slice(i, i + 2500)) w.set(k, k);
    w.freeze(true);
    assert.equal(w.check(), []);
    tree = w;
  }
  assert.is(tree.size, 20_000);
  const full = tree;
  for (let i = 0; i < keys.length - 100; i += 1900) {
    const w = tree.forWrite();
    for (const k of keys.slice(i, Math.min(i + 1900, keys.length - 100))) assert.is(w.delete(k), k);
    w.freeze(true);
    assert.equal(w.check(), []);
    tree = w;
  }
  assert.is(tree.size, 100);
  assert.equal(full.check(), []);
  assert.is(full.size, 20_000, 'the full snapshot is intact');
  assert.is(full.get(keys[0]!), keys[0]);
});

test('B+tree: a cursor taken during a write is not disturbed by later writes', () => {
  const w = BTree.empty<number, number>().forWrite();
  for (let i = 0; i < 500; i++) w.set(i, i);
  const c = w.cursor(100);
  for (let i = 0; i < 500; i += 2) w.delete(i);
  for (let i = 1000; i < 1100; i++) w.set(i, i);
  const seen: number[] = [];
  for (; c.valid; c.next()) seen.push(c.key);
  assert.equal(seen, Array.from({ length: 400 }, (_, i) => i + 100));
  assert.equal(w.check(), []);
});

interface P {
  addr: string;
  bits: number;
  text: string;
}

const v4Prefix = fc
  .tuple(fc.constantFrom(10, 11, 192), fc.nat(3), fc.nat(3), fc.constantFrom(0, 8, 9, 16, 23, 24, 32))
  .map(([a, b, c, len]) => `${a}.${b}.${c}.0/${len}`);

function parse(text: string): P {
  const key = Keys.prefix.encode(text);
  return { addr: key.slice(0, 16), bits: key.charCodeAt(16), text };
}

function contains(outer: P, inner: P): boolean {
  if (outer.bits > inner.bits) return false;
  for (let i = 0; i < outer.bits; i++) {
    const bit = (s: string) => (s.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
    if (bit(outer.addr) !== bit(inner.addr)) return false;
  }
  return true;
}

test('LPM trie: longest match and containment agree with brute force', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(v4Prefix, fc.boolean()), { maxLength: 40 }), fc.array(v4Prefix, { maxLength: 10 }), (ops, queries) => {
      const trie = LpmTrie.empty<string>().forWrite();
      const model = new Map<string, P>();
      for (const [text, del] of ops) {
        const p = parse(text);
        const id = `${p.addr}/${p.bits}`;
        if (del) {
          assert.is(trie.remove(p.addr, p.bits, 'x'), model.delete(id));
        } else {
          trie.insert(p.addr, p.bits, { sortKey: 'x', value: id });
          model.set(id, p);
        }
      }
      assert.equal(trie.check(), []);
      assert.is(trie.size, model.size);
      for (const qt of queries) {
        const q = parse(qt);
        const best = [...model.values()].filter((p) => contains(p, q)).sort((a, b) => b.bits - a.bits)[0];
        const got = trie.lookup(q.addr, q.bits)?.[0]?.value;
        assert.is(got, best === undefined ? undefined : `${best.addr}/${best.bits}`, `lookup ${qt}`);
        const inside = [...model.values()].filter((p) => contains(q, p)).map((p) => `${p.addr}/${p.bits}`).sort();
        assert.equal([...trie.within(q.addr, q.bits)].map((e) => `${e.addr}/${e.bits}`).sort(), inside, `within ${qt}`);
      }
      const order = [...trie.entries()].map((e) => e.addr + String.fromCharCode(e.bits));
      assert.equal(order, [...order].sort(), 'entries in (address, length) order');
    }),
    { numRuns: 300 },
  );
});

test.run();
