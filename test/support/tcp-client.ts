// A TCP client for namespace tests, run inside a namespace.
//   node --import tsx tcp-client.ts <host> <port> once <count>
//       opens <count> connections one after another; for each sends one line
//       and prints one JSON line {ok, local, remote, reply} (or {ok:false, error});
//   node --import tsx tcp-client.ts <host> <port> session
//       opens one connection, prints {"connected": remote}, then sends every
//       stdin line and prints each reply as JSON, until stdin closes.
// Every connect and reply is bounded by a 3 s timeout.
import net from 'node:net';
import readline from 'node:readline';

const [host = '127.0.0.1', portArg = '80', mode = 'once', countArg = '1'] = process.argv.slice(2);
const port = Number(portArg);
const TIMEOUT_MS = 3000;

function print(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timeout'));
    }, TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function request(socket: net.Socket, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => done(new Error('reply timeout')), TIMEOUT_MS);
    const onData = (d: Buffer) => {
      buffered += d.toString();
      const nl = buffered.indexOf('\n');
      if (nl >= 0) done(null, buffered.slice(0, nl));
    };
    const onError = (err: Error) => done(err);
    function done(err: Error | null, reply?: string) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      if (err) reject(err);
      else resolve(reply ?? '');
    }
    socket.on('data', onData);
    socket.on('error', onError);
    socket.write(`${line}\n`);
  });
}

async function once(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    try {
      const socket = await connect();
      const reply = await request(socket, `req${i}`);
      print({ ok: true, local: `${socket.localAddress}:${socket.localPort}`, remote: `${socket.remoteAddress}:${socket.remotePort}`, reply });
      socket.end();
    } catch (err) {
      print({ ok: false, error: errorText(err) });
    }
  }
}

async function session(): Promise<void> {
  const socket = await connect();
  print({ connected: `${socket.remoteAddress}:${socket.remotePort}`, local: `${socket.localAddress}:${socket.localPort}` });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    try {
      print({ ok: true, reply: await request(socket, line) });
    } catch (err) {
      print({ ok: false, error: errorText(err) });
    }
  }
  socket.end();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

(mode === 'session' ? session() : once(Number(countArg))).then(
  () => process.exit(0),
  (err: unknown) => {
    print({ ok: false, error: errorText(err) });
    process.exit(1);
  },
);
