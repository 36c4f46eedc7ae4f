// Generates TypeScript layouts (interfaces, codecs, map specs) from the BTF of the
// compiled datapath, so the C structs in bpf/ are the one source of truth.
//
//   node --import tsx scripts/gen-layouts.ts [object.o] [out.ts] [--kernel-import <specifier>]
//
// Defaults: build/bpf/flagella.o → datapath/maps/layouts.generated.ts. The file is
// rewritten only when its content changes. When the default object has not been built
// (no bpf/Makefile yet) the generator says so and exits 0; an explicit object that does
// not exist is an error.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLayouts } from '../datapath/kernel/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Args {
  object: string;
  out: string;
  explicitObject: boolean;
  kernelImport: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  let kernelImport: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--kernel-import') kernelImport = argv[++i];
    else if (arg.startsWith('--')) throw new Error(`gen-layouts: unknown option ${arg}`);
    else positional.push(arg);
  }
  return {
    object: resolve(positional[0] ?? join(root, 'build', 'bpf', 'flagella.o')),
    out: resolve(positional[1] ?? join(root, 'datapath', 'maps', 'layouts.generated.ts')),
    explicitObject: positional[0] !== undefined,
    kernelImport,
  };
}

/** The kernel layer's index as an import specifier relative to the output file. */
function defaultKernelImport(out: string): string {
  const target = join(root, 'datapath', 'kernel', 'index.js');
  const rel = relative(dirname(out), target).split('\\').join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.object)) {
    if (args.explicitObject) throw new Error(`gen-layouts: ${args.object} does not exist`);
    process.stderr.write(`gen-layouts: ${relative(root, args.object)} is not built yet; no layouts generated\n`);
    return;
  }
  const source = relative(root, args.object).startsWith('..') ? args.object : relative(root, args.object);
  const result = generateLayouts(args.object, args.out, {
    kernelImport: args.kernelImport ?? defaultKernelImport(args.out),
    source,
  });
  if (result.written) process.stderr.write(`gen-layouts: wrote ${relative(root, args.out)} from ${source}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
