#!/usr/bin/env node
// Prepares a machine for tests, the demo and benchmarks. Idempotent and cheap
// when everything is already in place, so every entry point can call it:
//   1. npm ci when node_modules is missing or older than package-lock.json;
//   2. Debian packages only when something they provide is missing;
//   3. bpffs mounted at /sys/fs/bpf;
//   4. the eBPF object and the TypeScript layouts generated from its BTF.
// Uses only Node built-ins: it runs before dependencies are installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

function log(msg) {
  if (!quiet) process.stderr.write(`setup: ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, ...opts });
  if (res.status !== 0) {
    throw new Error(`setup: '${cmd} ${args.join(' ')}' failed with status ${res.status ?? res.signal}`);
  }
}

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm ci)');
  // Prebuilt binaries ship in optional packages (koffi, lmdb, esbuild), so no
  // install script needs to run.
  run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund']);
}

// What we need from Debian, and how to tell whether it is already there.
const debianNeeds = [
  { pkg: 'clang', present: () => have('clang') },
  { pkg: 'llvm', present: () => have('llvm-strip') || have('llvm-strip-14') },
  { pkg: 'libbpf-dev', present: () => existsSync('/usr/include/bpf/bpf_helpers.h') },
  { pkg: 'libbpf1', present: () => existsSync('/usr/lib/x86_64-linux-gnu/libbpf.so.1') || existsSync('/usr/lib/aarch64-linux-gnu/libbpf.so.1') },
  { pkg: 'linux-libc-dev', present: () => existsSync('/usr/include/linux/bpf.h') },
  { pkg: 'bpftool', present: () => have('bpftool') },
  { pkg: 'iproute2', present: () => have('ip') },
  { pkg: 'iptables', present: () => have('iptables') },
  { pkg: 'ethtool', present: () => have('ethtool') },
  { pkg: 'tmux', present: () => have('tmux') },
  { pkg: 'util-linux', present: () => have('nsenter') },
  { pkg: 'iputils-ping', present: () => have('ping') },
];

export function ensureDebianPackages() {
  const missing = debianNeeds.filter((n) => !n.present()).map((n) => n.pkg);
  if (missing.length === 0) return;
  if (!have('apt-get')) {
    throw new Error(`setup: missing ${missing.join(', ')} and apt-get is not available to install them`);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

export function ensureBpffs() {
  const mounts = readFileSync('/proc/mounts', 'utf8');
  if (/^\S+ \/sys\/fs\/bpf bpf /m.test(mounts)) return;
  log('mounting bpffs at /sys/fs/bpf');
  execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
}

// Compiles bpf/ and generates the TypeScript layouts from the object's BTF.
// make decides what is stale; the generator rewrites only when the BTF changed.
export function buildBpf() {
  if (existsSync(join(root, 'bpf', 'Makefile'))) run('make', ['-s', '-C', 'bpf']);
  const gen = join(root, 'scripts', 'gen-layouts.ts');
  if (existsSync(gen)) run(process.execPath, ['--import', 'tsx', gen]);
}

function main() {
  const bpfOnly = process.argv.includes('--bpf-only');
  if (!bpfOnly) {
    ensureDebianPackages();
    ensureNodeModules();
    ensureBpffs();
  }
  buildBpf();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
