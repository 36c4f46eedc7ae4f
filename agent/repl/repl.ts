// `flagella repl`: an interactive shell over the same commands as the CLI.
//
// Built on node:readline with our own line parser rather than node:repl:
// node:repl is a JavaScript evaluator, and its features (multi-line
// recovery, `.editor`, `_`, its own Ctrl-C semantics that break only its
// built-in eval) are in the way of a command shell; readline gives exactly
// the parts we want (line editing, history, async completion, a SIGINT
// event in raw mode) and lets Ctrl-C stop the running command instead of
// the shell. Each line becomes a `flagella` command line run on a fresh
// commander program with a per-line abort signal; the data source is the
// session's, opened once.
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import type { CliContext } from '../cli/context.js';
import { buildProgram, executeCommand } from '../cli/program.js';
import type { CliIO } from '../cli/program.js';
import { complete } from './completer.js';
import type { CompletionSource, TableNames } from './completer.js';
import { History } from './history.js';
import { splitLine } from './line-parser.js';
import { helpArgv, REPL_HELP, resolveLine } from './repl-commands.js';

export interface ReplOptions {
  /** The session: data source and agent client of the global options, and the signal that ends the REPL (SIGTERM, closed output). */
  readonly ctx: CliContext;
  /** Default --bpf-root of the map commands run here. */
  readonly bpfRoot: string;
  /** History file; undefined keeps history in memory only. */
  readonly historyFile: string | undefined;
  readonly input?: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly errorOutput?: NodeJS.WritableStream;
  /** Shown in the banner. */
  readonly version: string;
}

const PROMPT = 'flagella> ';
const TABLES_TTL_MS = 5000;

/** Runs the REPL until exit, Ctrl-D, or the session's signal aborts. Resolves when it has ended; never rejects for a command's failure. */
export async function runRepl(opts: ReplOptions): Promise<void> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const io: CliIO = { stdout: output, stderr: opts.errorOutput ?? process.stderr };
  const terminal = input.isTTY === true && output.isTTY === true;
  const history = terminal && opts.historyFile !== undefined ? new History(opts.historyFile, (l) => io.stderr.write(`${l}\n`)) : undefined;
  const source = await opts.ctx.source();
  const session = new ReplSession(opts, io);
  io.stdout.write(`flagella ${opts.version} REPL on the ${source.description}. Type "help"; Tab completes; Ctrl-D leaves.\n`);
  await session.greet();

  // Created only now and served at once: readline reads its input from the
  // start, and lines piped in before the listeners exist would be lost.
  const rl = createInterface({
    input,
    output,
    terminal,
    prompt: terminal ? PROMPT : '',
    history: history?.load() ?? [],
    historySize: 1000,
    removeHistoryDuplicates: true,
    completer: (line: string, callback: (err: null, result: [string[], string]) => void) => {
      complete(line, session.completion).then(
        (r) => callback(null, r),
        () => callback(null, [[], line]),
      );
    },
  });
  return session.serve(rl, history);
}

class ReplSession {
  private current: AbortController | undefined;
  private tablesCache: { at: number; tables: Promise<readonly TableNames[]> } | undefined;
  readonly completion: CompletionSource;

  constructor(
    private readonly opts: ReplOptions,
    private readonly io: CliIO,
  ) {
    const program = buildProgram(this.lineContext(new AbortController().signal), io);
    this.completion = { program, tables: () => this.tables() };
  }

  /** Says early when the agent is not there (map commands still work). */
  async greet(): Promise<void> {
    try {
      await (await this.opts.ctx.source()).tables();
    } catch (e) {
      this.io.stderr.write(`warning: ${e instanceof Error ? e.message : String(e)}; table commands fail until it answers.\n`);
    }
  }

  /**
   * Serves lines until `exit`, end of input (Ctrl-D, or the end of a piped
   * script: lines already read still run), or the session's signal (the
   * running command is stopped and the rest dropped).
   */
  serve(rl: Interface, history: History | undefined): Promise<void> {
    return new Promise((resolve) => {
      let queue = Promise.resolve();
      let pending = 0;
      let leaving = false; // exit typed, or the session aborted: queued lines are dropped
      let closed = false;
      const onSessionAbort = () => {
        leaving = true;
        this.current?.abort(new Error('session ended'));
        rl.close();
      };
      this.opts.ctx.signal.addEventListener('abort', onSessionAbort, { once: true });
      rl.on('line', (line: string) => {
        history?.add(line);
        pending++;
        queue = queue.then(async () => {
          pending--;
          if (leaving) return;
          if (await this.handle(line)) {
            leaving = true;
            rl.close();
          } else if (pending === 0 && !closed) rl.prompt();
        });
      });
      rl.on('SIGINT', () => {
        if (this.current !== undefined) {
          this.current.abort(new Error('interrupted'));
          return;
        }
        // No command running: drop the line being typed, like a shell.
        rl.write('', { ctrl: true, name: 'e' });
        rl.write('', { ctrl: true, name: 'u' });
        this.io.stdout.write('^C\n');
        rl.prompt();
      });
      rl.on('close', () => {
        closed = true;
        void queue.then(() => {
          this.opts.ctx.signal.removeEventListener('abort', onSessionAbort);
          resolve();
        });
      });
      if (this.opts.ctx.signal.aborted) onSessionAbort();
      else rl.prompt();
    });
  }

  /** Runs one line; true when it asks to leave. */
  private async handle(line: string): Promise<boolean> {
    const split = splitLine(line);
    if (split.unterminated) {
      this.io.stderr.write('flagella: unterminated quote\n');
      return false;
    }
    const action = resolveLine(split.words);
    switch (action.kind) {
      case 'empty':
        return false;
      case 'exit':
        return true;
      case 'refused':
        this.io.stderr.write(`flagella: ${action.message}\n`);
        return false;
      case 'help':
        if (action.topic.length === 0) this.io.stdout.write(`${REPL_HELP}\n`);
        else await this.run(helpArgv(action.topic));
        return false;
      case 'run':
        if (!this.knows(action.argv[0]!)) {
          this.io.stderr.write(`flagella: unknown command "${action.argv[0]!}" (type help for the commands)\n`);
          return false;
        }
        await this.run(action.argv);
        return false;
    }
  }

  /** A first word the program has a command for (options like --version pass through to it). */
  private knows(word: string): boolean {
    return word.startsWith('-') || this.completion.program.commands.some((c) => c.name() === word || c.aliases().includes(word));
  }

  private async run(argv: readonly string[]): Promise<void> {
    const controller = new AbortController();
    this.current = controller;
    try {
      const program = buildProgram(this.lineContext(controller.signal), this.io);
      await executeCommand(program, argv, this.io);
    } finally {
      this.current = undefined;
    }
  }

  private lineContext(signal: AbortSignal): CliContext {
    const parent = this.opts.ctx;
    return {
      out: parent.out,
      warn: (line) => parent.warn(line),
      source: () => parent.source(),
      api: () => parent.api(),
      signal: AbortSignal.any([signal, parent.signal]),
      settings: { bpfRoot: this.opts.bpfRoot, interactive: true },
    };
  }

  private tables(): Promise<readonly TableNames[]> {
    const now = Date.now();
    if (this.tablesCache === undefined || now - this.tablesCache.at > TABLES_TTL_MS) {
      const tables = this.opts.ctx
        .source()
        .then((s) => s.tables())
        .then((list) => list.map((t) => ({ name: t.name, indexes: t.indexes.map((i) => i.name) })));
      void tables.catch(() => (this.tablesCache = undefined));
      this.tablesCache = { at: now, tables };
    }
    return this.tablesCache.tables;
  }
}
