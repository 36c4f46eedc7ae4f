#!/usr/bin/env node
// `npm run demo`: set-up, then a short tour of what exists so far, each
// step narrated: statedb (commit, query, watch, change stream with a
// delete), a durable table surviving a SIGKILLed process, and the flagella
// command reading tables. Later steps (real traffic through the eBPF
// datapath) extend this script.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, ensureNodeModules } from './setup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let stepNo = 0;

function step(title) {
  process.stdout.write(`\n== ${++stepNo}. ${title}\n`);
}

/** Runs a command with the terminal as its output; fails the demo if it fails. */
function run(args, { okStatus = [0] } = {}) {
  const res = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 60_000 });
  const status = res.status ?? res.signal;
  if (!okStatus.includes(status)) throw new Error(`demo: '${args.join(' ')}' ended with ${status}`);
}

const tsx = (script, args, opts) => run(['--import', 'tsx', join(root, 'scripts', 'demo', script), ...args], opts);

function flagella(...args) {
  process.stdout.write(`\n  $ flagella ${args.join(' ')}\n`);
  run([join(root, 'bin', 'flagella.js'), ...args]);
}

function main() {
  step('set-up (npm ci and Debian packages only when missing)');
  ensureDebianPackages();
  ensureNodeModules();
  process.stdout.write('  ready\n');

  step('statedb: tables, one atomic commit, queries, a watch, a change stream');
  tsx('statedb-tour.ts', []);

  step('a durable table survives its process being killed');
  const dir = mkdtempSync(join(tmpdir(), `flagella-demo-${process.pid}-`));
  try {
    const store = join(dir, 'state.mdb');
    // The writer kills itself on purpose: SIGKILL is its expected ending.
    tsx('durable-restart.ts', ['write', store], { okStatus: ['SIGKILL'] });
    tsx('durable-restart.ts', ['read', store]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  step('the flagella command (reading its in-process demo database until the agent exists)');
  flagella('db', 'tables');
  flagella('db', 'show', 'frontends');
  flagella('db', 'list', 'frontends', 'default/web', '--index', 'service', '--columns', 'address,backends');
  flagella('db', 'get', 'services', 'kube-system/kube-dns', '-o', 'yaml');
  process.stdout.write('\n  (watch: the demo database scales, deletes and restores a frontend every 200 ms)');
  flagella('db', 'watch', 'frontends', '--count', '9', '--demo-activity-ms', '200');

  process.stdout.write('\ndemo done\n');
}

try {
  main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
