// `flagella monitor`: datapath drop and trace events, live, one line each.
// From the agent's /v1/events stream by default (the agent owns the ring
// buffer's single consumer position), or with --direct from the pinned ring
// buffer itself when no agent runs.
import { InvalidArgumentError, Option } from 'commander';
import type { DatapathEvent } from '../../../datapath/index.js';
import type { CliContext, CommandModule } from '../context.js';
import { formatEvent, monitorEventOf } from '../event-format.js';
import type { MonitorEvent } from '../event-format.js';
import { bpfRootOption, readingMaps } from '../map-access.js';

interface MonitorOptions {
  bpfRoot: string;
  direct: boolean;
  type: 'all' | 'drop' | 'trace';
  output: 'text' | 'json';
  count?: number;
}

const MONITOR_HELP = `
One line per event: time, type (drop or trace) and reason, the hook and
interface, protocol and addresses as the packet arrived (before any
rewrite), then the peers' security identities (policy drops), the service
and backend ids (load balancing), and the packet length. Only events from
now on are shown. Drops are always reported; traces only when the agent
enables them. Ctrl-C ends it with status 0.

Without --direct the events come from the agent (--api-socket); with
--direct from the ring buffer pinned under --bpf-root: use it only when no
agent runs, since the ring buffer has a single reader position and each
event would reach only one of the two.
`;

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Events from the pinned ring buffer until `signal` aborts; what piled up before is skipped. */
async function* directEvents(bpfRoot: string, signal: AbortSignal, onOpen: () => void): AsyncGenerator<MonitorEvent> {
  const { openPinnedEventReader } = await import('../../../datapath/index.js');
  const reader = await readingMaps(bpfRoot, 'the event ring buffer', () => openPinnedEventReader(bpfRoot));
  const queue: DatapathEvent[] = [];
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    reader.poll(); // the backlog: events from before this command
    reader.start((event) => {
      queue.push(event);
      wake?.();
    });
    onOpen();
    while (!signal.aborted) {
      const event = queue.shift();
      if (event !== undefined) {
        yield monitorEventOf({ ...event, timestampNs: event.timestampNs.toString() });
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    reader.close();
  }
}

async function* agentEvents(ctx: CliContext, onOpen: () => void): AsyncGenerator<MonitorEvent> {
  for await (const item of ctx.api().stream('/v1/events', ctx.signal, onOpen)) yield monitorEventOf(item);
}

export async function monitor(ctx: CliContext, opts: MonitorOptions): Promise<void> {
  const { attachedDeviceNames } = await import('../../../datapath/index.js');
  const names = attachedDeviceNames(opts.bpfRoot);
  // Said once events are really being read, so anything after it is shown.
  const listening = () =>
    ctx.warn(opts.direct ? `Listening for datapath events in ${opts.bpfRoot}; Ctrl-C to stop.` : `Listening for datapath events from the agent (${ctx.api().socketPath}); Ctrl-C to stop.`);
  const events = opts.direct ? directEvents(opts.bpfRoot, ctx.signal, listening) : agentEvents(ctx, listening);
  // A pending promise does not keep Node running; this does, until the monitor ends.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let seen = 0;
  try {
    for await (const event of events) {
      if (opts.type !== 'all' && event.type !== opts.type) continue;
      ctx.out.write(opts.output === 'json' ? `${JSON.stringify(event)}\n` : `${formatEvent(event, names)}\n`);
      if (ctx.out.closed || (opts.count !== undefined && ++seen >= opts.count)) break;
    }
  } finally {
    clearInterval(keepAlive);
  }
}

export const monitorCommands: CommandModule = {
  name: 'monitor',
  register(program, ctx) {
    program
      .command('monitor')
      .description('print datapath drop and trace events as they happen, one line each')
      .option('--direct', 'read the pinned ring buffer instead of asking the agent (only when no agent runs)', false)
      .addOption(bpfRootOption(ctx))
      .addOption(new Option('--type <type>', 'which events').choices(['all', 'drop', 'trace']).default('all'))
      .addOption(new Option('-o, --output <format>', 'output format (json: one object per line)').choices(['text', 'json']).default('text'))
      .option('-n, --count <n>', 'stop after n events', parseCount)
      .addHelpText('after', MONITOR_HELP)
      .action((opts: MonitorOptions) => monitor(ctx, opts));
  },
};
