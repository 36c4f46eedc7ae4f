// What the map-reading commands share: the --bpf-root option and opening
// pinned maps with failures turned into CLI errors (missing pins: exit 3,
// naming the pin root; anything else: exit 1).
import { Option } from 'commander';
import type { CliContext } from './context.js';
import { CliError, ExitCode } from './errors.js';

/** --bpf-root, defaulting to the session's setting (the REPL's) or $FLAGELLA_BPF_ROOT. */
export function bpfRootOption(ctx: CliContext): Option {
  return new Option('--bpf-root <dir>', "where the datapath pins its maps (the agent's --bpf-root; default from $FLAGELLA_BPF_ROOT)").default(ctx.settings.bpfRoot);
}

/** Runs `read` and maps its failures: pins not there -> CliError exit 3, anything else -> exit 1 naming what was read. */
export async function readingMaps<T>(bpfRoot: string, what: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    // By name: this module does not load datapath/ (commands import it on use, for a fast start).
    if (err instanceof Error && (err.name === 'DatapathMapsNotFoundError' || err.name === 'LBMapsNotFoundError')) {
      throw new CliError(err.message, ExitCode.NotFound, { cause: err });
    }
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read ${what} under ${bpfRoot}: ${err instanceof Error ? err.message : String(err)}`, ExitCode.Failure, { cause: err });
  }
}

/** Reserved identities by number (Cilium's numbering, as tables/policy allocates them). */
const RESERVED_IDENTITIES: Record<number, string> = { 1: 'host', 2: 'world', 3: 'unmanaged', 4: 'health', 5: 'init', 6: 'remote-node' };

/** An identity as text: "any" for 0 in a policy key, reserved names beside their number. */
export function identityText(id: number, zero = 'any'): string {
  if (id === 0) return zero;
  const name = RESERVED_IDENTITIES[id];
  return name === undefined ? String(id) : `${id} (${name})`;
}
