// Child process for stop-exits.test.ts: runs one source until told "stop" on
// stdin, stops it, and then must exit on its own: nothing the source started
// may keep the event loop alive. Usage: stop-child.ts kube|files <kubeconfig|dir>
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { FileSource, KubernetesSource, loadKubeConfig, RecordingSink, type Source } from '../../agent/index.js';

const [mode, target] = process.argv.slice(2);
const say = (event: string, extra: Record<string, unknown> = {}) => process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);
const logger = pino({ level: 'silent' });
const sink = new RecordingSink();
let source: Source;
if (mode === 'kube') {
  const { config } = loadKubeConfig({ kubeconfigPath: target!, env: {} });
  // A restart backoff far longer than the parent waits: a stop that did not
  // cancel it would keep this process alive.
  source = new KubernetesSource({ sink, config, logger, restartBackoff: { initialMs: 60_000, maxMs: 60_000 } });
} else {
  source = new FileSource({ sink, dir: target!, logger, rescanIntervalMs: 60_000 });
}
await source.start();
say('started');
void source.synced.then((synced) => say('synced', { synced }));
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'stop') return;
  lines.close();
  process.stdin.destroy();
  void source.stop().then(() => say('stopped', { health: source.health().status }));
});
