// A line-echo TCP server for namespace tests, run inside a namespace.
//   node --import tsx tcp-server.ts <name> <port> [host]
// Answers every line with "<name> <client ip>:<client port> <line>", so a
// test learns which backend served it and what client address it saw.
// Prints "listening <port>" once ready; exits on SIGTERM or stdin close.
import net from 'node:net';

const [name = 'server', portArg = '8080', host = '0.0.0.0'] = process.argv.slice(2);
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let buffered = '';
  socket.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      socket.write(`${name} ${socket.remoteAddress}:${socket.remotePort} ${line}\n`);
    }
  });
  socket.on('error', () => socket.destroy());
});
server.listen(Number(portArg), host, () => process.stdout.write(`listening ${portArg}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
