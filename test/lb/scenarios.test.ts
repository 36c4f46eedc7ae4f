// Every scenario in test/lb/scenarios, four ways: in-memory maps and the
// kernel's (under a unique pin root), each without and with map writes
// failing at random (p = 0.1, seeded). The expected dumps are the same for
// all four: retries converge to the same maps, IDs included.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PipelineOptions } from './harness.js';
import { parseScenario, runScenario, saveScenario, updateMode } from './scenario.js';

const DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.txtar'))
  .sort();
const only = process.env.FLAGELLA_LB_SCENARIO;

const VARIANTS: [string, PipelineOptions][] = updateMode
  ? [['memory', { target: 'memory' }]]
  : [
      ['memory', { target: 'memory' }],
      ['memory, faults p=0.1', { target: 'memory', faultProbability: 0.1, faultSeed: 7 }],
      ['kernel', { target: 'kernel' }],
      ['kernel, faults p=0.1', { target: 'kernel', faultProbability: 0.1, faultSeed: 11 }],
    ];

for (const [name, opts] of VARIANTS) {
  const s = suite(`lb scenarios: ${name}`);
  let injected = 0;
  for (const file of FILES) {
    if (only !== undefined && !file.includes(only)) continue;
    s(file.replace(/\.txtar$/, ''), async () => {
      const scenario = parseScenario(join(DIR, file));
      injected += (await runScenario(scenario, opts)).injectedFaults;
      if (updateMode) saveScenario(scenario);
    });
  }
  if ((opts.faultProbability ?? 0) > 0) {
    s('faults were injected (and retried)', () => {
      assert.ok(injected > 5, `only ${injected} faults injected`);
    });
  }
  s.run();
}
