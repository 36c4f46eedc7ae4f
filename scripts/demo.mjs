#!/usr/bin/env node
// `npm run demo`: set-up on a fresh machine (npm ci, Debian packages, bpffs
// and the eBPF object, each only when missing), then the demo itself
// (scripts/demo/run-demo.ts): a service and a network policy on a live eBPF
// datapath in network namespaces, narrated step by step, everything removed
// at the end, on failure and on Ctrl-C. Needs root.
//
//   npm run demo [-- --short]     --short: fewer connections (the test runs it)
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBpf, ensureBpffs, ensureDebianPackages, ensureNodeModules } from './setup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function setup() {
  process.stdout.write('\n== 1. set-up (npm ci, Debian packages, bpffs, the eBPF object: only what is missing)\n');
  if (process.getuid?.() !== 0) throw new Error('the demo needs root: it loads eBPF programs and creates network namespaces');
  ensureDebianPackages();
  ensureNodeModules();
  ensureBpffs();
  buildBpf();
  process.stdout.write('   ready\n');
}

try {
  setup();
} catch (err) {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

// The steps run in a child (TypeScript through tsx). Ctrl-C reaches both
// processes; this one waits for the child's clean-up and exits with its
// status, and passes on a signal sent to it alone (kill <pid>).
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'demo', 'run-demo.ts'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
});
