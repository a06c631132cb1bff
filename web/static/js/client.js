// The collab protocol client (docs/protocol.md, version 1) for one document.
//
// A DocClient keeps the document's text and its own unacknowledged edits as
// ot.js does: synchronised, awaiting an ack (one submit in flight), or
// awaiting an ack with a buffer of later local edits composed together.
// Incoming ops are transformed against the pending ones. The client id and
// the sequence numbers outlive the connection: after a reconnect the client
// resumes from its last revision, counts its own ops in `joined.ops` as the
// acks it missed, and resubmits the rest under their original numbers; with
// a `reset` it rebases its edits on the fresh text. Unsent edits are kept in
// localStorage so they survive a page reload (see save). When another connection takes
// the client id (close 4001, e.g. a duplicated tab, which copies
// sessionStorage), a client with nothing pending continues under a fresh id;
// one with pending edits stops with an error, as their seqs may collide.
//
// Several servers: `server` may list several URLs of one service (nodes of
// a cluster, which all serve every document). The client connects to the
// first; when a connection fails or the server drops it, the next attempt,
// after the same backoff, goes to the next URL, round the list. The client
// id, the pending edits and their seqs go along: resuming on another node is
// an ordinary reconnect. A resync the client asks for itself stays on the
// same server. An `unavailable` error (the store could not commit, or the
// server is stopping) keeps the edits and retries them, on the next server,
// with a backoff that keeps growing until a submit is acknowledged; so do
// `rate_limited` and `quota_exceeded` (the connection submitted too many
// bytes per second, or the document grew by its quota for now).
//
// Events (EventTarget; `detail` carries the data):
//   change   {op, local, client, name}   the text changed (op in code points)
//   status   {state, pending, rev, message}
//            state: connecting | synced | saving | offline | readonly | error
//            message: the error's text; with offline, 'server unavailable'
//            while the service cannot commit, 'too many changes at once'
//            while it refuses them for a limit (else empty)
//   presence {peers}                      carets or the list of editors changed
//   error    {code, message}              the server refused something

import * as ot from './ot.js';
import { cpLength, wellFormed } from './text.js';
import { diffOp } from './diff.js';
import { isColor, safeColor } from './color.js';

const STORE_PREFIX = 'collab:pending:';
const ID_PREFIX = 'collab:client:';
// A record of unsent edits whose tab has not written it for this long may be
// adopted by a new tab (its tab is gone).
const STALE_MS = 15000;
const HEARTBEAT_MS = 5000;
// Ops kept for serverText before they are applied to it (a bound on memory).
const MAX_SERVER_OPS = 64;

const claimedIds = new Set(); // client ids used by live DocClients of this page

export function randomId() {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return 'c-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// parseServers turns the server option into a list of http(s) URLs without
// trailing slashes: one URL, an array of them, or a string listing several
// separated by spaces or commas. Duplicates are dropped; order is kept.
export function parseServers(server) {
  const list = Array.isArray(server) ? server : String(server ?? '').split(/[\s,]+/);
  const out = [];
  for (const item of list) {
    const u = String(item ?? '').trim().replace(/\/+$/, '');
    if (u && !out.includes(u)) out.push(u);
  }
  if (out.length === 0) throw new Error('client: no server URL');
  return out;
}

// wsURL turns the server's http(s) URL into the WebSocket URL.
export function wsURL(server) {
  const u = new URL(server);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = u.pathname.replace(/\/+$/, '') + '/ws';
  u.search = '';
  u.hash = '';
  return u.toString();
}

function safeStorage(get) {
  try { return get() || null; } catch { return null; }
}

export class DocClient extends EventTarget {
  // opts: server (http URL, or several: see parseServers), doc, name,
  // color, token, readonly;
  // for tests: WebSocket, storage, session, random, setTimeout, clearTimeout,
  // setInterval (null: no heartbeat), clearInterval, now, schedule (runs a
  // function after the current task; default queueMicrotask), page (the
  // window whose pagehide and visibilitychange save the record; null: none).
  constructor(opts) {
    super();
    this.servers = parseServers(opts.server);
    this.serverIndex = 0; // the server connected to, or tried next
    // The service the saved records and the client id belong to: the same
    // for any order of the URLs, and for one URL just that URL.
    this.service = [...this.servers].sort().join(' ');
    this.doc = opts.doc;
    this.name = opts.name || '';
    this.color = isColor(opts.color) ? opts.color : ''; // the server refuses a hello with another colour
    this.token = opts.token || '';
    this.wantReadOnly = !!opts.readonly;
    this.WS = opts.WebSocket || globalThis.WebSocket;
    this.storage = opts.storage !== undefined ? opts.storage : safeStorage(() => globalThis.localStorage);
    this.session = opts.session !== undefined ? opts.session : safeStorage(() => globalThis.sessionStorage);
    this.random = opts.random || Math.random;
    this.setTimeout = opts.setTimeout || globalThis.setTimeout.bind(globalThis);
    this.clearTimeout = opts.clearTimeout || globalThis.clearTimeout.bind(globalThis);
    this.setInterval = opts.setInterval !== undefined ? opts.setInterval : globalThis.setInterval.bind(globalThis);
    this.clearInterval = opts.clearInterval || globalThis.clearInterval.bind(globalThis);
    this.now = opts.now || Date.now;
    this.schedule = opts.schedule || globalThis.queueMicrotask.bind(globalThis);
    this.page = opts.page !== undefined ? opts.page : (globalThis.window || null);
    this.maxBackoff = opts.maxBackoff || 30000;

    this.text = '';         // local text: the server's text with the pending edits applied
    this.textLen = 0;       // its length in code points (kept so that ops apply without a scan of it)
    this.serverBase = '';   // the text at serverRev is serverBase with serverOps applied (see serverText)
    this.serverOps = [];
    this.serverLen = 0;     // its length in code points
    this.serverRev = 0;
    this.known = false;     // serverRev/serverText came from the server (or a saved record)
    this.inflight = null;   // {seq, op, count}: submitted, not acknowledged
    this.buffer = null;     // {op, count}: local edits composed, not yet submitted
    this.lastSeq = 0;       // highest seq ever given on this document
    this.peers = new Map(); // client id -> {client, name, color, anchor, head} (local positions)
    this.state = 'connecting';
    this.message = '';
    this.readonly = this.wantReadOnly;
    this.ws = null;
    this.joined = false;
    this.attempt = 0;
    this.timer = null;
    this.closed = false;
    this.fatal = false;      // an error that reconnecting cannot fix
    this.stay = false;       // the next reconnect stays on this server (a resync we asked for)
    this.unavailable = ''; // why the server could not commit: back off until an ack
    this.presenceWanted = null; // {anchor, head} in local positions, sent when joined
    this.heartbeat = null;
    this.dirty = false;        // the saved record is behind a local edit, an ack or a join
    this.saveQueued = false;   // a save is scheduled for the end of the task
    // The page may be closed or frozen after these: write the latest state.
    this.onPageHide = (e) => {
      const doc = this.page && this.page.document;
      if (e.type === 'pagehide' || !doc || doc.visibilityState === 'hidden') this.persist();
    };

    this.client = this.pickClientId();
    claimedIds.add(this.client);
    // How the server shows this client to others (its `welcome` says):
    // the client id itself stays private, since whoever holds it can act
    // as this client. Own ops, carets and arrivals carry this one.
    this.publicId = null;
  }

  // start loads unsent edits saved by an earlier page and connects.
  start() {
    this.restore();
    if (this.page && this.page.addEventListener) {
      this.page.addEventListener('pagehide', this.onPageHide);
      this.page.addEventListener('visibilitychange', this.onPageHide);
    }
    this.connect();
    return this;
  }

  // server is the URL connected to, or to be tried next.
  get server() { return this.servers[this.serverIndex]; }

  get pendingCount() {
    return (this.inflight ? this.inflight.count : 0) + (this.buffer ? this.buffer.count : 0);
  }

  // ---- identity and persistence ----

  storeKey(client) { return `${STORE_PREFIX}${this.service}|${this.doc}|${client}`; }

  idKey() { return `${ID_PREFIX}${this.service}|${this.doc}`; }

  pickClientId() {
    let id = null;
    try { id = this.session && this.session.getItem(this.idKey()); } catch { /* storage disabled */ }
    if (!id || claimedIds.has(id)) id = this.adoptOrphan() || randomId();
    if (claimedIds.has(id)) id = randomId();
    try { this.session && this.session.setItem(this.idKey(), id); } catch { /* storage disabled */ }
    return id;
  }

  // renewClientId gives this client a fresh identity, remembered for this
  // tab. Only safe with no pending edits: their seqs belong to the old id.
  renewClientId() {
    this.persist(); // removes the old id's record, not the new one's
    claimedIds.delete(this.client);
    this.client = randomId();
    claimedIds.add(this.client);
    this.lastSeq = 0;
    this.publicId = null; // the next welcome tells
    try { this.session && this.session.setItem(this.idKey(), this.client); } catch { /* storage disabled */ }
  }

  // adoptOrphan returns the client id of unsent edits saved for this
  // document by a tab that is gone, so they are resubmitted under that id.
  adoptOrphan() {
    const st = this.storage;
    if (!st) return null;
    const prefix = `${STORE_PREFIX}${this.service}|${this.doc}|`;
    try {
      for (let i = 0; i < st.length; i++) {
        const k = st.key(i);
        if (!k || !k.startsWith(prefix)) continue;
        const rec = JSON.parse(st.getItem(k));
        const id = k.slice(prefix.length);
        if (rec && !claimedIds.has(id) && this.now() - (rec.ts || 0) > STALE_MS) return id;
      }
    } catch { /* unreadable storage: start afresh */ }
    return null;
  }

  restore() {
    if (!this.storage) return;
    let rec = null;
    try { rec = JSON.parse(this.storage.getItem(this.storeKey(this.client))); } catch { rec = null; }
    if (!rec || rec.v !== 1) return;
    try {
      this.serverRev = rec.rev;
      this.setServerText(rec.text);
      this.known = true;
      this.lastSeq = rec.lastSeq || 0;
      this.inflight = rec.inflight ? { seq: rec.inflight.seq, op: ot.fromWire(rec.inflight.op), count: rec.inflight.count || 1 } : null;
      this.buffer = rec.buffer ? { op: ot.fromWire(rec.buffer.op), count: rec.buffer.count || 1 } : null;
      let t = this.serverText;
      if (this.inflight) t = ot.apply(t, this.inflight.op);
      if (this.buffer) t = ot.apply(t, this.buffer.op);
      this.setText(t, null);
    } catch (e) {
      // A record that does not fit is dropped rather than corrupting the text.
      this.serverRev = 0; this.setServerText(''); this.known = false;
      this.inflight = null; this.buffer = null;
      this.setText('', null);
    }
  }

  // save brings the saved record up to date at the end of the current task,
  // once however many changes the task made. The record is what a reload
  // needs: the client id (its key), a revision, the server's text at that
  // revision, the last seq given, and the pending ops, which apply to that
  // text. Any record written since the edits were typed serves: a reload
  // rejoins at its revision, and the server sends the ops since, our own
  // (acks) included. So remote ops need no save, while local edits, acks
  // (nothing pending: the record goes), joins and resets do; a seq is saved
  // before its submit leaves (flush). With nothing pending, the record is
  // removed at once (cheap, and nothing can resurrect it). The heartbeat and
  // pagehide write the latest state, so a reload has few ops to catch up.
  save() {
    if (!this.inflight && !this.buffer) {
      this.persist();
      return;
    }
    this.dirty = true;
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.schedule(() => {
      this.saveQueued = false;
      if (this.dirty) this.persist();
    });
  }

  // persist writes the record now (or removes it when nothing is pending).
  persist() {
    this.dirty = false;
    if (!this.storage) return;
    const key = this.storeKey(this.client);
    try {
      if (!this.inflight && !this.buffer) {
        this.storage.removeItem(key);
        this.stopHeartbeat();
        return;
      }
      this.storage.setItem(key, JSON.stringify({
        v: 1,
        ts: this.now(),
        rev: this.serverRev,
        text: this.serverText,
        lastSeq: this.lastSeq,
        inflight: this.inflight && { seq: this.inflight.seq, op: this.inflight.op, count: this.inflight.count },
        buffer: this.buffer && { op: this.buffer.op, count: this.buffer.count },
      }));
      this.startHeartbeat();
    } catch {
      // Quota exceeded or storage disabled: the edits stay in memory.
    }
  }

  startHeartbeat() {
    // Keeps the record fresh so that no other tab adopts it while we live.
    if (this.heartbeat || !this.setInterval || this.closed) return;
    this.heartbeat = this.setInterval(() => this.persist(), HEARTBEAT_MS);
  }

  stopHeartbeat() {
    if (this.heartbeat) { this.clearInterval(this.heartbeat); this.heartbeat = null; }
  }

  // ---- connection ----

  connect() {
    if (this.closed) return;
    this.joined = false;
    this.stay = false;
    this.setState(this.attempt === 0 ? 'connecting' : 'offline', this.offlineMessage());
    let ws;
    try {
      ws = new this.WS(wsURL(this.server));
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const hello = { type: 'hello', version: 1, client: this.client };
      if (this.name) hello.name = this.name;
      if (this.color) hello.color = this.color;
      if (this.token) hello.token = this.token;
      this.send(hello);
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      try {
        this.receive(msg);
      } catch (e) {
        // An op that does not fit our state: resynchronise from the server.
        this.fail('internal', 'client: ' + e.message, true);
      }
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.joined = false;
      this.onClose(ev.code, ev.reason);
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  onClose(code, reason) {
    if (this.closed) return;
    if (code === 4001) {
      // Another connection took our client id: most often a duplicated tab,
      // which copies sessionStorage. Its seqs and ours would collide.
      if (!this.inflight && !this.buffer) {
        this.renewClientId(); // nothing of ours is pending: a new identity is safe
        this.connect();
        return;
      }
      this.fatal = true;
      this.setState('error', 'This document is open in another tab under the same identity, and this tab has ' +
        `${this.pendingCount} unsaved edit${this.pendingCount === 1 ? '' : 's'}. Copy them, then reload this tab.`);
      return;
    }
    if (code === 1002 || (this.state === 'error' && this.fatal)) {
      this.setState('error', this.message || reason || 'The server refused the connection.');
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.closed || this.timer) return;
    // A connection that failed or that the server dropped: try the next
    // server (a resync we asked for stays; the server is fine).
    if (!this.stay) this.serverIndex = (this.serverIndex + 1) % this.servers.length;
    this.stay = false;
    // Exponential backoff with jitter: half the delay fixed, half random.
    const base = Math.min(this.maxBackoff, 500 * 2 ** Math.min(this.attempt, 16));
    const delay = base / 2 + this.random() * (base / 2);
    this.attempt++;
    this.setState('offline', this.offlineMessage());
    this.timer = this.setTimeout(() => { this.timer = null; this.connect(); }, delay);
  }

  // resync closes the connection to rejoin on the same server.
  resync() {
    if (!this.ws) return;
    this.stay = true;
    this.ws.close(4000, 'resync');
  }

  offlineMessage() {
    return this.unavailable;
  }

  // reconnectNow skips the backoff wait (the browser came back online). A
  // fatal error (an expired token, say) is not retried: it would only be
  // refused again.
  reconnectNow() {
    if (this.closed || this.ws || this.fatal) return;
    if (this.timer) { this.clearTimeout(this.timer); this.timer = null; }
    this.connect();
  }

  send(msg) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  // destroy leaves the document and closes the connection. Unsent edits stay
  // saved for the next page.
  destroy() {
    if (this.closed) return;
    if (this.joined) this.send({ type: 'leave', doc: this.doc });
    this.closed = true;
    if (this.dirty) this.persist();
    this.stopHeartbeat();
    if (this.page && this.page.removeEventListener) {
      this.page.removeEventListener('pagehide', this.onPageHide);
      this.page.removeEventListener('visibilitychange', this.onPageHide);
    }
    if (this.timer) { this.clearTimeout(this.timer); this.timer = null; }
    if (this.ws) { const ws = this.ws; this.ws = null; try { ws.close(1000); } catch { /* closed */ } }
    claimedIds.delete(this.client);
    this.setState('offline');
  }

  // ---- messages ----

  receive(msg) {
    switch (msg.type) {
      case 'welcome': {
        this.publicId = msg.client;
        const join = { type: 'join', doc: this.doc };
        if (this.known) join.rev = this.serverRev;
        if (this.token) join.token = this.token;
        this.send(join);
        break;
      }
      case 'joined': if (msg.doc === this.doc) this.onJoined(msg); break;
      case 'ack': if (msg.doc === this.doc) this.onAck(msg.seq, msg.rev); break;
      case 'op': if (msg.doc === this.doc) this.onRemoteOp(msg); break;
      case 'presence': if (msg.doc === this.doc) this.onPresence(msg); break;
      case 'editor': if (msg.doc === this.doc) this.onEditor(msg); break;
      case 'error': this.onError(msg); break;
      default: break;
    }
  }

  onJoined(msg) {
    // After an `unavailable`, a join proves little: the backoff keeps
    // growing until a submit is acknowledged (or nothing waits for one).
    if (!this.unavailable) this.attempt = 0;
    this.readonly = this.wantReadOnly || !!msg.readonly;
    if (typeof msg.text === 'string') {
      this.onJoinedText(msg);
    } else {
      for (const rec of msg.ops || []) {
        if (rec.rev <= this.serverRev) continue;
        if (this.inflight && rec.client === this.publicId && rec.seq === this.inflight.seq) {
          this.onAck(rec.seq, rec.rev); // the ack lost with the old connection
        } else {
          this.applyRemote(ot.fromWire(rec.op), rec.rev, rec.client, rec.name);
        }
      }
      this.serverRev = Math.max(this.serverRev, msg.rev);
      if (this.inflight && this.inflight.seq <= msg.seq) {
        // Committed, yet not among the ops we were sent: start over from the text.
        this.known = false;
        this.send({ type: 'leave', doc: this.doc });
        this.send({ type: 'join', doc: this.doc, ...(this.token ? { token: this.token } : {}) });
        return;
      }
    }
    this.known = true;
    this.lastSeq = Math.max(this.lastSeq, msg.seq || 0);
    this.joined = true;
    if (!this.inflight && !this.buffer) this.recovered();
    this.save();
    if (this.inflight) {
      // Resubmit under the original number: the server applies it at most once.
      this.send({ type: 'submit', doc: this.doc, rev: this.serverRev, seq: this.inflight.seq, op: this.inflight.op });
    }
    this.flush();
    this.updateState();
    if (this.presenceWanted) this.sendPresence(this.presenceWanted.anchor, this.presenceWanted.head);
  }

  // onJoinedText takes a full text: a first join, or a reset. Pending edits
  // already committed are dropped; the rest are rebased on the new text.
  onJoinedText(msg) {
    const fresh = msg.text;
    if (this.inflight && this.inflight.seq <= (msg.seq || 0)) {
      this.applyServer(this.inflight.op);
      this.inflight = null;
    }
    const pending = this.pendingOp();
    if (!pending) {
      const change = diffOp(this.text, fresh);
      this.setServerText(fresh);
      this.serverRev = msg.rev;
      this.peers.forEach((p) => this.movePeer(p, change, null));
      this.setText(fresh, change, false, '', '');
      return;
    }
    // The server's change, as seen from the last text we knew. A real diff
    // (not one prefix/suffix change) keeps everything the texts share, so
    // pending edits in an unchanged region stay where they were typed.
    const change = diffOp(this.serverText, fresh);
    this.setServerText(fresh);
    this.serverRev = msg.rev;
    this.transformPending(change);
  }

  // recovered ends an `unavailable` episode: the server commits again.
  recovered() {
    if (!this.unavailable) return;
    this.unavailable = '';
    this.attempt = 0;
  }

  pendingOp() {
    if (this.inflight && this.buffer) return ot.compose(this.inflight.op, this.buffer.op);
    if (this.inflight) return this.inflight.op;
    if (this.buffer) return this.buffer.op;
    return null;
  }

  onAck(seq, rev) {
    if (!this.inflight || seq !== this.inflight.seq) return;
    this.recovered();
    // The local text is the server's with the pending edits applied: with
    // none after this one, it is the new server text (no apply needed).
    if (this.buffer) this.applyServer(this.inflight.op);
    else this.serverIsLocal();
    this.serverRev = rev;
    this.inflight = null;
    this.flush();
    this.save();
    this.updateState();
  }

  onRemoteOp(msg) {
    if (!this.joined || msg.rev <= this.serverRev) return;
    if (msg.client === this.publicId && this.inflight && msg.seq === this.inflight.seq) {
      this.onAck(msg.seq, msg.rev);
      return;
    }
    // No save: the saved record, older, still recovers every edit (see save).
    this.applyRemote(ot.fromWire(msg.op), msg.rev, msg.client, msg.name);
    this.updateState();
  }

  // applyRemote takes an op committed as revision rev, which applies to
  // serverText, and applies it to the local text after the pending edits.
  applyRemote(op, rev, client, name) {
    // With nothing pending the local text is the server's: one apply serves both.
    const synced = !this.inflight && !this.buffer;
    if (!synced) this.applyServer(op);
    this.serverRev = rev;
    this.transformPending(op, client, name);
    if (synced) this.serverIsLocal();
  }

  // transformPending moves the pending edits over a server change that
  // applies where they did, and applies the change to the local text.
  transformPending(op, client = '', name = '') {
    // The server puts ops committed earlier first on ties, as we do here.
    if (this.inflight) {
      const [s1, p1] = ot.transform(op, this.inflight.op);
      this.inflight = { ...this.inflight, op: p1 };
      op = s1;
    }
    if (this.buffer) {
      const [s1, b1] = ot.transform(op, this.buffer.op);
      this.buffer = { ...this.buffer, op: b1 };
      op = s1;
    }
    const next = ot.apply(this.text, op, this.textLen);
    for (const p of this.peers.values()) this.movePeer(p, op, client);
    this.setText(next, op, false, client, name);
  }

  // applyLocal records a local edit, an op on the current local text.
  applyLocal(op) {
    if (this.readonly) throw new Error('client: the document is read-only');
    if (ot.isNoop(op)) return;
    const next = ot.apply(this.text, op, this.textLen);
    this.buffer = this.buffer ? { op: ot.compose(this.buffer.op, op), count: this.buffer.count + 1 } : { op, count: 1 };
    for (const p of this.peers.values()) this.movePeer(p, op, null);
    this.setText(next, op, true, this.publicId, this.name);
    if (!this.flush()) this.save(); // a submit has saved already
    this.updateState();
  }

  // replaceText records the local edit turning the text into s.
  replaceText(s) {
    this.applyLocal(ot.diff(this.text, wellFormed(s)));
  }

  // flush submits the buffer when nothing is in flight and reports whether
  // it did.
  flush() {
    if (this.inflight || !this.buffer || !this.joined || this.readonly) return false;
    const seq = ++this.lastSeq;
    this.inflight = { seq, op: this.buffer.op, count: this.buffer.count };
    this.buffer = null;
    this.persist(); // the number is on disk before the op leaves
    this.send({ type: 'submit', doc: this.doc, rev: this.serverRev, seq, op: this.inflight.op });
    return true;
  }

  onError(msg) {
    if (msg.doc && msg.doc !== this.doc) return;
    this.dispatchEvent(new CustomEvent('error', { detail: { code: msg.code, message: msg.message } }));
    const ours = this.inflight && msg.seq === this.inflight.seq;
    switch (msg.code) {
      case 'read_only':
        this.readonly = true;
        this.dropPending();
        this.updateState();
        break;
      case 'unauthorized':
      case 'forbidden':
      case 'invalid_doc_id':
      case 'too_many_docs':
      case 'too_many_editors':
      case 'unsupported_version':
        this.fail(msg.code, msg.message, false);
        break;
      case 'invalid_op':
      case 'doc_too_large':
        if (ours || msg.seq) {
          // The server will never take these edits: show the server's text.
          this.dropPending();
          this.dispatchEvent(new CustomEvent('status', { detail: this.statusDetail('Your last edit was refused: ' + msg.message) }));
        }
        break;
      case 'unavailable':
      case 'too_many_loaded':
      case 'rate_limited':
      case 'quota_exceeded':
        // The store could not commit, the server is stopping, holds as
        // many documents as it may, or refuses more bytes for now: nothing
        // changed. Keep every edit and resubmit it after a backoff, on the
        // next server, under the same seqs.
        this.unavailable = msg.code === 'rate_limited' || msg.code === 'quota_exceeded' ? 'too many changes at once' : 'server unavailable';
        if (this.ws) this.ws.close(4000, 'unavailable');
        break;
      default:
        // rev_too_old, future_rev, not_joined, internal…: reconnect to the
        // same server and resume; pending edits are resubmitted.
        this.resync();
    }
  }

  // fail stops (fatal) or resynchronises after an error.
  fail(code, message, resync) {
    if (resync) {
      this.known = false; // rejoin without a revision: a full text, pending edits rebased
      this.resync();
      return;
    }
    this.fatal = true;
    this.setState('error', message || code);
    if (this.ws) { const ws = this.ws; this.ws = null; ws.close(1000); }
  }

  dropPending() {
    this.inflight = null;
    this.buffer = null;
    const change = diffOp(this.text, this.serverText);
    for (const p of this.peers.values()) this.movePeer(p, change, null);
    this.setText(this.serverText, change, false, '', '');
    this.save();
  }

  // ---- presence ----

  onPresence(msg) {
    if (msg.client === this.publicId) return;
    let anchor = msg.anchor;
    let head = msg.head;
    // Positions are at serverRev; move them over our pending edits.
    for (const p of [this.inflight, this.buffer]) {
      if (!p) continue;
      anchor = ot.transformIndex(anchor, p.op, false);
      head = ot.transformIndex(head, p.op, false);
    }
    const len = this.textLen;
    const peer = this.peers.get(msg.client) || { client: msg.client };
    Object.assign(peer, {
      name: msg.name || peer.name || '', color: safeColor(msg.color, peer.color || ''),
      anchor: Math.min(anchor, len), head: Math.min(head, len),
    });
    this.peers.set(msg.client, peer);
    this.emitPeers();
  }

  onEditor(msg) {
    if (msg.client === this.publicId) return;
    if (msg.event === 'leave') this.peers.delete(msg.client);
    else {
      const peer = this.peers.get(msg.client) || { client: msg.client, anchor: null, head: null };
      peer.name = msg.name || peer.name || '';
      peer.color = safeColor(msg.color, peer.color || '');
      this.peers.set(msg.client, peer);
    }
    this.emitPeers();
  }

  movePeer(p, op, author) {
    if (p.anchor == null) return;
    const own = author != null && author === p.client;
    p.anchor = ot.transformIndex(p.anchor, op, own);
    p.head = ot.transformIndex(p.head, op, own);
  }

  emitPeers() {
    this.dispatchEvent(new CustomEvent('presence', { detail: { peers: [...this.peers.values()] } }));
  }

  // sendPresence shares the local caret or selection (code points in the
  // local text), mapped back to the last server revision.
  sendPresence(anchor, head) {
    this.presenceWanted = { anchor, head };
    if (!this.joined) return;
    const pending = this.pendingOp();
    if (pending) {
      const back = ot.invert(pending, this.serverText);
      anchor = ot.transformIndex(anchor, back, false);
      head = ot.transformIndex(head, back, false);
    }
    this.send({ type: 'presence', doc: this.doc, rev: this.serverRev, anchor, head });
  }

  // ---- state ----

  // serverText is the text at serverRev. The ops committed while an edit
  // of ours is in flight are applied to it only when it is read: most often
  // it is not, as the ack, with nothing buffered, makes it the local text.
  get serverText() {
    if (this.serverOps.length) {
      let t = this.serverBase;
      for (const op of this.serverOps) t = ot.apply(t, op, ot.baseLen(op));
      this.serverBase = t;
      this.serverOps = [];
    }
    return this.serverBase;
  }

  setServerText(text) {
    this.serverBase = text;
    this.serverOps = [];
    this.serverLen = cpLength(text);
  }

  // applyServer applies op to serverText, later (see serverText); an op
  // that does not fit its length is refused now.
  applyServer(op) {
    ot.checkBase(op, this.serverLen);
    this.serverOps.push(op);
    this.serverLen = ot.targetLen(op);
    if (this.serverOps.length >= MAX_SERVER_OPS) void this.serverText;
  }

  // serverIsLocal makes serverText the local text, which it is when
  // nothing is pending.
  serverIsLocal() {
    this.serverBase = this.text;
    this.serverOps = [];
    this.serverLen = this.textLen;
  }

  // setText sets the local text; op, when given, turned the old text into
  // next (so it has next's length).
  setText(next, op, local, client, name) {
    this.text = next;
    this.textLen = op ? ot.targetLen(op) : cpLength(next);
    if (op) this.dispatchEvent(new CustomEvent('change', { detail: { op, local: !!local, client: client || '', name: name || '' } }));
  }

  updateState() {
    if (this.state === 'error' && this.fatal) return;
    if (!this.joined) this.setState(this.attempt === 0 ? 'connecting' : 'offline', this.offlineMessage());
    else if (this.readonly) this.setState('readonly');
    else if (this.pendingCount > 0) this.setState('saving');
    else this.setState('synced');
  }

  setState(state, message = '') {
    const prevPending = this.lastEmitted;
    this.state = state;
    this.message = message;
    const d = this.statusDetail(message);
    const sig = `${d.state}|${d.pending}|${d.rev}|${d.message}`;
    if (sig === prevPending) return;
    this.lastEmitted = sig;
    this.dispatchEvent(new CustomEvent('status', { detail: d }));
  }

  statusDetail(message = this.message) {
    return { state: this.state, pending: this.pendingCount, rev: this.serverRev, message };
  }
}

// describeStatus returns a short human text for a status detail.
export function describeStatus(d) {
  const n = d.pending;
  const edits = (k) => `${k} edit${k === 1 ? '' : 's'}`;
  switch (d.state) {
    case 'connecting': return 'Connecting…';
    case 'synced': return 'All changes saved';
    case 'saving': return `Saving ${edits(n)}…`;
    case 'offline': {
      const why = d.message ? `Offline (${d.message})` : 'Offline';
      return n > 0 ? `${why} — ${edits(n)} not yet saved` : `${why} — reconnecting…`;
    }
    case 'readonly': return 'Read only';
    case 'error': return d.message ? `Error: ${d.message}` : 'Error';
    default: return d.state;
  }
}
