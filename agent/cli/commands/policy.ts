// `flagella policy dump`: the network-policy state of the datapath as the
// packets see it, read from the pinned maps: per endpoint what it enforces
// and its policy map's entries, then the ipcache.
import { Option } from 'commander';
import type { EndpointPolicyDump, PolicyDump } from '../../../datapath/index.js';
import { OUTPUT_FORMATS, renderTable, renderYAML } from '../../../statedb/index.js';
import type { OutputFormat } from '../../../statedb/index.js';
import type { CliContext, CommandModule } from '../context.js';
import { bpfRootOption, identityText, readingMaps } from '../map-access.js';

interface DumpOptions {
  bpfRoot: string;
  output: OutputFormat;
}

const DUMP_HELP = `
Per endpoint (a host-side interface in flg_endpoints): its identity, the
directions it enforces, and its policy map, one line per entry:
  Direction   ingress (into the endpoint) or egress (from it)
  Identity    the peer's security identity; "any" matches every peer
  Protocol    TCP, UDP or any
  Ports       one port, an aligned block of ports (a range is several blocks), or any
  Verdict     allow or deny
  Precedence  the higher wins between an identity's entry and the any-peer entry
Then the ipcache: which identity each address prefix has. Reads the pinned
maps directly, with or without a running agent.
`;

function endpointTitle(ep: EndpointPolicyDump, names: ReadonlyMap<number, string>): string {
  const name = names.get(ep.ifindex);
  const where = name === undefined ? `ifindex ${ep.ifindex}` : `${name} (ifindex ${ep.ifindex})`;
  const enforced = [ep.enforcesIngress ? 'ingress' : '', ep.enforcesEgress ? 'egress' : ''].filter(Boolean);
  const what = enforced.length === 0 ? 'enforces nothing' : `enforces ${enforced.join(' and ')}`;
  return `Endpoint ${ep.endpointId} on ${where}, identity ${identityText(ep.identity, '0')}, ${what}`;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** The dump as aligned text: a summary line, one block per endpoint, the ipcache. */
export function formatPolicyDump(dump: PolicyDump, names: ReadonlyMap<number, string>): string {
  const out: string[] = [];
  out.push(
    dump.enforcingEndpoints === 0
      ? 'Policy enforcement: off (no endpoint enforces policy; the datapath skips policy work)'
      : `Policy enforcement: on (${dump.enforcingEndpoints} endpoint${dump.enforcingEndpoints === 1 ? '' : 's'} enforcing)`,
  );
  if (dump.endpoints.length === 0) out.push('', 'No endpoints.');
  for (const ep of dump.endpoints) {
    out.push('', endpointTitle(ep, names));
    if (ep.entries === null) out.push('  (no policy map)');
    else if (ep.entries.length === 0) out.push('  (empty policy map: every packet in an enforced direction is dropped)');
    else {
      const rows = ep.entries.map((e) => [e.direction, identityText(e.identity), e.protocol, e.ports, e.verdict, String(e.precedence)]);
      out.push(indent(renderTable({ header: ['Direction', 'Identity', 'Protocol', 'Ports', 'Verdict', 'Precedence'], rows })));
    }
  }
  if (dump.unreferencedPolicyMaps.length > 0) out.push('', `Policy maps without an endpoint: ${dump.unreferencedPolicyMaps.join(', ')}`);
  out.push('', 'IPCache');
  if (dump.ipcache.length === 0) out.push('  (empty)');
  else out.push(indent(renderTable({ header: ['Prefix', 'Identity'], rows: dump.ipcache.map((e) => [e.prefix, identityText(e.identity, '0')]) })));
  return `${out.join('\n')}\n`;
}

/** Reads and prints the policy maps under opts.bpfRoot. CliError exit 3 when they are not pinned there. */
export async function policyDump(ctx: CliContext, opts: DumpOptions): Promise<void> {
  const { attachedDeviceNames, dumpPolicy, openPinnedMaps } = await import('../../../datapath/index.js');
  const { dump, names } = await readingMaps(opts.bpfRoot, 'the policy maps', () => {
    using maps = openPinnedMaps(opts.bpfRoot, ['endpoints', 'policy', 'ipcache', 'policyState']);
    return { dump: dumpPolicy(maps), names: attachedDeviceNames(opts.bpfRoot) };
  });
  if (opts.output === 'json') ctx.out.write(`${JSON.stringify(dump, null, 2)}\n`);
  else if (opts.output === 'yaml') ctx.out.write(renderYAML([dump]));
  else ctx.out.write(formatPolicyDump(dump, names));
}

export const policyCommands: CommandModule = {
  name: 'policy',
  register(program, ctx) {
    const policy = program.command('policy').description('inspect network policy in the datapath');
    policy
      .command('dump')
      .description('print every endpoint\'s policy map entries and the ipcache (reads the pinned maps directly)')
      .addOption(bpfRootOption(ctx))
      .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
      .addHelpText('after', DUMP_HELP)
      .action((opts: DumpOptions) => policyDump(ctx, opts));
  },
};
