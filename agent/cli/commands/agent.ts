// `flagella agent`: runs the agent (see agent/runtime). The flag names are a
// contract scripts and tests rely on. A bad flag value is a usage error
// (exit 2) naming the flag and the value; a failed start or a failed
// `--once` exits 1 with the reason.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../../observability/index.js';
// The flag parsers only: the runtime itself (sources, Kubernetes client,
// datapath) loads when the command runs, so other commands start fast.
import {
  agentConfig,
  ConfigValueError,
  DEFAULT_BPF_ROOT,
  DEFAULT_HEALTH_ADDR,
  DEFAULT_MAGLEV_TABLE_SIZE,
  DEFAULT_METRICS_ADDR,
  DEFAULT_ONCE_TIMEOUT_MS,
  DEFAULT_STATE_DIR,
  parseAddressFlag,
  parseDevices,
  parseMaglevTableSize,
  parseNodeAddresses,
  parseNodeName,
  parsePath,
  parseSeconds,
  type AgentConfig,
  type AttachModeName,
  type LBAlgorithmName,
  type XdpModeName,
} from '../../runtime/config.js';
import type { CliContext, CommandModule } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

interface AgentFlags {
  sourceDir?: string;
  kubeconfig?: string;
  k8s: boolean;
  stateDir: string;
  stateFsync: boolean;
  bpfRoot: string;
  devices: string[];
  attachMode: AttachModeName;
  xdpMode: XdpModeName;
  forceXdpOnVeth: boolean;
  nodeName?: string;
  nodeAddresses?: string[];
  lbAlgorithm: LBAlgorithmName;
  maglevTableSize: number;
  healthAddr: ReturnType<typeof parseAddressFlag>;
  metricsAddr: ReturnType<typeof parseAddressFlag>;
  allowRemoteObservability: boolean;
  once: boolean;
  onceTimeout: number;
  logLevel: LogLevel;
  logFormat?: LogFormat;
}

/** A commander argument parser from a runtime parser (ConfigValueError -> usage error naming what was expected). */
function parser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      if (err instanceof ConfigValueError) throw new InvalidArgumentError(err.expected);
      throw err;
    }
  };
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

const AGENT_HELP = `
Sources: --source-dir (YAML files, watched), --k8s / --kubeconfig (Kubernetes;
in-cluster without a kubeconfig), and the API on --api-socket (always; its
objects are kept in the durable store under --state-dir).

The datapath is loaded once under --bpf-root and attached to --devices (tcx;
--attach-mode xdp for XDP, never on veth unless --force-xdp-on-veth). On
SIGINT/SIGTERM the agent stops and the datapath keeps running; a restart adopts
the pinned maps and links and rewrites nothing that is already right.

Health (GET /healthz) and Prometheus metrics (GET /metrics) listen on loopback;
"off" disables one; other addresses need --allow-remote-observability.

--once reconciles until everything has converged, prints a summary and exits:
0 when nothing failed, 1 with the errors (rejected objects count).
`;

function addressOption(flag: string, description: string, fallback: string): Option {
  return new Option(`${flag} <host:port>`, description).argParser(parser((v) => parseAddressFlag(flag, v))).default(parseAddressFlag(flag, fallback), fallback);
}

function addFlags(cmd: Command): Command {
  const choice = <T extends string>(flags: string, description: string, choices: readonly T[], fallback: T) =>
    new Option(flags, description).choices(choices).default(fallback);
  return cmd
    .option('--source-dir <dir>', 'read Kubernetes objects from the YAML files in <dir> (watched for changes)', parser((v) => parsePath('--source-dir', v)))
    .option('--kubeconfig <file>', 'read objects from the Kubernetes cluster of this kubeconfig', parser((v) => parsePath('--kubeconfig', v)))
    .option('--k8s', 'read objects from Kubernetes ($KUBECONFIG, else the in-cluster service account)', false)
    .option('--state-dir <dir>', 'directory of the durable store', parser((v) => parsePath('--state-dir', v)), DEFAULT_STATE_DIR)
    .option('--no-state-fsync', 'skip the fsync of durable commits (survives a killed agent, not an OS crash)')
    .option('--bpf-root <dir>', 'pin root of the datapath (on bpffs)', parser((v) => parsePath('--bpf-root', v)), DEFAULT_BPF_ROOT)
    .addOption(new Option('--devices <a,b>', 'devices to attach the datapath to (none: maps are written, nothing is attached)').argParser(parser(parseDevices)).default([], 'none'))
    .addOption(choice('--attach-mode <mode>', 'how to attach', ['tcx', 'xdp'] as const, 'tcx'))
    .addOption(choice('--xdp-mode <mode>', 'XDP attach mode with --attach-mode xdp', ['native', 'generic', 'auto'] as const, 'native'))
    .option('--force-xdp-on-veth', 'attach XDP to veth devices anyway (costs the peer its TSO)', false)
    .option('--node-name <name>', 'this node (default: the hostname)', parser(parseNodeName))
    .option('--node-addresses <ip,ip>', "this node's addresses (default: the devices' IPv4 addresses)", parser(parseNodeAddresses))
    .addOption(choice('--lb-algorithm <name>', 'default backend selection', ['random', 'maglev'] as const, 'random'))
    .option('--maglev-table-size <M>', 'Maglev lookup table size (a prime the datapath accepts)', parser(parseMaglevTableSize), DEFAULT_MAGLEV_TABLE_SIZE)
    .addOption(addressOption('--health-addr', 'health endpoint, or "off"', DEFAULT_HEALTH_ADDR))
    .addOption(addressOption('--metrics-addr', 'Prometheus endpoint, or "off"', DEFAULT_METRICS_ADDR))
    .option('--allow-remote-observability', 'allow non-loopback --health-addr and --metrics-addr', false)
    .option('--once', 'reconcile until converged, print a summary and exit', false)
    .addOption(
      new Option('--once-timeout <seconds>', 'how long --once waits for convergence')
        .argParser(parser((v) => parseSeconds('--once-timeout', v)))
        .default(DEFAULT_ONCE_TIMEOUT_MS, String(DEFAULT_ONCE_TIMEOUT_MS / 1000)),
    )
    .addOption(choice('--log-level <level>', 'log level', LOG_LEVELS, 'info'))
    .addOption(new Option('--log-format <format>', 'log format (default: text on a terminal, JSON otherwise)').choices(LOG_FORMATS));
}

function configOf(flags: AgentFlags, apiSocket: string): AgentConfig {
  return agentConfig({
    sourceDir: flags.sourceDir,
    kubeconfig: flags.kubeconfig,
    k8s: flags.k8s,
    stateDir: flags.stateDir,
    stateSync: flags.stateFsync,
    bpfRoot: flags.bpfRoot,
    apiSocket,
    devices: flags.devices,
    attachMode: flags.attachMode,
    xdpMode: flags.xdpMode,
    forceXdpOnVeth: flags.forceXdpOnVeth,
    ...(flags.nodeName !== undefined ? { nodeName: flags.nodeName } : {}),
    nodeAddresses: flags.nodeAddresses,
    lbAlgorithm: flags.lbAlgorithm,
    maglevTableSize: flags.maglevTableSize,
    healthAddr: flags.healthAddr,
    metricsAddr: flags.metricsAddr,
    allowRemoteObservability: flags.allowRemoteObservability,
    once: flags.once,
    onceTimeoutMs: flags.onceTimeout,
    logLevel: flags.logLevel,
    logFormat: flags.logFormat,
  });
}

export const agentCommands: CommandModule = {
  name: 'agent',
  register(program, ctx: CliContext) {
    addFlags(program.command('agent').description('run the agent: sources -> tables -> reconcilers -> eBPF datapath'))
      .addHelpText('after', AGENT_HELP)
      .action(async (flags: AgentFlags, cmd: Command) => {
        if (ctx.settings.interactive) throw new CliError('the agent cannot run inside the REPL', ExitCode.Usage);
        const { apiSocket } = cmd.optsWithGlobals<{ apiSocket: string }>();
        const { runAgent } = await import('../../runtime/index.js');
        const result = await runAgent({ config: configOf(flags, apiSocket), version: packageVersion(), signal: ctx.signal });
        if (result.code !== 0) throw new CliError(result.message ?? 'the agent failed', ExitCode.Failure);
      });
  },
};
