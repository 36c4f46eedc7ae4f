// A bounded connection loop for the restart test, run inside a namespace:
//   node --import tsx conn-loop.ts <host> <port> <intervalMs> <maxSeconds>
// Opens a new connection every <intervalMs> (one at a time: connect, send a
// line, read the reply, close), printing one JSON line per connection
// {t, ok, reply?, error?} with t in ms since the epoch. Stops when stdin
// closes or after <maxSeconds>, and exits. Every connect and reply is bounded
// by a 3 s timeout, so a broken datapath shows up as failures, not a hang.
import net from 'node:net';

const [host = '127.0.0.1', portArg = '80', intervalArg = '20', maxArg = '60'] = process.argv.slice(2);
const port = Number(portArg);
const intervalMs = Number(intervalArg);
const deadline = Date.now() + Number(maxArg) * 1000;
const TIMEOUT_MS = 3000;
let stopping = false;

function print(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function exchange(i: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(data === '' ? 'timeout' : `timeout after ${JSON.stringify(data)}`));
    }, TIMEOUT_MS);
    socket.on('connect', () => socket.write(`loop${i}\n`));
    socket.on('data', (d: Buffer) => {
      data += d.toString();
      if (data.includes('\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(data.trim());
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

process.stdin.on('end', () => (stopping = true));
process.stdin.resume();

for (let i = 0; !stopping && Date.now() < deadline; i++) {
  const t = Date.now();
  try {
    print({ t, ok: true, reply: await exchange(i) });
  } catch (err) {
    print({ t, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
  await new Promise((r) => setTimeout(r, intervalMs));
}
process.exit(0);
