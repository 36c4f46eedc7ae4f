// Tab completion for the REPL: command words, subcommands, table names
// where a command takes a table, index names after --index, option names
// and option values (their choices), all read from the same commander
// program the lines run on, so completion cannot drift from the commands.
import type { Command, Option } from 'commander';
import { splitLine } from './line-parser.js';
import { COMMAND_WORDS, expand, expandShortForm, TABLE_COMMANDS } from './repl-commands.js';

/** A table's name and its index names, for completion. */
export interface TableNames {
  readonly name: string;
  readonly indexes: readonly string[];
}

export interface CompletionSource {
  /** The tables of the data source (may fail: completion then offers none). */
  tables(): Promise<readonly TableNames[]>;
  /** The program lines run on (its commands and options). */
  readonly program: Command;
}

/** The command `argv` reaches, and the words after it. */
function commandOf(program: Command, argv: readonly string[]): { cmd: Command; rest: readonly string[] } {
  let cmd = program;
  let i = 0;
  for (; i < argv.length; i++) {
    const next = cmd.commands.find((c) => c.name() === argv[i] || c.aliases().includes(argv[i]!));
    if (next === undefined) break;
    cmd = next;
  }
  return { cmd, rest: argv.slice(i) };
}

function optionOf(cmd: Command, flag: string): Option | undefined {
  return cmd.options.find((o) => o.long === flag || o.short === flag);
}

/** The positional words of `rest` (option flags and their values left out). */
function positionals(cmd: Command, rest: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w.startsWith('-')) {
      const o = optionOf(cmd, w.split('=')[0]!);
      if (o !== undefined && (o.required || o.optional) && !w.includes('=')) i++;
    } else out.push(w);
  }
  return out;
}

// A single match ends with a space, so the next word can follow (as in a shell).
function matching(candidates: Iterable<string>, partial: string): string[] {
  const found = [...new Set(candidates)].filter((c) => c.startsWith(partial)).sort();
  return found.length === 1 ? [`${found[0]!} `] : found;
}

/**
 * Completions for `line` (cursor at its end) as readline wants them:
 * [candidates, the partial word they replace]. Never rejects.
 */
export async function complete(line: string, source: CompletionSource): Promise<[string[], string]> {
  const split = splitLine(line);
  const endsInSpace = split.lastWordStart === line.length;
  const partial = endsInSpace ? '' : line.slice(split.lastWordStart);
  const prior = endsInSpace ? split.words : split.words.slice(0, -1);
  if (prior.length === 0) return [matching(COMMAND_WORDS, partial), partial];
  if (prior[0] === 'help') return prior.length === 1 ? [matching(COMMAND_WORDS.filter((w) => w !== 'help' && w !== 'exit'), partial), partial] : [[], partial];

  // A bare group (`lb`) offers its subcommands; with more words it stands for its default command.
  const argv = prior.length === 1 && !partial.startsWith('-') ? expandShortForm(prior) : expand(prior);
  const { cmd, rest } = commandOf(source.program, argv);
  const previous = prior[prior.length - 1]!;
  const previousOption = previous.startsWith('-') ? optionOf(cmd, previous) : undefined;

  if (previousOption !== undefined && (previousOption.required || previousOption.optional)) {
    if (previousOption.long === '--index') {
      const table = positionals(cmd, rest)[0];
      const tables = await safeTables(source);
      const indexes = tables.find((t) => t.name === table)?.indexes ?? [];
      return [matching(indexes, partial), partial];
    }
    return [matching(previousOption.argChoices ?? [], partial), partial];
  }
  if (partial.startsWith('-')) {
    return [matching(cmd.options.flatMap((o) => (o.hidden ? [] : [o.long ?? o.short ?? ''])).filter(Boolean), partial), partial];
  }
  if (cmd.commands.length > 0 && rest.length === 0) return [matching(cmd.commands.map((c) => c.name()).filter((n) => n !== 'help'), partial), partial];
  const takesTable = cmd.parent?.name() === 'db' && TABLE_COMMANDS.has(cmd.name());
  if (takesTable && positionals(cmd, rest).length === 0) {
    return [matching((await safeTables(source)).map((t) => t.name), partial), partial];
  }
  return [[], partial];
}

async function safeTables(source: CompletionSource): Promise<readonly TableNames[]> {
  try {
    return await source.tables();
  } catch {
    return [];
  }
}
