// A y-websocket 2 server for the comparison: the reference server code of
// y-websocket (bin/utils: one Y.Doc per room, updates relayed to every
// connection of the room, no persistence) over ws. Listens on 127.0.0.1 at
// the port given as the first argument (0: any) and prints {"port": N}.
//
// GET /docs/<id> answers {"text": "..."}, the room's Y.Text "text", for the
// convergence check.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import utils from 'y-websocket/bin/utils';

const { setupWSConnection, docs } = utils;

const server = http.createServer((req, res) => {
  const m = /^\/docs\/([^/]+)$/.exec(req.url || '');
  if (req.method !== 'GET' || !m) {
    res.writeHead(404).end();
    return;
  }
  const doc = docs.get(decodeURIComponent(m[1]));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ text: doc ? doc.getText('text').toString() : null }));
});

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws, req) => setupWSConnection(ws, req, { gc: true }));

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
