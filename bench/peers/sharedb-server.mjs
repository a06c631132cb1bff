// A ShareDB 7 server for the comparison: the text-unicode OT type over
// WebSocket (ws + @teamwork/websocket-json-stream), ShareDB's default
// in-memory database. Listens on 127.0.0.1 at the port given as the first
// argument (0: any) and prints {"port": N} when ready.
//
// GET /docs/<id> answers {"v": version, "text": "..."} for the
// convergence check, read through a server-side connection.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import ShareDB from 'sharedb';
import WebSocketJSONStream from '@teamwork/websocket-json-stream';
import otText from 'ot-text-unicode';

ShareDB.types.register(otText.type);
const backend = new ShareDB();
const local = backend.connect();

const server = http.createServer((req, res) => {
  const m = /^\/docs\/([^/]+)$/.exec(req.url || '');
  if (req.method !== 'GET' || !m) {
    res.writeHead(404).end();
    return;
  }
  const doc = local.get('docs', decodeURIComponent(m[1]));
  doc.fetch((err) => {
    if (err) {
      res.writeHead(500).end(String(err));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ v: doc.version, text: doc.data ?? null }));
    doc.destroy();
  });
});

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => backend.listen(new WebSocketJSONStream(ws)));

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
