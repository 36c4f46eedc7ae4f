// The root options every command shares (--api-socket, --local) and what
// they open: the agent's API client, or the in-process demo database.
import { ApiClient, DEFAULT_API_SOCKET } from './api-client.js';
import { AgentDataSource } from './agent-source.js';
import type { DataSource } from './data-source.js';
import { createDemoDatabase } from './demo-db.js';
import { CliError, ExitCode } from './errors.js';
import { LocalDataSource } from './local-source.js';

export { DEFAULT_API_SOCKET };
/** Default of --bpf-root (the agent's pin root). */
export const DEFAULT_BPF_ROOT = '/sys/fs/bpf/flagella';

export interface GlobalOptions {
  readonly apiSocket: string;
  readonly local: boolean;
  readonly demoActivityMs: number;
}

/** The data source the options select: the agent (default) or, with --local, the in-process demo database. */
export function openDataSource(opts: GlobalOptions): DataSource {
  if (!opts.local) return new AgentDataSource(new ApiClient(opts.apiSocket));
  const demo = createDemoDatabase();
  let stopActivity: (() => void) | undefined;
  return new LocalDataSource(demo.db, {
    description: 'local demo database',
    onWatch: () => (stopActivity ??= demo.startActivity(opts.demoActivityMs)),
    onClose: () => stopActivity?.(),
  });
}

/** The agent's client; a usage error with --local (no agent behind it). */
export function apiClientFor(opts: GlobalOptions): ApiClient {
  if (opts.local) throw new CliError('this command needs a running agent; --local reads only the in-process demo database', ExitCode.Usage);
  return new ApiClient(opts.apiSocket);
}
