// `flagella lb dump`: every entry of the load-balancing maps, read straight
// from the maps pinned under the BPF root, so it works with or without a
// running agent.
import { Option } from 'commander';
import { dumpLBMaps, LBMapsNotFoundError, openPinnedLBMaps } from '../../../datapath/index.js';
import type { CliContext, CommandModule } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

interface DumpOptions {
  bpfRoot: string;
  output: 'text' | 'json';
}

const DUMP_HELP = `
One line per map entry, sorted as byte strings:
  SVC: ID=<revnat> ADDR=<ip>:<port>/<PROTO>[/i] SLOT=0 LBALG=<alg> AFFTimeout=<s> COUNT=<n> QCOUNT=<n> FLAGS=<type>[+<flag>...]
  SVC: ID=<revnat> ADDR=... SLOT=<n> BEID=<backend id> COUNT=0 QCOUNT=0 FLAGS=...
  BE: ID=<id> ADDR=<ip>:<port>/<PROTO> STATE=<active|terminating|quarantined|maintenance>
  REV: ID=<id> ADDR=<ip>:<port>
  AFF: ID=<revnat> BEID=<id>
  SRCRANGE: ID=<revnat> CIDR=<prefix>
  MAGLEV: ID=<revnat> INNER=[<backend id>(<slots>), ...]
`;

/** Prints the dump of the maps pinned under `bpfRoot`. Throws CliError (exit 3) when they are not there. */
export function lbDump(ctx: CliContext, opts: DumpOptions): void {
  let maps: ReturnType<typeof openPinnedLBMaps>;
  try {
    maps = openPinnedLBMaps(opts.bpfRoot);
  } catch (err) {
    if (err instanceof LBMapsNotFoundError) throw new CliError(err.message, ExitCode.NotFound, { cause: err });
    throw new CliError(`cannot open the load-balancing maps under ${opts.bpfRoot}: ${err instanceof Error ? err.message : String(err)}`, ExitCode.Failure, { cause: err });
  }
  try {
    const lines = dumpLBMaps(maps);
    if (opts.output === 'json') ctx.out.write(`${JSON.stringify(lines.map((l) => l.entry), null, 2)}\n`);
    else ctx.out.write(lines.map((l) => `${l.line}\n`).join(''));
  } finally {
    maps.close();
  }
}

export const lbCommands: CommandModule = {
  name: 'lb',
  register(program, ctx) {
    const lb = program.command('lb').description('inspect the load balancer');
    lb.command('dump')
      .description('print every entry of the load-balancing maps (reads the pinned maps directly)')
      .option('--bpf-root <dir>', 'where the datapath pins its maps', ctx.settings.bpfRoot)
      .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
      .addHelpText('after', DUMP_HELP)
      .action((opts: DumpOptions) => lbDump(ctx, opts));
  },
};
