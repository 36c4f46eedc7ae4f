// `flagella ct list`: the datapath's connection tracking table (flg_ct4),
// decoded, one line per entry, read from the pinned map.
import { InvalidArgumentError, Option } from 'commander';
import type { ConntrackEntry } from '../../../datapath/index.js';
import { OUTPUT_FORMATS, renderJSON, renderTable, renderYAML, selectColumns } from '../../../statedb/index.js';
import type { Cells, OutputFormat } from '../../../statedb/index.js';
import type { CliContext, CommandModule } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { bpfRootOption, identityText, readingMaps } from '../map-access.js';

interface ListOptions {
  bpfRoot: string;
  output: OutputFormat;
  columns?: string[];
  kind?: string;
}

const KINDS = ['service', 'reply', 'egress', 'ingress'] as const;

const LIST_HELP = `
One line per entry, for the packets its key matches:
  Kind       service: a client's flow to a service address (remembers the backend)
             reply:   the backend's replies (rewritten back to the service address)
             egress:  a flow an endpoint opened; ingress: a flow into an endpoint
                      (tracked while policy is on, so replies pass)
  Backend, Service   the backend id and service id (rev-NAT index) of service/reply entries
  Peer, Match        egress/ingress: the other side's identity and which policy entry admitted it
  Flags      seen-reply, closing (FIN or RST seen), policy-enforced
  Expires    seconds left (negative: expired, not yet evicted); Age: seconds since created
Reads the pinned map directly, with or without a running agent.
`;

function cells(entries: readonly ConntrackEntry[]): Cells {
  const dash = (n: number) => (n === 0 ? '-' : String(n));
  const policySide = (e: ConntrackEntry) => e.kind === 'egress' || e.kind === 'ingress';
  return {
    header: ['Kind', 'Protocol', 'Source', 'Destination', 'Backend', 'Service', 'Peer', 'Match', 'Flags', 'Expires', 'Age'],
    rows: entries.map((e) => [
      e.kind,
      e.protocol,
      `${e.source}:${e.sourcePort}`,
      `${e.destination}:${e.destinationPort}`,
      dash(e.backendId),
      dash(e.revNatIndex),
      policySide(e) ? identityText(e.peerIdentity, '0') : '-',
      policySide(e) ? e.policyMatch : '-',
      e.flags.length === 0 ? '-' : e.flags.join(','),
      `${e.expiresIn}s`,
      `${e.age}s`,
    ]),
  };
}

function parseColumns(value: string): string[] {
  const names = value.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  if (names.length === 0) throw new InvalidArgumentError('expected column names separated by commas');
  return names;
}

/** Reads and prints flg_ct4 under opts.bpfRoot. CliError exit 3 when it is not pinned there. */
export async function ctList(ctx: CliContext, opts: ListOptions): Promise<void> {
  if (opts.columns !== undefined && opts.output !== 'table') throw new CliError(`--columns applies to table output only, not -o ${opts.output}`, ExitCode.Usage);
  const { dumpConntrack, openPinnedMaps } = await import('../../../datapath/index.js');
  let entries = await readingMaps(opts.bpfRoot, 'the conntrack map', () => {
    using maps = openPinnedMaps(opts.bpfRoot, ['ct4']);
    return dumpConntrack(maps.ct4);
  });
  if (opts.kind !== undefined) entries = entries.filter((e) => e.kind.split('+').includes(opts.kind!));
  if (opts.output === 'json') ctx.out.write(renderJSON(entries));
  else if (opts.output === 'yaml') ctx.out.write(renderYAML(entries));
  else {
    const table = cells(entries);
    ctx.out.write(renderTable(opts.columns === undefined ? table : selectColumns(table, opts.columns)));
  }
}

export const ctCommands: CommandModule = {
  name: 'ct',
  register(program, ctx) {
    const ct = program.command('ct').description("inspect the datapath's connection tracking");
    ct.command('list')
      .description('print every conntrack entry, decoded, one line per entry (reads the pinned map directly)')
      .addOption(bpfRootOption(ctx))
      .addOption(new Option('--kind <kind>', 'only entries of this kind').choices(KINDS))
      .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
      .option('--columns <names>', 'table output only: columns to show, comma-separated (case-insensitive)', parseColumns)
      .addHelpText('after', LIST_HELP)
      .action((opts: ListOptions) => ctList(ctx, opts));
  },
};
