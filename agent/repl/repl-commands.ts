// The REPL's vocabulary: short forms of the CLI commands (`show frontends`
// is `db show frontends`), the words that cannot run inside it, and its help.
// Every line ends up as a `flagella` command line, so the REPL and the CLI
// accept the same options and print the same output.

/** Short form -> the CLI words it stands for. */
const SHORT_FORMS: Readonly<Record<string, readonly string[]>> = {
  tables: ['db', 'tables'],
  show: ['db', 'show'],
  get: ['db', 'get'],
  list: ['db', 'list'],
  prefix: ['db', 'prefix'],
  lowerbound: ['db', 'lowerbound'],
  watch: ['db', 'watch'],
};

/** A group alone runs its one inspection command: `lb` is `lb dump`. */
const GROUP_DEFAULTS: Readonly<Record<string, string>> = { lb: 'dump', policy: 'dump', ct: 'list' };

/** Commands that start another long-lived session: refused inside the REPL. */
const REFUSED: Readonly<Record<string, string>> = {
  repl: 'already in the REPL',
  agent: 'run the agent from a shell, not from the REPL',
};

/** Commands whose next word is a table name. */
export const TABLE_COMMANDS: ReadonlySet<string> = new Set(['show', 'get', 'list', 'prefix', 'lowerbound', 'watch']);

/** The first words the REPL offers for completion. */
export const COMMAND_WORDS: readonly string[] = [
  'tables',
  'show',
  'get',
  'list',
  'prefix',
  'lowerbound',
  'watch',
  'lb',
  'policy',
  'ct',
  'status',
  'monitor',
  'db',
  'help',
  'exit',
];

export type ReplAction =
  | { readonly kind: 'empty' }
  | { readonly kind: 'exit' }
  | { readonly kind: 'help'; readonly topic: readonly string[] }
  | { readonly kind: 'refused'; readonly message: string }
  | { readonly kind: 'run'; readonly argv: readonly string[] };

/** What a line's words ask for. Pure. */
export function resolveLine(words: readonly string[]): ReplAction {
  const [first, ...rest] = words;
  if (first === undefined) return { kind: 'empty' };
  if (first === 'exit' || first === 'quit') return { kind: 'exit' };
  if (first === 'help' || first === '?') return { kind: 'help', topic: rest };
  const refused = REFUSED[first];
  if (refused !== undefined) return { kind: 'refused', message: `${first}: ${refused}` };
  return { kind: 'run', argv: expand(words) };
}

/** The words with a short form replaced by the CLI words it stands for (`show x` -> `db show x`). */
export function expandShortForm(words: readonly string[]): string[] {
  const [first, ...rest] = words;
  const short = first === undefined ? undefined : SHORT_FORMS[first];
  return short === undefined ? [...words] : [...short, ...rest];
}

/** The CLI words for a line: short forms expanded, bare groups given their command (`lb` -> `lb dump`). */
export function expand(words: readonly string[]): string[] {
  const [first, ...rest] = words;
  if (first === undefined) return [];
  if (SHORT_FORMS[first] !== undefined) return expandShortForm(words);
  const dflt = GROUP_DEFAULTS[first];
  if (dflt !== undefined && (rest.length === 0 || rest[0]!.startsWith('-'))) return [first, dflt, ...rest];
  return [...words];
}

export const REPL_HELP = `Commands (each is also a flagella command line: "show x" is "flagella db show x"):
  tables                                  the tables, object counts, revisions, indexes
  show <table>                            every row of a table
  get|list|prefix|lowerbound <table> <key> [--index <name>]
                                          query a table by an index (default: the primary)
  watch <table>                           the rows, then changes as they commit (Ctrl-C stops it)
  lb | policy | ct                        dump the load-balancing maps, the policy maps, conntrack
  status                                  the agent's status
  monitor                                 datapath drop and trace events (Ctrl-C stops it)
  db ... | lb dump | policy dump | ct list  the full command forms
  help [command]                          this text, or a command's options (help show)
  exit | quit | Ctrl-D                    leave

Most commands take -o table|json|yaml, and --columns a,b for tables.
Tab completes commands, table names and index names. History is kept across sessions.
Ctrl-C stops the running command (not the REPL) or clears the line.`;

/** The argv that prints a command's help: `help show` -> `db show --help`. */
export function helpArgv(topic: readonly string[]): string[] {
  return [...expand(topic), '--help'];
}
