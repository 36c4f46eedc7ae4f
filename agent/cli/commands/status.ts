// `flagella status`: the running agent's status (GET /v1/status) as a short
// human summary, or the document itself with -o json / -o yaml.
import { Option } from 'commander';
import { OUTPUT_FORMATS, renderYAML } from '../../../statedb/index.js';
import type { OutputFormat } from '../../../statedb/index.js';
import type { CliContext, CommandModule } from '../context.js';
import { formatStatus } from '../status-format.js';

interface StatusOptions {
  output: OutputFormat;
}

export async function status(ctx: CliContext, opts: StatusOptions): Promise<void> {
  const doc = await ctx.api().get<unknown>('/v1/status', ctx.signal);
  if (opts.output === 'json') ctx.out.write(`${JSON.stringify(doc, null, 2)}\n`);
  else if (opts.output === 'yaml') ctx.out.write(renderYAML([doc]));
  else ctx.out.write(formatStatus(doc));
}

export const statusCommands: CommandModule = {
  name: 'status',
  register(program, ctx) {
    program
      .command('status')
      .description("the agent's status: version, node, uptime, sources, reconcilers, datapath, tables")
      .addOption(new Option('-o, --output <format>', 'output format (table: a human summary)').choices(OUTPUT_FORMATS).default('table'))
      .addHelpText('after', '\nAsks the running agent (--api-socket); exit status 4 when it is not running.\n')
      .action((opts: StatusOptions) => status(ctx, opts));
  },
};
