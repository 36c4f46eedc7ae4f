#!/usr/bin/env node
// The test command. Prepares the machine (scripts/setup.mjs), then runs every
// test/**/*.test.ts in its own process through tsx, so a crash, a native abort
// or a leaked namespace switch in one file cannot hide the results of others.
//
// Ends with one plain line `N passed, N failed, N skipped` and exits non-zero
// on any failure, any file that crashed or printed no uvu summary, a timeout,
// or an empty run.
//
//   npm test                   everything
//   npm test -- statedb lpm    only files whose path contains one of the words
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBpf, ensureBpffs, ensureDebianPackages, ensureNodeModules } from './setup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fileTimeoutMs = Number(process.env.FLAGELLA_TEST_TIMEOUT_MS ?? 15 * 60_000);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// uvu prints, per process: "Total: N", "Passed: N", "Skipped: N".
function parseSummary(text) {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  const num = (label) => {
    const m = plain.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : undefined;
  };
  const total = num('Total');
  const passed = num('Passed');
  if (total === undefined || passed === undefined) return undefined;
  return { total, passed, skipped: num('Skipped') ?? 0 };
}

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      cwd: root,
      detached: true, // own process group, so a timeout kills whatever the test spawned
      env: {
        ...process.env,
        NODE_ENV: 'test',
        FLAGELLA_STATEDB_VALIDATE: process.env.FLAGELLA_STATEDB_VALIDATE ?? '1',
        NO_COLOR: '1',
        FORCE_COLOR: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => process.stderr.write(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, fileTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ out, code, signal, timedOut });
    });
  });
}

async function main() {
  ensureDebianPackages();
  ensureNodeModules();
  ensureBpffs();
  buildBpf();

  const filters = process.argv.slice(2);
  const files = findTests(join(root, 'test')).filter(
    (f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w)),
  );
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const broken = [];
  for (const file of files) {
    const rel = relative(root, file);
    process.stdout.write(`\n# ${rel}\n`);
    const res = await runFile(file);
    if (res.timedOut) {
      failed += 1;
      broken.push(`${rel}: timed out after ${fileTimeoutMs} ms`);
      continue;
    }
    const sum = parseSummary(res.out);
    if (!sum) {
      failed += 1;
      broken.push(`${rel}: no test summary (exit ${res.code ?? res.signal}): crashed or failed to load`);
      continue;
    }
    passed += sum.passed;
    skipped += sum.skipped;
    const fileFailed = sum.total - sum.passed;
    failed += fileFailed;
    if (fileFailed > 0) broken.push(`${rel}: ${fileFailed} failed`);
    else if (res.code !== 0) {
      failed += 1;
      broken.push(`${rel}: exited ${res.code ?? res.signal} after its tests passed`);
    }
  }
  if (broken.length > 0) process.stdout.write(`\nProblems:\n${broken.map((b) => `  ${b}`).join('\n')}\n`);
  if (files.length === 0) process.stdout.write('\nNo test files matched.\n');
  process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exitCode = failed > 0 || passed + failed === 0 ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.stdout.write('\n0 passed, 1 failed, 0 skipped\n');
  process.exitCode = 1;
});
