// One pod's side of a reachability test, run inside the pod's namespace:
// serves TCP and UDP on the given ports (each answers with the pod's name)
// and probes other pods on request, so one process per pod covers a whole
// matrix without a spawn per probe.
//
//   node --import tsx reach-agent.ts <name> <tcp ports,...> <udp ports,...>
//
// Prints "ready" once every server listens. Then reads JSON lines
//   {"id": 1, "proto": "tcp"|"udp", "host": "10.0.0.2", "port": 80, "timeoutMs": 1000}
// and answers each with {"id": 1, "ok": true, "reply": "<name>"} or
// {"id": 1, "ok": false, "error": "..."}. A TCP probe connects and reads
// the greeting; a UDP probe sends a datagram and waits for the answer.
// Every probe ends within its timeout. Exits when stdin closes.
import dgram from 'node:dgram';
import net from 'node:net';
import { createInterface } from 'node:readline';

const [name = 'pod', tcpArg = '', udpArg = ''] = process.argv.slice(2);
const ports = (arg: string) => arg.split(',').filter(Boolean).map(Number);

interface Probe {
  id: number;
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  timeoutMs: number;
}

function serveTcp(port: number): Promise<void> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(`${name}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
}

function serveUdp(port: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (_msg, rinfo) => socket.send(name, rinfo.port, rinfo.address));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '0.0.0.0', () => resolve());
  });
}

function probeTcp(p: Probe): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: p.host, port: p.port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(data === '' ? 'timeout' : `timeout after ${JSON.stringify(data)}`));
    }, p.timeoutMs);
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(data.trim());
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function probeUdp(p: Probe): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('timeout'));
    }, p.timeoutMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg.toString());
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.send(`probe from ${name}`, p.port, p.host);
  });
}

async function main(): Promise<void> {
  await Promise.all([...ports(tcpArg).map(serveTcp), ...ports(udpArg).map(serveUdp)]);
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let probe: Probe;
    try {
      probe = JSON.parse(line) as Probe;
    } catch {
      return;
    }
    (probe.proto === 'tcp' ? probeTcp(probe) : probeUdp(probe)).then(
      (reply) => process.stdout.write(`${JSON.stringify({ id: probe.id, ok: true, reply })}\n`),
      (err: Error) => process.stdout.write(`${JSON.stringify({ id: probe.id, ok: false, error: err.message })}\n`),
    );
  });
  lines.on('close', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
