// Scenario files for the load-balancing pipeline: Kubernetes YAML in, the
// expected map dump and table output beside it, in one txtar-like file:
//
//   #! --lb-algorithm=maglev --maglev-table-size=251     (optional flags)
//   # comment
//   apply svc.yaml eps.yaml        upsert the objects of these files in one batch
//   delete eps.yaml                delete them in one batch
//   expect-errors errors.txt       the per-object errors of the last apply/delete (no file: none)
//   expect-dump dump.txt           `lb dump` of the maps
//   expect-table frontends fe.txt  the table, in the columns of the file's header line
//   forget gone.yaml               drop objects without telling the agent (deleted while it was down)
//   restart                        a new agent (DB, writer, operations) on the same maps, fed the
//                                  objects applied so far (minus forgotten ones)
//   -- svc.yaml --
//   ...
//
// Every command waits until the previous changes are reconciled with no
// retry pending. FLAGELLA_LB_UPDATE=1 rewrites the expected sections from
// what the run produced (review the diff before committing it).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseObjectFile } from '../../agent/index.js';
import type { LBObjectChange } from '../../tables/index.js';
import { MapsUnderTest, Pipeline, type PipelineOptions } from './harness.js';

export interface Scenario {
  readonly path: string;
  readonly flags: ReadonlyMap<string, string>;
  readonly script: readonly { readonly line: number; readonly words: readonly string[] }[];
  readonly files: Map<string, string>;
  readonly header: readonly string[];
}

export function parseScenario(path: string): Scenario {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const files = new Map<string, string>();
  const script: { line: number; words: string[] }[] = [];
  const header: string[] = [];
  const flags = new Map<string, string>();
  let current: string | undefined;
  let body: string[] = [];
  const flush = () => {
    if (current !== undefined) files.set(current, body.join('\n').replace(/\n*$/, '\n'));
  };
  lines.forEach((line, i) => {
    const section = /^-- (.+) --$/.exec(line);
    if (section) {
      flush();
      current = section[1]!;
      body = [];
      return;
    }
    if (current !== undefined) {
      body.push(line);
      return;
    }
    header.push(line);
    if (i === 0 && line.startsWith('#!')) {
      for (const flag of line.slice(2).trim().split(/\s+/).filter(Boolean)) {
        const m = /^--([a-z-]+)(?:=(.*))?$/.exec(flag);
        if (!m) throw new Error(`${path}:1: bad flag ${flag}`);
        flags.set(m[1]!, m[2] ?? 'true');
      }
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    script.push({ line: i + 1, words: trimmed.split(/\s+/) });
  });
  flush();
  return { path, flags, script, files, header };
}

/** The pipeline options a scenario's flags ask for. */
export function scenarioOptions(s: Scenario, base: PipelineOptions): PipelineOptions {
  const known = new Set(['lb-algorithm', 'maglev-table-size', 'node', 'algorithm-annotation', 'external-clusterip', 'source-ranges-all-types', 'nodeport']);
  for (const f of s.flags.keys()) if (!known.has(f)) throw new Error(`${s.path}: unknown flag --${f}`);
  const algorithm = s.flags.get('lb-algorithm');
  if (algorithm !== undefined && algorithm !== 'random' && algorithm !== 'maglev') throw new Error(`${s.path}: --lb-algorithm must be random or maglev`);
  return {
    ...base,
    nodeName: s.flags.get('node') ?? 'testnode',
    maglevTableSize: Number(s.flags.get('maglev-table-size') ?? 1021),
    nodePort: s.flags.get('nodeport') !== 'false',
    ops: {
      ...(algorithm === undefined ? {} : { defaultAlgorithm: algorithm }),
      algorithmAnnotation: s.flags.get('algorithm-annotation') !== 'false',
      externalClusterIP: s.flags.get('external-clusterip') === 'true',
      sourceRangesAllTypes: s.flags.get('source-ranges-all-types') === 'true',
    },
  };
}

export class ScenarioFailure extends Error {}

const updating = process.env.FLAGELLA_LB_UPDATE === '1';

/**
 * Runs a scenario against the given target. Throws ScenarioFailure naming
 * the file, line and the difference. In update mode, records outputs.
 */
export async function runScenario(s: Scenario, base: PipelineOptions): Promise<{ injectedFaults: number }> {
  const opts = scenarioOptions(s, base);
  const maps = MapsUnderTest.create(opts);
  let pipeline = new Pipeline(maps, opts).start();
  const live = new Map<string, LBObjectChange>();
  let lastErrors: string[] = [];
  try {
    for (const { line, words } of s.script) {
      const where = `${s.path}:${line}`;
      const [cmd, ...args] = words as [string, ...string[]];
      await pipeline.settle();
      switch (cmd) {
        case 'apply':
        case 'delete': {
          const changes = args.flatMap((f) => objectsOf(s, f, where)).map((o) => ({ ...o, type: cmd === 'apply' ? ('upsert' as const) : ('delete' as const) }));
          for (const c of changes) {
            const key = objectKeyOf(c);
            if (c.type === 'upsert') live.set(key, c);
            else live.delete(key);
          }
          lastErrors = pipeline.apply(changes);
          break;
        }
        case 'expect-errors':
          compare(s, where, args[0], lastErrors.map((e) => `${e}\n`).join(''));
          break;
        case 'expect-dump':
          compare(s, where, args[0], maps.dump());
          break;
        case 'expect-table': {
          const [table, file] = args;
          if (table === undefined || file === undefined) throw new ScenarioFailure(`${where}: expect-table <table> <file>`);
          const expected = s.files.get(file);
          if (expected === undefined) throw new ScenarioFailure(`${where}: no section ${file}`);
          const columns = (expected.split('\n')[0] ?? '').trim().split(/\s+/);
          compare(s, where, file, pipeline.show(table, columns));
          break;
        }
        case 'forget':
          for (const o of args.flatMap((f) => objectsOf(s, f, where))) live.delete(objectKeyOf({ ...o, type: 'delete' }));
          break;
        case 'restart': {
          await pipeline.stop();
          pipeline = new Pipeline(maps, opts);
          const init = pipeline.writer.registerInitializer('scenario', ['Service', 'EndpointSlice', 'Node']);
          pipeline.start();
          lastErrors = pipeline.apply([...live.values()]);
          init.markDone();
          break;
        }
        default:
          throw new ScenarioFailure(`${where}: unknown command ${cmd}`);
      }
    }
    await pipeline.settle();
    return { injectedFaults: maps.faulty?.injected ?? 0 };
  } finally {
    await pipeline.stop();
    maps.dispose();
  }
}

function objectsOf(s: Scenario, file: string, where: string): { kind: string; object: unknown }[] {
  const text = s.files.get(file);
  if (text === undefined) throw new ScenarioFailure(`${where}: no section ${file}`);
  const parsed = parseObjectFile(file, text);
  if (parsed.problems.length > 0) throw new ScenarioFailure(`${where}: ${file}: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return parsed.objects.map((o) => ({ kind: o.kind, object: o.object }));
}

function objectKeyOf(c: LBObjectChange): string {
  const meta = (c.object as { metadata?: { namespace?: string; name?: string } }).metadata;
  return `${c.kind}/${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}

function normalize(text: string): string {
  const lines = text.split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

function compare(s: Scenario, where: string, file: string | undefined, actual: string): void {
  const expected = file === undefined ? '' : s.files.get(file);
  if (expected === undefined) throw new ScenarioFailure(`${where}: no section ${file}`);
  if (normalize(expected) === normalize(actual)) return;
  if (updating && file !== undefined) {
    s.files.set(file, `${normalize(actual)}\n`);
    return;
  }
  throw new ScenarioFailure(`${where}: ${file ?? 'errors'} differs\n--- expected\n${normalize(expected)}\n--- actual\n${normalize(actual)}`);
}

/** Writes the scenario back (update mode). */
export function saveScenario(s: Scenario): void {
  let out = `${s.header.join('\n').replace(/\n*$/, '')}\n`;
  for (const [name, body] of s.files) out += `-- ${name} --\n${body.replace(/\n*$/, '\n')}`;
  writeFileSync(s.path, out);
}

export const updateMode = updating;
