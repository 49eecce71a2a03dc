// @tus/server with @tus/file-store: every request on a node:http server goes
// to the tus handler. Usage: node server.mjs PORT DIRECTORY
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const port = Number(process.argv[2] || 0);
const directory = process.argv[3];
if (!directory) {
  console.error('usage: node server.mjs PORT DIRECTORY');
  process.exit(2);
}
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) });
const server = http.createServer((req, res) => tus.handle(req, res));
server.keepAliveTimeout = 60_000;
server.requestTimeout = 0;
server.headersTimeout = 60_000;
server.maxConnections = 4096;
server.listen(port, '127.0.0.1', () => {
  console.log(`tus listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
