#!/usr/bin/env node
// Runs every test/bench/**/*.bench.ts in its own process and prints their
// tables. Figures are reported, never asserted: each is printed with a
// baseline measured in the same run and the ratio between them.
//   npm run bench                 everything
//   npm run bench -- statedb      only files whose path contains a word
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBpf, ensureBpffs, ensureDebianPackages, ensureNodeModules } from './setup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...find(path));
    else if (name.endsWith('.bench.ts')) out.push(path);
  }
  return out;
}

ensureDebianPackages();
ensureNodeModules();
ensureBpffs();
buildBpf();

const filters = process.argv.slice(2);
const files = find(join(root, 'test', 'bench')).filter(
  (f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w)),
);
let failures = 0;
for (const file of files) {
  process.stdout.write(`\n# ${relative(root, file)}\n`);
  const res = spawnSync(process.execPath, ['--expose-gc', '--conditions=source', '--import', 'tsx', file], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production', NO_COLOR: '1' },
  });
  if (res.status !== 0) {
    failures += 1;
    process.stderr.write(`bench: ${relative(root, file)} exited ${res.status ?? res.signal}\n`);
  }
}
process.stdout.write(`\n${files.length} benchmark files, ${failures} failed\n`);
process.exitCode = failures > 0 || files.length === 0 ? 1 : 0;
