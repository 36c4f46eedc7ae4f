// Writes the generated layouts file for an object, only when its content changes (so
// tsc and watchers see no spurious modification on every build).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateLayoutsSource, type CodegenOptions } from './codegen.js';
import { modelFromObject } from './object-model.js';

export interface GenerateResult {
  written: boolean;
  source: string;
}

/** Generates TypeScript layouts from objectPath into outPath. Throws LayoutError/ElfError/BtfError. */
export function generateLayouts(objectPath: string, outPath: string, opts: CodegenOptions): GenerateResult {
  const source = generateLayoutsSource(modelFromObject(objectPath), opts);
  if (existsSync(outPath) && readFileSync(outPath, 'utf8') === source) return { written: false, source };
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, source);
  return { written: true, source };
}
