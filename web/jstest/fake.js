// A fake network, timers and storage, and a reference server speaking
// protocol v1, for the client's tests.

import * as ot from '../static/js/ot.js';
import { DocClient } from '../static/js/client.js';

export class MemStorage {
  constructor() { this.m = new Map(); }
  get length() { return this.m.size; }
  key(i) { return [...this.m.keys()][i] ?? null; }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
}

export class FakeTimers {
  constructor() { this.list = []; this.id = 0; }
  setTimeout = (fn, ms) => { const id = ++this.id; this.list.push({ id, fn, ms }); return id; };
  clearTimeout = (id) => { this.list = this.list.filter((t) => t.id !== id); };
  fireAll() { const l = this.list; this.list = []; l.forEach((t) => t.fn()); return l; }
}

// publicOf stands for the server's one-way public form of a client id
// (wire.PublicID): different from the id, so that the tests catch a client
// that compares what others see with its private id.
const publicOf = (id) => (id ? `pub-${id}` : '');

// Server is a reference implementation of the protocol's document logic:
// transform from rev to head, dedupe by (client, seq), resume by ops.
export class Server {
  constructor() {
    this.text = ''; this.log = []; this.seqs = new Map(); this.conns = new Set(); this.prunedBelow = 0;
    this.failJoins = false;   // the store cannot load: joins answer unavailable
    this.failCommits = false; // the store cannot commit: submits answer unavailable
    this.expiredToken = false; // hello is refused: unauthorized, then close 1008
    this.refuseSubmits = '';  // a code every submit is refused with (rate_limited, quota_exceeded)
    this.joins = 0;       // joins answered
    this.limits = null;   // welcome.limits; a larger submit closes with 1009
    this.submits = [];    // every submit received
    this.tokens = [];     // the token of every auth received
    this.authPerm = 'write'; // the permission of the tokens auth gives
  }
  // endSessions ends every joined session for its token, as the server does
  // at expiry or on a revocation: their submits are not_joined until they
  // join again.
  endSessions(doc, why = 'token expired') {
    for (const c of this.conns) {
      if (!c.joined) continue;
      c.out({ type: 'error', code: 'unauthorized', message: `collab: unauthorized: ${why}`, doc });
      c.joined = false;
      c.ended = true;
    }
  }
  // deleteDoc deletes the document as DELETE /api/docs/{id} does.
  deleteDoc(doc, by = '') {
    for (const c of this.conns) {
      if (c.joined) c.out({ type: 'error', code: 'not_found', message: 'collab: document deleted', doc, ...(by ? { by } : {}) });
      c.joined = false;
    }
    this.text = ''; this.log = []; this.seqs = new Map();
  }
  get rev() { return this.log.length; }
  handle(conn, msg) {
    switch (msg.type) {
      case 'ping':
        conn.out({ type: 'pong' });
        break;
      case 'hello':
        if (this.expiredToken) {
          conn.out({ type: 'error', code: 'unauthorized', message: 'collab: unauthorized: token expired' });
          conn.closeAfterSent(1008);
          break;
        }
        // A client id is used by one connection at a time.
        for (const c of this.conns) if (c !== conn && c.client === msg.client) c.close(4001);
        conn.client = msg.client; conn.pub = publicOf(msg.client); conn.name = msg.name || '';
        conn.out({ type: 'welcome', version: 1, client: conn.pub, ...(this.limits ? { limits: this.limits } : {}) });
        break;
      case 'auth':
        this.tokens.push(msg.token);
        conn.out({ type: 'authed', exp: 4102444800, perm: this.authPerm, docs: conn.joined ? [conn.doc] : [] });
        break;
      case 'join': {
        if (this.failJoins) {
          conn.out({ type: 'error', code: 'unavailable', message: 'collab: document unavailable, retry', doc: msg.doc });
          break;
        }
        this.joins++;
        const seq = this.seqs.get(conn.client) || 0;
        if (msg.rev === undefined || msg.rev < this.prunedBelow || msg.rev > this.rev) {
          conn.out({ type: 'joined', doc: msg.doc, rev: this.rev, seq, text: this.text, ...(msg.rev !== undefined ? { reset: true } : {}) });
        } else {
          const ops = this.log.slice(msg.rev).map((r, i) => ({ rev: msg.rev + i + 1, ...r, client: publicOf(r.client) }));
          conn.out({ type: 'joined', doc: msg.doc, rev: this.rev, seq, ops });
        }
        conn.joined = true;
        conn.ended = false;
        conn.doc = msg.doc;
        break;
      }
      case 'submit': {
        this.submits.push(msg);
        if (conn.ended) {
          conn.out({ type: 'error', code: 'not_joined', message: 'collab: document not joined', doc: msg.doc, seq: msg.seq });
          break;
        }
        if (this.limits && Buffer.byteLength(JSON.stringify(msg)) > this.limits.frame) { conn.close(1009); break; }
        if (this.failCommits || this.refuseSubmits) {
          const code = this.refuseSubmits || 'unavailable';
          conn.out({ type: 'error', code, message: `collab: ${code}, retry later`, doc: msg.doc, seq: msg.seq });
          break;
        }
        const last = this.seqs.get(conn.client) || 0;
        if (msg.seq <= last) {
          const rev = this.log.findIndex((r) => r.client === conn.client && r.seq === msg.seq) + 1;
          conn.out({ type: 'ack', doc: msg.doc, seq: msg.seq, rev });
          break;
        }
        let op = ot.fromWire(msg.op);
        for (let r = msg.rev; r < this.rev; r++) op = ot.transform(this.log[r].op, op)[1];
        this.text = ot.apply(this.text, op);
        this.log.push({ op, client: conn.client, seq: msg.seq, name: conn.name });
        this.seqs.set(conn.client, msg.seq);
        conn.out({ type: 'ack', doc: msg.doc, seq: msg.seq, rev: this.rev });
        for (const c of this.conns) {
          if (c !== conn && c.joined) c.out({ type: 'op', doc: msg.doc, rev: this.rev, op, client: conn.pub, seq: msg.seq, name: conn.name });
        }
        break;
      }
      case 'presence':
        for (const c of this.conns) {
          if (c !== conn && c.joined) c.out({ type: 'presence', doc: msg.doc, client: conn.pub, name: conn.name, color: '', rev: msg.rev, anchor: msg.anchor, head: msg.head });
        }
        break;
      default:
    }
  }
}

// Net makes FakeSocket constructors whose messages wait in queues until the
// test delivers them, so any interleaving can be produced.
export class Net {
  constructor(server) { this.server = server; this.sockets = []; }
  WebSocket() {
    const net = this;
    return class FakeSocket {
      constructor(url) {
        this.url = url; this.readyState = 0; this.toServer = []; this.toClient = [];
        this.conn = {
          out: (m) => this.toClient.push(JSON.stringify(m)), joined: false, close: (code) => this.drop(code),
          closeAfterSent: (code) => { this.closing = code; },
        };
        net.sockets.push(this);
      }
      open() { this.readyState = 1; net.server.conns.add(this.conn); this.onopen?.(); }
      send(data) { if (this.readyState !== 1) throw new Error('not open'); this.toServer.push(data); }
      close(code = 1000) { this.drop(code); }
      // refuse fails a connection that never opened (a server that is down).
      refuse() { this.drop(1006); }
      // drop loses whatever is still queued, as a broken connection does.
      drop(code = 1006) {
        if (this.readyState === 3) return;
        this.readyState = 3; net.server.conns.delete(this.conn);
        this.toServer = []; this.toClient = [];
        this.onclose?.({ code, reason: '' });
      }
      deliverToServer() { const m = this.toServer.shift(); if (m) net.server.handle(this.conn, JSON.parse(m)); return !!m; }
      deliverToClient() {
        const m = this.toClient.shift();
        if (m) this.onmessage?.({ data: m });
        else if (this.closing) this.drop(this.closing); // the close frame follows the messages
        return !!m;
      }
    };
  }
  live() { return this.sockets.filter((s) => s.readyState === 1); }
  // settle delivers every queued message until the network is quiet.
  settle() {
    for (let moved = true; moved;) {
      moved = false;
      for (const s of this.live()) { while (s.deliverToServer()) moved = true; while (s.deliverToClient()) moved = true; }
    }
  }
}

export function newClient(net, extra = {}) {
  const timers = extra.timers || new FakeTimers();
  const c = new DocClient({
    server: extra.server || 'http://example.test:8080', doc: 'notes', name: extra.name || 'Ada', color: extra.color,
    WebSocket: net.WebSocket(), storage: extra.storage ?? new MemStorage(), session: extra.session ?? new MemStorage(),
    setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, setInterval: null, random: () => 0.5,
    now: extra.now, page: extra.page, snapshotTimers: extra.snapshotTimers || new FakeTimers(),
    watchdog: extra.watchdog ?? null, fetch: extra.fetch ?? null, token: extra.token, getToken: extra.getToken,
  });
  c.timers = timers;
  c.states = [];
  c.addEventListener('status', (e) => c.states.push(e.detail));
  return c.start();
}
export const lastSocket = (net) => net.sockets[net.sockets.length - 1];
// onlineClient is a client whose socket has opened.
export const onlineClient = (net, extra) => { const c = newClient(net, extra); lastSocket(net).open(); return c; };
export const type = (c, s) => c.applyLocal(ot.diff(c.text, s));
export const sent = (sock) => sock.toServer.map((m) => JSON.parse(m));
// jwt is an unsigned token expiring at exp (seconds): the client reads only exp.
export const jwt = (exp, extra = {}) =>
  ['e30', Buffer.from(JSON.stringify({ exp, ...extra })).toString('base64url'), 'sig'].join('.');

// rng is a small seeded generator of numbers in [0, 1), so that failures
// of randomized tests reproduce.
export function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}
