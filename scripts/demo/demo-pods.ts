// A process in each pod namespace (test/support/reach-agent.ts): the web
// backends answer TCP connections on 8080 with their name, the clients open
// connections on request, so the demo sees which backend served each one
// and which ones time out.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NetTopology} from '../../test/support/netns.js';
import { waitForLine } from '../../test/support/netns.js';
import type { DemoPod } from './demo-topology.js';

const REACH_AGENT = fileURLToPath(new URL('../../test/support/reach-agent.ts', import.meta.url));

export interface Probe {
  readonly ok: boolean;
  /** The backend that answered. */
  readonly reply?: string;
  readonly error?: string;
}

/** One pod's process: serves `ports`, opens connections on request. */
export class PodProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (p: Probe) => void>();

  private constructor(readonly pod: DemoPod, private readonly child: ChildProcess) {
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const r = JSON.parse(line) as Probe & { id: number };
        this.pending.get(r.id)?.(r);
        this.pending.delete(r.id);
      }
    });
  }

  /** Starts it in the pod's namespace (a child of `topo`, killed by its destroy()) and waits until it serves (15 s). */
  static async start(topo: NetTopology, pod: DemoPod, tcpPorts: readonly number[]): Promise<PodProcess> {
    const child = topo.spawn(pod.ns, process.execPath, ['--import', 'tsx', REACH_AGENT, pod.name, tcpPorts.join(','), '']);
    await waitForLine(child, /^ready$/, 15_000);
    return new PodProcess(pod, child);
  }

  /** Opens one TCP connection and reads the greeting; ends within timeoutMs (plus 2 s of slack). */
  connect(host: string, port: number, timeoutMs: number): Promise<Probe> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const slack = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: 'no answer from the probe process' });
      }, timeoutMs + 2000);
      this.pending.set(id, (p) => {
        clearTimeout(slack);
        resolve(p);
      });
      this.child.stdin?.write(`${JSON.stringify({ id, proto: 'tcp', host, port, timeoutMs })}\n`);
    });
  }

  /** `count` connections, `parallel` at a time. */
  async connectMany(host: string, port: number, count: number, timeoutMs: number, parallel = 10): Promise<Probe[]> {
    const out: Probe[] = [];
    for (let i = 0; i < count; i += parallel) {
      const batch = Array.from({ length: Math.min(parallel, count - i) }, () => this.connect(host, port, timeoutMs));
      out.push(...(await Promise.all(batch)));
    }
    return out;
  }
}

/** "web-1 11, web-2 9, web-3 10" (and "3 timed out"), for the narration. */
export function tally(probes: readonly Probe[]): string {
  const counts = new Map<string, number>();
  for (const p of probes) {
    const key = p.ok ? (p.reply ?? '?') : p.error === 'timeout' ? 'timed out' : `failed (${p.error ?? '?'})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}
