// The systems compared and how to start, drive and read them. Each editor
// has its own WebSocket connection (the `ws` package) wrapped so that every
// system is measured at the same points: when a submit leaves the client,
// when its ack arrives, when the op arrives at each other editor.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import ShareDB from 'sharedb/lib/client/index.js';
import otText from 'ot-text-unicode';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { DocClient } from '../../web/static/js/client.js';
import { cpLen } from './workload.mjs';

ShareDB.types.register(otText.type);

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

// measuredSocket returns a WebSocket class whose instances report every
// message sent and received to hooks, before the client handles it.
function measuredSocket(hooks) {
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { perMessageDeflate: false });
      this.addEventListener('message', (ev) => hooks.in(ev.data));
    }

    send(data, ...rest) {
      hooks.out(data);
      super.send(data, ...rest);
    }
  };
}

function waitFor(ready, ms, what) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (ready()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

async function waitHTTP(url, ms) {
  const t0 = Date.now();
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch { /* not up yet */ }
    if (Date.now() - t0 > ms) throw new Error(`${url} did not answer in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePortServer() {
  // Ask the OS for a free port by listening on 0 in a throwaway server.
  return new Promise((resolve, reject) => {
    import('node:net').then(({ createServer }) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
      s.on('error', reject);
    });
  });
}

// startNode runs one of the node servers here as its own process.
async function startNode(script) {
  const child = spawn(process.execPath, [path.join(here, script), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]).port);
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    pid: child.pid,
    base: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }),
  };
}

// ---- ShareDB ----

export const sharedb = {
  name: 'ShareDB 7 (text-unicode, in-memory db)',
  short: 'sharedb',

  start: () => startNode('sharedb-server.mjs'),

  async serverText(srv, id) {
    const r = await fetch(`${srv.base}/docs/${encodeURIComponent(id)}`);
    if (!r.ok) throw new Error(`GET /docs/${id}: ${r.status}`);
    return (await r.json()).text;
  },

  // open connects one editor; the first editor of a document creates it.
  async open(srv, id, index, hooks) {
    let src = null;
    const WS = measuredSocket({
      out(data) {
        const m = JSON.parse(data);
        if (m.a === 'op' && m.op) hooks.submit(m.seq);
      },
      in(data) {
        const m = JSON.parse(data);
        if (m.a === 'hs') src = m.id;
        if (m.a !== 'op' || m.d !== id) return;
        if (!('op' in m) && m.src === src) hooks.ack(m.seq, m.v);
        else if ('op' in m && m.src !== src) hooks.op(m.v);
      },
    });
    const conn = new ShareDB.Connection(new WS(srv.ws));
    const doc = conn.get('docs', id);
    await new Promise((resolve, reject) => doc.subscribe((err) => (err ? reject(err) : resolve())));
    if (!doc.type) {
      if (index !== 0) throw new Error(`document ${id} not created by its first editor`);
      await new Promise((resolve, reject) => doc.create('', 'text-unicode', (err) => (err ? reject(err) : resolve())));
    }
    doc.on('error', (err) => hooks.error(err));
    return {
      len: () => cpLen(doc.data),
      text: () => doc.data,
      apply(pos, del, ins) {
        const op = [];
        if (pos) op.push(pos);
        if (ins) op.push(ins);
        if (del) op.push({ d: del });
        doc.submitOp(op);
      },
      pending: () => doc.hasPending(),
      close: () => conn.close(),
    };
  },
};

// ---- collabd ----

export const collabd = {
  name: 'collabd (bbolt, durable acks)',
  short: 'collabd',

  async start(opts) {
    const dir = mkdtempSync(path.join(tmpdir(), 'collab-peers-'));
    const bin = path.join(dir, 'collabd');
    // Built once so that the pid measured is the server's, not `go run`'s.
    execFileSync('go', ['build', '-o', bin, './cmd/collabd'], { cwd: repo, stdio: 'inherit' });
    const port = await freePortServer();
    const args = ['-addr', `127.0.0.1:${port}`, '-data', path.join(dir, 'bench.db'), ...opts.collabdFlags];
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const base = `http://127.0.0.1:${port}`;
    await waitHTTP(`${base}/healthz`, 15000);
    return {
      pid: child.pid,
      base,
      ws: `ws://127.0.0.1:${port}/ws`,
      stop: () => new Promise((r) => {
        child.once('exit', () => { rmSync(dir, { recursive: true, force: true }); r(); });
        child.kill('SIGTERM');
      }),
    };
  },

  async serverText(srv, id) {
    const r = await fetch(`${srv.base}/api/docs/${encodeURIComponent(id)}`);
    if (!r.ok) throw new Error(`GET /api/docs/${id}: ${r.status}`);
    return (await r.json()).text;
  },

  async open(srv, id, index, hooks) {
    const WS = measuredSocket({
      out(data) {
        const m = JSON.parse(data);
        if (m.type === 'submit') hooks.submit(m.seq);
      },
      in(data) {
        const m = JSON.parse(data);
        if (m.doc !== id) return;
        if (m.type === 'ack') hooks.ack(m.seq, m.rev);
        else if (m.type === 'op') hooks.op(m.rev);
        else if (m.type === 'error') hooks.error(new Error(`${m.code}: ${m.message}`));
      },
    });
    const c = new DocClient({
      server: srv.base, doc: id, name: `e${index}`, WebSocket: WS,
      storage: null, session: null, setInterval: null,
    });
    c.start();
    await waitFor(() => c.joined, 30000, `joining ${id}`);
    return {
      len: () => cpLen(c.text),
      text: () => c.text,
      apply(pos, del, ins) {
        const op = [];
        const n = cpLen(c.text);
        if (pos) op.push(pos);
        if (ins) op.push(ins);
        if (del) op.push(-del);
        if (n - pos - del) op.push(n - pos - del);
        c.applyLocal(op);
      },
      pending: () => c.pendingCount > 0,
      close: () => c.destroy(),
    };
  },
};

// ---- y-websocket (Yjs) ----

// yKey names an update by its first inserted item's id (client:clock),
// unique to the editor that made it. The server re-encodes updates before
// relaying them, so bytes differ, but the ids in them do not. Delete-only
// updates have no such name (two editors may delete the same text, and a
// delete of text already deleted is not relayed at all): they are counted
// as deliveries but not timed.
function yKey(update) {
  const { structs } = Y.decodeUpdate(update);
  return structs.length ? `${structs[0].id.client}:${structs[0].id.clock}` : null;
}

// cpTo16 converts a code point offset of s to a UTF-16 offset (Y.Text
// counts UTF-16 units).
function cpTo16(s, cp) {
  let i = 0;
  for (let n = 0; n < cp && i < s.length; n++) i += s.codePointAt(i) > 0xffff ? 2 : 1;
  return i;
}

export const yjs = {
  name: 'y-websocket 2 (Yjs 13, in memory, no acks)',
  short: 'y-websocket',
  noAcks: true, // Yjs acknowledges nothing: submit→ack and "as fast as acks allow" do not apply

  start: () => startNode('ywebsocket-server.mjs'),

  async serverText(srv, id) {
    const r = await fetch(`${srv.base}/docs/${encodeURIComponent(id)}`);
    if (!r.ok) throw new Error(`GET /docs/${id}: ${r.status}`);
    return (await r.json()).text;
  },

  // The time an update leaves is taken when the local transaction emits it
  // (the provider sends it synchronously); arrival when a remote update is
  // applied to the editor's Y.Doc.
  async open(srv, id, index, hooks) {
    const doc = new Y.Doc();
    const ytext = doc.getText('text');
    const WS = class extends WebSocket {
      constructor(url, protocols) { super(url, protocols, { perMessageDeflate: false }); }
    };
    const provider = new WebsocketProvider(srv.ws, id, doc, { WebSocketPolyfill: WS, disableBc: true });
    doc.on('update', (update, origin) => {
      const key = yKey(update);
      if (origin === provider) {
        if (key === null) hooks.delivered();
        else hooks.op(key);
      } else if (key !== null) {
        hooks.sent(key);
      }
    });
    await waitFor(() => provider.synced, 30000, `syncing ${id}`);
    return {
      len: () => cpLen(ytext.toString()),
      text: () => ytext.toString(),
      apply(pos, del, ins) {
        const s = ytext.toString();
        const a = cpTo16(s, pos);
        const b = cpTo16(s, pos + del);
        doc.transact(() => {
          if (b > a) ytext.delete(a, b - a);
          if (ins) ytext.insert(a, ins);
        });
      },
      pending: () => false,
      close: () => { provider.destroy(); doc.destroy(); },
    };
  },
};
