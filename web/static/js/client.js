// @ts-check
// DocClient: the browser's client of one document. It drives the pure
// protocol state machine (SyncCore, sync.js) with a WebSocket (Transport,
// transport.js), keeps unsent edits across reloads (Persistence,
// persist.js), and tells the page what happened through events.
//
// The client id and the sequence numbers outlive the connection and, with
// unsent edits, the page. When another connection takes the client id
// (close 4001, e.g. a duplicated tab, which copies sessionStorage), a
// client with nothing pending continues under a fresh id; one with pending
// edits stops with an error, as their seqs may collide. With several
// server URLs, a failed connection moves to the next (transport.js); an
// `unavailable` error keeps the edits and retries them, on the next server,
// with a backoff that keeps growing until a submit is acknowledged; so do
// `rate_limited` and `quota_exceeded` (the connection submitted too many
// bytes per second, or the document grew by its quota for now).
//
// Events (EventTarget; `detail` carries the data):
//   change   {op, local, client, name}   the text changed (op in code points)
//   status   {state, pending, rev, message}
//            state: connecting | synced | saving | offline | readonly | deleted | error
//            message: the error's text; with offline, 'server unavailable'
//            while the service cannot commit, 'too many changes at once'
//            while it refuses them for a limit (else empty)
//   presence {peers}                      carets or the list of editors changed
//   error    {code, message}              the server refused something
//   refused  {code, message, text}        edits refused for good, taken out of
//                                         the text; text: what they inserted
//   deleted  {by}                         the document was deleted (by: who, if
//                                         known); the text stays until recreate()
//
// Reconnection: at once when the browser comes online or the page becomes
// visible; with a backoff of at most MAX_BACKOFF_VISIBLE while visible. A
// connection that leaves a submit unanswered for ANSWER_MS, or that the
// browser reports offline, is given up at once: a dead socket can stay
// "open" for minutes, and browsers hide the server's pings from scripts.

import * as ot from './ot.js';
import { wellFormed } from './text.js';
import { SyncCore, RENEWING } from './sync.js';
import { Persistence } from './persist.js';
import { Transport, parseServers, wsURL } from './transport.js';
import { isColor } from './color.js';

export { parseServers, wsURL };

/** @typedef {import('./ot.js').Op} Op */
/** @typedef {import('./sync.js').Output} Output */
/** @typedef {import('./presence.js').Peer} Peer */
/** @typedef {{state: string, pending: number, rev: number, message: string}} StatusDetail */

const ID_PREFIX = 'collab:client:';
const HEARTBEAT_MS = 5000;
const ANSWER_MS = 8000;
// PING_MS of silence from the server makes the client send a ping, which
// must be answered within ANSWER_MS: a browser cannot see WebSocket ping
// frames, and may keep a dead socket open for minutes.
const PING_MS = 10000;
const MAX_BACKOFF_VISIBLE = 4000;

// A token is renewed this long before it expires (or when a quarter of
// its life is left, for a short one).
const RENEW_LEAD_MS = 60000;

/**
 * tokenExpiry reads the exp claim of a JWT, in milliseconds, without
 * checking it (the server does); null if it has none.
 * @param {string} token @returns {number | null}
 */
export function tokenExpiry(token) {
  const part = (token || '').split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = JSON.parse(json).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

const claimedIds = new Set(); // client ids used by live DocClients of this page

export function randomId() {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return 'c-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @template T @param {() => T} get @returns {T | null} */
function safeStorage(get) {
  try { return get() || null; } catch { return null; }
}

/**
 * @typedef {object} DocClientOptions
 * @property {string | string[]} server http(s) URL of the service, or several (see parseServers)
 * @property {string} doc
 * @property {string} [name]
 * @property {string} [color]
 * @property {string} [token]
 * @property {(() => Promise<string> | string) | null} [getToken] gives a new token: called before the
 *   token expires and when the server ends the session for it (expired, revoked); the connection
 *   keeps going and the unsent edits wait
 * @property {boolean} [readonly]
 * For tests:
 * @property {any} [WebSocket]
 * @property {Storage | null} [storage] unsent edits (default localStorage)
 * @property {Storage | null} [session] the tab's client id (default sessionStorage)
 * @property {() => number} [random]
 * @property {(fn: () => void, ms: number) => any} [setTimeout]
 * @property {(id: any) => void} [clearTimeout]
 * @property {((fn: () => void, ms: number) => any) | null} [setInterval] null: no heartbeat
 * @property {(id: any) => void} [clearInterval]
 * @property {() => number} [now]
 * @property {(fn: () => void) => void} [schedule] runs a function after the current task
 * @property {any} [page] the window whose pagehide and visibilitychange save the record (null: none)
 * @property {number} [maxBackoff] the longest wait between attempts while hidden
 * @property {{setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (id: any) => void} | null} [watchdog]
 *   the timers that give up a connection leaving a submit unanswered (default setTimeout; null: none)
 * @property {(url: string) => Promise<any>} [fetch] for /api/origin-check (default fetch)
 * @property {{setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (id: any) => void}} [snapshotTimers]
 *   the timers that write snapshots of the text (default setTimeout and clearTimeout)
 */

export class DocClient extends EventTarget {
  /** @param {DocClientOptions} opts */
  constructor(opts) {
    super();
    const servers = parseServers(opts.server);
    // The service the saved records and the client id belong to: the same
    // for any order of the URLs, and for one URL just that URL.
    this.service = [...servers].sort().join(' ');
    this.doc = opts.doc;
    this.name = opts.name || '';
    this.color = isColor(opts.color) ? /** @type {string} */ (opts.color) : ''; // the server refuses a hello with another colour
    this.token = opts.token || '';
    this.session = opts.session !== undefined ? opts.session : safeStorage(() => globalThis.sessionStorage);
    this.setInterval = opts.setInterval !== undefined ? opts.setInterval : globalThis.setInterval.bind(globalThis);
    this.clearInterval = opts.clearInterval || globalThis.clearInterval.bind(globalThis);
    this.now = opts.now || Date.now;
    this.schedule = opts.schedule || globalThis.queueMicrotask.bind(globalThis);
    this.page = opts.page !== undefined ? opts.page : (globalThis.window || null);
    const setTimeout = opts.setTimeout || globalThis.setTimeout.bind(globalThis);
    const clearTimeout = opts.clearTimeout || globalThis.clearTimeout.bind(globalThis);
    this.setTimeout = setTimeout;
    this.clearTimeout = clearTimeout;
    this.watchdog = opts.watchdog !== undefined ? opts.watchdog : { setTimeout, clearTimeout };
    this.fetch = opts.fetch || (globalThis.fetch ? globalThis.fetch.bind(globalThis) : null);

    /** @type {(() => Promise<string> | string) | null} */ this.getToken = opts.getToken || null;
    this.core = new SyncCore({ doc: opts.doc, token: this.token, readonly: opts.readonly, renewable: !!this.getToken });
    this.store = new Persistence({
      storage: opts.storage !== undefined ? opts.storage : safeStorage(() => globalThis.localStorage),
      service: this.service, doc: opts.doc, now: this.now, ...(opts.snapshotTimers || { setTimeout, clearTimeout }),
    });
    this.transport = new Transport({
      servers, WebSocket: opts.WebSocket || globalThis.WebSocket, setTimeout, clearTimeout,
      random: opts.random || Math.random, maxBackoff: () => this.maxBackoff(opts.maxBackoff || 30000),
      onopen: () => this.#hello(),
      onmessage: (msg) => { this.#heard(); this.#listen(); this.#apply(this.core.receive(msg)); },
      onclose: (code, reason, opened) => this.#onClose(code, reason, opened),
      onwait: () => this.setState('offline', this.offlineMessage()),
    });

    this.state = 'connecting';
    this.message = '';
    this.closed = false;
    this.fatal = false; // an error that reconnecting cannot fix
    this.unavailable = ''; // why the server could not commit: back off until an ack
    /** @type {any} */ this.heartbeat = null;
    this.dirty = false; // the saved record is behind the outbox
    this.saveQueued = false; // a save is scheduled for the end of the task
    this.lastEmitted = '';
    this.joinedBefore = false; // the core was joined after the last output
    /** @type {any} */ this.answerTimer = null; // a submit awaits an answer
    /** @type {any} */ this.quietTimer = null; // the server's silence before a ping
    this.checkingOrigin = false;
    // The servers that answered /api/origin-check since the last connection
    // that opened: later failures there have another cause.
    /** @type {Set<string>} */ this.originAnswered = new Set();
    /** @type {{by: string} | null} */ this.deleted = null;
    /** @type {any} */ this.renewTimer = null; // renews the token before it expires
    this.renewing = false;
    // The page may be closed or frozen after these: write the latest state.
    /** @param {Event} e */
    this.onPageHide = (e) => {
      const doc = this.page && this.page.document;
      if (e.type === 'pagehide' || !doc || doc.visibilityState === 'hidden') this.persist();
      else if (e.type === 'visibilitychange') this.reconnectNow();
    };
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.transport.abandon('offline');
    this.client = this.pickClientId();
    claimedIds.add(this.client);
    this.store.use(this.client);
  }

  // start loads unsent edits saved by an earlier page and connects.
  start() {
    const saved = this.store.load();
    if (saved && !this.core.restore(saved.box, saved.serverText)) this.store.forget(this.core);
    if (this.page && this.page.addEventListener) {
      this.page.addEventListener('pagehide', this.onPageHide);
      this.page.addEventListener('visibilitychange', this.onPageHide);
      this.page.addEventListener('online', this.onOnline);
      this.page.addEventListener('offline', this.onOffline);
    }
    if (this.core.hasPending) this.startHeartbeat();
    this.scheduleRenewal();
    this.connect();
    return this;
  }

  // ---- tokens ----

  /**
   * setTokenSource gives the client a getToken after it started (the
   * widget's property may be set after the element connected).
   * @param {(() => Promise<string> | string) | null} getToken
   */
  setTokenSource(getToken) {
    this.getToken = getToken;
    this.core.renewable = !!getToken;
    this.scheduleRenewal();
  }

  // scheduleRenewal arms the timer that renews the token a minute before
  // it expires (a quarter of its life, for a short one).
  scheduleRenewal() {
    if (this.renewTimer) this.clearTimeout(this.renewTimer);
    this.renewTimer = null;
    if (!this.getToken || this.closed) return;
    const exp = tokenExpiry(this.token);
    if (exp === null) return;
    const left = Math.max(exp - this.now(), 0);
    const wait = Math.max(left - Math.min(RENEW_LEAD_MS, left / 4), 0);
    this.renewTimer = this.setTimeout(() => { this.renewTimer = null; this.renewToken(); }, wait);
  }

  // renewToken asks getToken for a new token and gives it to the
  // connection; a session the server ended for the old one resumes.
  async renewToken() {
    if (!this.getToken || this.renewing || this.closed) return;
    this.renewing = true;
    let token = '';
    try {
      token = await this.getToken();
    } catch (e) {
      console.warn('collab: getToken failed', e);
    }
    this.renewing = false;
    if (this.closed) return;
    if (typeof token !== 'string' || !token) {
      this.fail(this.core.hasPending
        ? 'Your access to this document could not be renewed; your unsent changes are kept on this device.'
        : 'Your access to this document could not be renewed.');
      return;
    }
    this.token = token;
    this.#apply(this.core.reauth(token));
    this.scheduleRenewal();
  }

  // ---- the core's state ----

  /** The local text (the server's with the pending edits). */
  get text() { return this.core.text; }
  /** Its length in code points. */
  get textLen() { return this.core.length; }
  get serverText() { return this.core.serverText; }
  get serverLen() { return this.core.serverLength; }
  get serverRev() { return this.core.rev; }
  get readonly() { return this.core.readonly; }
  get joined() { return this.core.joined; }
  get publicId() { return this.core.publicId; }
  get lastSeq() { return this.core.lastSeq; }
  get inflight() { return this.core.inflight; }
  get buffer() { return this.core.buffer; }
  get pendingCount() { return this.core.pendingCount; }
  /** The other editors, by public id. @returns {Map<string, Peer>} */
  get peers() { return new Map(this.core.peers.map((p) => [p.client, p])); }
  /** The URL connected to, or to be tried next. */
  get server() { return this.transport.server; }
  get servers() { return this.transport.servers; }
  get attempt() { return this.transport.attempt; }

  // ---- edits ----

  /** applyLocal records a local edit, an op on the current local text. @param {Op} op */
  applyLocal(op) {
    this.#apply(this.core.edit(op));
    this.updateState();
  }

  /** replaceText records the local edit turning the text into s. @param {string} s */
  replaceText(s) {
    this.applyLocal(ot.diff(this.text, wellFormed(s)));
  }

  /**
   * sendPresence shares the local caret or selection (code points of the
   * local text).
   * @param {number} anchor @param {number} head
   */
  sendPresence(anchor, head) { this.#apply(this.core.caret(anchor, head)); }

  // #apply carries out what the core asked for, in its order.
  /** @param {Output} out */
  #apply(out) {
    const wasJoined = this.joinedBefore;
    this.joinedBefore = this.core.joined;
    if (out.server.length) this.store.track(out.server, this.core);
    if (out.persist) this.persist();
    for (const m of out.send) this.transport.send(m);
    if (!wasJoined && this.core.joined && !this.unavailable) this.transport.attempt = 0;
    if (out.acked) this.recovered();
    // A record written just now (persist) holds the whole outbox: no second write.
    if (out.save && !out.persist) this.save();
    for (const c of out.changes) {
      const name = c.local ? this.name : c.name;
      this.dispatchEvent(new CustomEvent('change', { detail: { ...c, name } }));
    }
    if (out.peers || out.changes.length) {
      if (out.peers) this.emitPeers();
    }
    for (const e of out.errors) this.dispatchEvent(new CustomEvent('error', { detail: e }));
    if (out.refused) this.dispatchEvent(new CustomEvent('refused', { detail: out.refused }));
    this.#watch();
    switch (out.action) {
      case 'fatal': this.fail(out.message); break;
      case 'deleted':
        this.deleted = out.deleted;
        this.fatal = true;
        this.transport.stop();
        this.setState('deleted');
        this.dispatchEvent(new CustomEvent('deleted', { detail: out.deleted }));
        break;
      case 'resync': this.transport.resync(); break;
      case 'reauth': this.renewToken(); break;
      case 'unavailable':
        this.unavailable = out.errors.some((e) => e.code === 'rate_limited' || e.code === 'quota_exceeded')
          ? 'too many changes at once'
          : 'server unavailable';
        this.transport.drop('unavailable');
        break;
      default:
        if (out.message) this.dispatchEvent(new CustomEvent('status', { detail: this.statusDetail(out.message) }));
    }
    this.updateState();
  }

  emitPeers() {
    this.dispatchEvent(new CustomEvent('presence', { detail: { peers: this.core.peers } }));
  }

  // recovered ends an `unavailable` episode: the server commits again.
  recovered() {
    if (!this.unavailable) return;
    this.unavailable = '';
    this.transport.attempt = 0;
  }

  // ---- identity and persistence ----

  /** @param {string} client */
  storeKey(client) { return this.store.recordKey(client); }

  idKey() { return `${ID_PREFIX}${this.service}|${this.doc}`; }

  pickClientId() {
    let id = null;
    try { id = this.session && this.session.getItem(this.idKey()); } catch { /* storage disabled */ }
    if (!id || claimedIds.has(id)) id = this.store.adoptOrphan(claimedIds) || randomId();
    if (claimedIds.has(id)) id = randomId();
    try { this.session && this.session.setItem(this.idKey(), id); } catch { /* storage disabled */ }
    return id;
  }

  // renewClientId gives this client a fresh identity, remembered for this
  // tab. Only safe with no pending edits: their seqs belong to the old id.
  renewClientId() {
    this.persist(); // removes the old id's record
    claimedIds.delete(this.client);
    this.client = randomId();
    claimedIds.add(this.client);
    this.store.use(this.client);
    this.core.renewed();
    try { this.session && this.session.setItem(this.idKey(), this.client); } catch { /* storage disabled */ }
  }

  // save brings the saved record up to date at the end of the current task,
  // once however many changes the task made. Any record written since the
  // edits were typed serves: a reload rejoins at its revision and the server
  // sends the ops since, our own (acks) included. So remote ops need no
  // save, while local edits, acks, joins and resets do; a seq is saved
  // before its submit leaves (persist). With nothing pending, the record is
  // removed at once. The heartbeat and pagehide write the latest state.
  save() {
    if (!this.core.hasPending) {
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
    this.store.write(this.core);
    if (this.core.hasPending) this.startHeartbeat();
    else this.stopHeartbeat();
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
    this.#apply(this.core.disconnected());
    this.setState(this.attempt === 0 ? 'connecting' : 'offline', this.offlineMessage());
    this.transport.connect();
  }

  #hello() {
    /** @type {Record<string, any>} */
    const hello = { type: 'hello', version: 1, client: this.client };
    if (this.name) hello.name = this.name;
    if (this.color) hello.color = this.color;
    if (this.token) hello.token = this.token;
    this.transport.send(hello);
  }

  // watch arms the answer timer while a submit is in flight on an open
  // connection; #heard re-arms it whenever the server says anything.
  #watch() {
    const waiting = !!this.core.inflight && this.core.joined;
    if (!waiting) { this.#heard(); return; }
    this.#awaitAnswer();
  }

  #awaitAnswer() {
    if (this.answerTimer || !this.watchdog) return;
    this.answerTimer = this.watchdog.setTimeout(() => {
      this.answerTimer = null;
      this.transport.abandon('no answer');
    }, ANSWER_MS);
  }

  // listen starts over the wait for the server's next word: after PING_MS
  // of silence on a joined connection, a ping asks for one.
  #listen() {
    this.#stopListening();
    if (!this.watchdog || this.closed) return;
    this.quietTimer = this.watchdog.setTimeout(() => {
      this.quietTimer = null;
      if (!this.core.joined) return;
      this.transport.send({ type: 'ping' });
      this.#awaitAnswer();
    }, PING_MS);
  }

  #stopListening() {
    if (this.quietTimer) this.watchdog?.clearTimeout(this.quietTimer);
    this.quietTimer = null;
  }

  #heard() {
    if (this.answerTimer) this.watchdog?.clearTimeout(this.answerTimer);
    this.answerTimer = null;
  }

  /** maxBackoff is short while the person is looking. @param {number} hidden */
  maxBackoff(hidden) {
    const doc = this.page && this.page.document;
    return doc && doc.visibilityState === 'visible' ? Math.min(hidden, MAX_BACKOFF_VISIBLE) : hidden;
  }

  /** @param {number} code @param {string} reason @param {boolean} opened */
  #onClose(code, reason, opened) {
    this.#heard();
    this.#stopListening();
    if (code === 1009) this.#apply(this.core.tooLarge());
    this.#apply(this.core.disconnected());
    if (this.closed) return;
    if (opened) this.originAnswered.clear();
    else if (!this.originAnswered.has(this.server)) this.checkOrigin();
    if (code === 4001) {
      // Another connection took our client id: most often a duplicated tab,
      // which copies sessionStorage. Its seqs and ours would collide.
      if (!this.core.hasPending) {
        this.renewClientId(); // nothing of ours is pending: a new identity is safe
        this.connect();
        return;
      }
      const n = this.pendingCount;
      this.fatal = true;
      this.setState('error', 'This document is open in another tab under the same identity, and this tab has ' +
        `${n} unsaved edit${n === 1 ? '' : 's'}. Copy them, then reload this tab.`);
      return;
    }
    if (code === 1002 || (this.state === 'error' && this.fatal)) {
      this.setState('error', this.message || reason || 'The server refused the connection.');
      return;
    }
    this.transport.reconnect();
  }

  // checkOrigin asks the server whether this page's origin is why the
  // connection failed: browsers hide the upgrade's 403 from scripts.
  async checkOrigin() {
    if (!this.fetch || this.checkingOrigin) return;
    this.checkingOrigin = true;
    const server = this.server;
    try {
      const res = await this.fetch(server + '/api/origin-check');
      const body = res && res.ok ? await res.json() : null;
      if (body) this.originAnswered.add(server);
      if (body && body.allowed === false && !this.closed) {
        const origin = body.origin || 'this page\'s origin';
        this.fail(`This site (${origin}) is not allowed to connect to ${server}. ` +
          `The server's operator must add ${origin} to ${body.setting || '-allowed-origins'}.`);
        this.transport.destroy();
      }
    } catch { /* the server is unreachable: offline, as shown */ }
    this.checkingOrigin = false;
  }

  // recreate starts the deleted document again from this page's text, as
  // the person chose.
  recreate() {
    if (!this.deleted || this.closed) return;
    this.deleted = null;
    this.fatal = false;
    this.#apply(this.core.recreate());
    this.connect();
  }

  offlineMessage() {
    return this.renewing ? RENEWING : this.unavailable;
  }

  // reconnectNow skips the backoff wait (the browser came back online). A
  // fatal error (an expired token, say) is not retried: it would only be
  // refused again.
  reconnectNow() {
    if (!this.fatal) this.transport.now();
  }

  /** fail stops for good after an error reconnecting cannot fix. @param {string} message */
  fail(message) {
    this.fatal = true;
    this.setState('error', message);
    this.transport.stop();
  }

  // destroy leaves the document and closes the connection. Unsent edits stay
  // saved for the next page.
  destroy() {
    if (this.closed) return;
    for (const m of this.core.leave().send) this.transport.send(m);
    this.closed = true;
    if (this.dirty) this.persist();
    this.store.forget(this.core);
    this.store.stop();
    this.stopHeartbeat();
    if (this.renewTimer) this.clearTimeout(this.renewTimer);
    this.renewTimer = null;
    if (this.page && this.page.removeEventListener) {
      this.page.removeEventListener('pagehide', this.onPageHide);
      this.page.removeEventListener('visibilitychange', this.onPageHide);
      this.page.removeEventListener('online', this.onOnline);
      this.page.removeEventListener('offline', this.onOffline);
    }
    this.#heard();
    this.#stopListening();
    this.transport.destroy();
    claimedIds.delete(this.client);
    this.setState('offline');
  }

  // ---- state ----

  updateState() {
    if (this.fatal) return; // error or deleted, until the person acts
    if (!this.core.joined) this.setState(this.attempt === 0 && !this.renewing ? 'connecting' : 'offline', this.offlineMessage());
    else if (this.readonly) this.setState('readonly');
    else if (this.pendingCount > 0) this.setState('saving');
    else this.setState('synced');
  }

  /** @param {string} state @param {string} [message] */
  setState(state, message = '') {
    this.state = state;
    this.message = message;
    const d = this.statusDetail(message);
    const sig = `${d.state}|${d.pending}|${d.rev}|${d.message}`;
    if (sig === this.lastEmitted) return;
    this.lastEmitted = sig;
    this.dispatchEvent(new CustomEvent('status', { detail: d }));
  }

  /** @param {string} [message] @returns {StatusDetail} */
  statusDetail(message = this.message) {
    return { state: this.state, pending: this.pendingCount, rev: this.serverRev, message };
  }
}

// describeStatus returns a short text for people for a status detail.
/** @param {StatusDetail} d @returns {string} */
export function describeStatus(d) {
  switch (d.state) {
    case 'connecting': return 'Connecting…';
    case 'synced': return 'Saved';
    case 'saving': return 'Saving…';
    case 'offline': {
      const why = d.message === 'server unavailable' ? 'The server cannot save right now'
        : d.message === 'too many changes at once' ? 'Too many changes at once, saving shortly'
          : d.message === RENEWING ? 'Renewing your access' : 'Offline';
      return d.pending > 0 ? `${why} — your changes are kept on this device` : `${why} — reconnecting…`;
    }
    case 'readonly': return 'Read only';
    case 'deleted': return 'This document was deleted';
    case 'error': return d.message || 'Something went wrong';
    default: return d.state;
  }
}
