// A random history of Kubernetes changes (services of every type, slices,
// node addresses; seeded), applied step by step to a pipeline without
// faults and to pipelines whose map writes fail at random (p = 0.1): after
// every step, once reconciled with no retry pending, the maps are
// byte-identical, IDs included. The fault-free maps also keep the
// datapath's invariants at every step.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { seededRandom } from '../../reconcilers/index.js';
import type { LBObjectChange } from '../../tables/index.js';
import { MapsUnderTest, Pipeline, type PipelineOptions } from './harness.js';

const SERVICES = 6;
const STEPS = 40;

function history(seed: number): LBObjectChange[][] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ip = (i: number) => `10.244.0.${1 + (i % 12)}`;
  const steps: LBObjectChange[][] = [];
  for (let s = 0; s < STEPS; s++) {
    const batch: LBObjectChange[] = [];
    const n = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) {
      const i = Math.floor(rnd() * SERVICES);
      const name = `s${i}`;
      const what = rnd();
      if (what < 0.35) {
        const type = pick(['ClusterIP', 'NodePort', 'LoadBalancer'] as const);
        batch.push({
          type: 'upsert',
          kind: 'Service',
          object: {
            metadata: { name, namespace: 't', annotations: rnd() < 0.3 ? { 'service.cilium.io/lb-algorithm': pick(['random', 'maglev']) } : {} },
            spec: {
              type,
              // Two services may claim the same external IP: a conflict for the second.
              clusterIP: `10.96.0.${10 + i}`,
              externalIPs: rnd() < 0.3 ? [`198.51.100.${1 + Math.floor(rnd() * 3)}`] : [],
              sessionAffinity: rnd() < 0.3 ? 'ClientIP' : 'None',
              externalTrafficPolicy: rnd() < 0.3 ? 'Local' : 'Cluster',
              loadBalancerSourceRanges: rnd() < 0.3 ? [pick(['10.0.0.0/8', '192.168.0.0/16'])] : [],
              ports: [{ port: 80, targetPort: 8080, ...(type === 'ClusterIP' ? {} : { nodePort: 30000 + i }) }],
            },
            status: type === 'LoadBalancer' ? { loadBalancer: { ingress: [{ ip: `172.16.0.${1 + i}` }] } } : {},
          },
        });
      } else if (what < 0.45) {
        batch.push({ type: 'delete', kind: 'Service', object: { metadata: { name, namespace: 't' } } });
      } else if (what < 0.85) {
        const count = Math.floor(rnd() * 4);
        const start = Math.floor(rnd() * 12);
        batch.push({
          type: 'upsert',
          kind: 'EndpointSlice',
          object: {
            metadata: { name: `${name}-${Math.floor(rnd() * 2)}`, namespace: 't', labels: { 'kubernetes.io/service-name': name } },
            addressType: 'IPv4',
            ports: [{ port: 8080 }],
            endpoints: Array.from({ length: count }, (_, j) => {
              const state = rnd();
              return {
                addresses: [ip(start + j)],
                nodeName: rnd() < 0.5 ? 'testnode' : 'other',
                conditions: state < 0.6 ? { ready: true } : state < 0.85 ? { ready: false, serving: true, terminating: true } : { ready: false },
              };
            }),
          },
        });
      } else if (what < 0.92) {
        batch.push({ type: 'delete', kind: 'EndpointSlice', object: { metadata: { name: `${name}-${Math.floor(rnd() * 2)}`, namespace: 't' } } });
      } else {
        const addresses = ['192.168.1.1', '192.168.1.2', '203.0.113.1'].filter(() => rnd() < 0.6).map((address) => ({ type: 'InternalIP', address }));
        batch.push({ type: 'upsert', kind: 'Node', object: { metadata: { name: 'testnode' }, status: { addresses } } });
      }
    }
    // One change per object in a batch, as sources coalesce.
    const seen = new Set<string>();
    const coalesced: LBObjectChange[] = [];
    for (const c of batch.reverse()) {
      const meta = (c.object as { metadata: { name: string } }).metadata;
      const key = `${c.kind}/${meta.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      coalesced.unshift(c);
    }
    steps.push(coalesced);
  }
  return steps;
}

/** Datapath invariants of a dump: dense slots, counts that match, entries that exist. */
function checkInvariants(dump: string, where: string): void {
  const lines = dump.split('\n').filter(Boolean);
  const backends = new Set(lines.filter((l) => l.startsWith('BE: ')).map((l) => /ID=(\d+)/.exec(l)![1]));
  const revs = new Set(lines.filter((l) => l.startsWith('REV: ')).map((l) => /ID=(\d+)/.exec(l)![1]));
  const slots = new Map<string, number[]>();
  const masters = new Map<string, { count: number; qcount: number; id: string }>();
  for (const l of lines.filter((x) => x.startsWith('SVC: '))) {
    const m = /ID=(\d+) ADDR=(\S+) SLOT=(\d+) (?:BEID=(\d+) )?.*COUNT=(\d+) QCOUNT=(\d+)/.exec(l)!;
    const [, id, addr, slot, beid, count, qcount] = m;
    if (slot === '0') masters.set(addr!, { count: Number(count), qcount: Number(qcount), id: id! });
    else {
      assert.ok(backends.has(beid), `${where}: slot ${l} names a missing backend`);
      slots.set(addr!, [...(slots.get(addr!) ?? []), Number(slot)]);
    }
  }
  for (const [addr, m] of masters) {
    const s = (slots.get(addr) ?? []).sort((a, b) => a - b);
    assert.equal(s, Array.from({ length: m.count + m.qcount }, (_, i) => i + 1), `${where}: ${addr} slots ${s.join(",")} vs COUNT+QCOUNT`);
    assert.ok(revs.has(m.id), `${where}: ${addr} has no rev-NAT entry`);
  }
  for (const addr of slots.keys()) assert.ok(masters.has(addr), `${where}: slots of ${addr} without a master`);
}

async function run(steps: LBObjectChange[][], opts: PipelineOptions, onStep: (i: number, dump: string, errors: string[]) => void): Promise<number> {
  const maps = MapsUnderTest.create({ maglevTableSize: 251, ...opts });
  const pipeline = new Pipeline(maps, { nodeName: 'testnode', ...opts, ops: { defaultAlgorithm: 'maglev' } }).start();
  try {
    for (const [i, step] of steps.entries()) {
      const errors = pipeline.apply(step);
      await pipeline.settle(30_000);
      onStep(i, maps.dump(), errors);
    }
    return maps.faulty?.injected ?? 0;
  } finally {
    await pipeline.stop();
    maps.dispose();
  }
}

const s = suite('random histories under faults');

for (const seed of [1, 2, 3]) {
  s(`seed ${seed}: faulty runs (memory and kernel) match the fault-free one after every step`, async () => {
    const steps = history(seed);
    const dumps: string[] = [];
    const errors: string[][] = [];
    let nonEmpty = 0;
    await run(steps, { target: 'memory' }, (i, dump, errs) => {
      checkInvariants(dump, `seed ${seed} step ${i}`);
      dumps.push(dump);
      errors.push(errs);
      if (dump !== '') nonEmpty++;
    });
    assert.ok(nonEmpty > STEPS / 2, 'the history keeps the maps busy');
    const variants: PipelineOptions[] = [
      { target: 'memory', faultProbability: 0.1, faultSeed: seed * 101 },
      { target: 'memory', faultProbability: 0.1, faultSeed: seed * 103 },
      ...(seed === 1 ? [{ target: 'kernel' as const, faultProbability: 0.1, faultSeed: 7 }] : []),
    ];
    for (const v of variants) {
      const injected = await run(steps, v, (i, dump, errs) => {
        assert.equal(errs, errors[i], `seed ${seed} step ${i}: the same objects are refused`);
        assert.fixture(dump, dumps[i]!, `seed ${seed} step ${i} (${v.target}, fault seed ${v.faultSeed})`);
      });
      assert.ok(injected > 10, `${injected} faults injected`);
    }
  });
}

s.run();
