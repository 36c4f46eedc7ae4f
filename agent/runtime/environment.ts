// Start-up checks, before anything is opened: each failure says what is
// wrong and how to fix it, instead of surfacing later as an errno deep in a
// map operation.
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { checkEnvironment, DEFAULT_OBJECT_PATH, EnvironmentError, ifindexOf } from '../../datapath/index.js';
import type { AgentConfig } from './config.js';

/** The agent cannot start here; the message lists every problem. */
export class AgentEnvironmentError extends Error {
  override readonly name = 'AgentEnvironmentError';
  constructor(readonly problems: readonly string[]) {
    super(`flagella agent cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function directoryProblem(flag: string, dir: string, create: boolean): string | undefined {
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) return `${flag} ${dir} is not a directory`;
    accessSync(dir, create ? constants.R_OK | constants.W_OK : constants.R_OK);
    return undefined;
  } catch (err) {
    return `${flag} ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`;
  }
}

/**
 * Checks the state directory (created 0700), the source directory, the
 * kubeconfig, the datapath object, privileges, bpffs (mounted when
 * missing) and kernel features, and that every device exists in this
 * network namespace. Throws AgentEnvironmentError listing every problem.
 */
export function checkAgentEnvironment(config: AgentConfig, objectPath = DEFAULT_OBJECT_PATH): void {
  const problems: string[] = [];
  const state = directoryProblem('--state-dir', config.stateDir, true);
  if (state) problems.push(state);
  if (config.sourceDir !== undefined) {
    const source = directoryProblem('--source-dir', config.sourceDir, false);
    if (source) problems.push(source);
  }
  if (config.kubeconfig !== undefined && !existsSync(config.kubeconfig)) problems.push(`--kubeconfig ${config.kubeconfig}: no such file`);
  if (!existsSync(objectPath)) problems.push(`the datapath object ${objectPath} is missing: build it with "npm run build:bpf"`);
  try {
    checkEnvironment({ pinRoot: config.bpfRoot });
  } catch (err) {
    if (err instanceof EnvironmentError) problems.push(...err.report.problems);
    else problems.push(`--bpf-root ${config.bpfRoot}: ${(err as Error).message}`);
  }
  for (const device of config.devices) {
    try {
      ifindexOf(device);
    } catch {
      problems.push(`--devices: no device "${device}" in this network namespace`);
    }
  }
  if (problems.length > 0) throw new AgentEnvironmentError(problems);
}
