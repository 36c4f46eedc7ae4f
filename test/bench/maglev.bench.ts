// Cost of one Maglev table at the default size (M = 16381) for N = 100
// backends, against a plain loop that fills the same Uint32Array with IDs
// round-robin (the floor any O(M) table build must pay), same run.
// Figures are from a 2-core noisy VM: compare the ratio, not the absolutes.
import { Maglev } from '../../datapath/index.js';
import { parseL3n4Addr } from '../../tables/index.js';
import { nsPerOp, Report } from './harness.js';

const M = 16381;
const N = 100;
const backends = Array.from({ length: N }, (_, i) => ({
  id: i + 1,
  address: parseL3n4Addr(`10.244.${i >> 8}.${i & 255}:8080/TCP`),
  weight: 100,
}));
const weighted = backends.map((b, i) => ({ ...b, weight: i % 4 === 0 ? 200 : 100 }));
const maglev = new Maglev({ tableSize: M });

function plainFill(): Uint32Array {
  const table = new Uint32Array(M);
  for (let n = 0; n < M; n++) table[n] = backends[n % N]!.id;
  return table;
}

const ns = await nsPerOp({
  'plain fill': plainFill,
  'maglev equal weights': () => maglev.table(backends),
  'maglev mixed weights': () => maglev.table(weighted),
  // A fresh instance has no cached permutations: includes 100 murmur3 hashes.
  'maglev cold (hashing included)': () => new Maglev({ tableSize: M }).table(backends),
});

const report = new Report(`Maglev table, M=${M}, N=${N} (2-core noisy VM)`);
for (const name of ['maglev equal weights', 'maglev mixed weights', 'maglev cold (hashing included)']) {
  report.add({
    name,
    value: ns[name]! / 1e3,
    unit: 'µs/table',
    better: 'lower',
    baseline: { name: 'plain fill', value: ns['plain fill']! / 1e3 },
    target: 'O(M·N) bound 1.6M steps; recompute only when the active set changes',
  });
}
report.print();
