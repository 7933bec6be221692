// Runs inside a test's network namespace (`ip netns exec NS node netns-peer.mjs PORT`):
// a TCP server on PORT of every address of the namespace, greeting each connection, and
// a client that connects on request. Each stdin line `connect ADDRESS PORT` gets one
// stdout line of JSON: {"address", "ok", "code"} (code: ok, timeout when the SYN is dropped, ECONNREFUSED, ...).
import net from 'node:net';
import readline from 'node:readline';

const port = Number(process.argv[2]);
const server = net.createServer((socket) => {
  socket.on('error', () => {});
  socket.end('hello\n');
});
server.listen(port, '0.0.0.0', () => process.stdout.write(`${JSON.stringify({ listening: port })}\n`));

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, address, portText] = line.trim().split(/\s+/);
  if (command !== 'connect') return;
  const socket = net.connect({ host: address, port: Number(portText) });
  let done = false;
  const finish = (ok, code) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    process.stdout.write(`${JSON.stringify({ address, ok, code })}\n`);
  };
  // A dropped SYN in the input hook never completes: give up after a second.
  const timer = setTimeout(() => finish(false, 'timeout'), 1000);
  socket.once('data', () => finish(true, 'ok'));
  socket.once('error', (error) => finish(false, error.code ?? String(error)));
});
process.stdin.on('end', () => {
  server.close();
  process.exit(0);
});
