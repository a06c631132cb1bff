// @ts-check
// SyncCore is the collab protocol's client state machine for one document
// (docs/protocol.md, version 1), with no DOM, socket, timer or storage:
// server messages and local edits go in, and each call returns what to do
// — messages to send, changes to apply to the editor, what persistence and
// the transport should know. DocClient (client.js) drives it in the
// browser; the shared client vectors (testdata/client-vectors.json) drive
// it and the Go client alike.
//
// It keeps the document as ot.js does: synchronised, awaiting an ack (one
// submit in flight), or awaiting an ack with a buffer of later local edits
// composed together. Incoming ops are transformed against the pending ones
// (the server's first on ties). A seq, once given to an op, stays with it:
// after a reconnect the core resumes from its last revision, counts its
// own ops in `joined.ops` as the acks it missed, and resubmits the rest
// under their original numbers; after a `reset` it rebases them on the new
// text. Texts are LazyTexts: an edit or a remote op costs the size of the
// op, not of the document.

import * as ot from './ot.js';
import { diffOp } from './diff.js';
import { LazyText } from './lazytext.js';
import { Peers, unmapIndex } from './presence.js';
import { resolveLimits, budgetFor, split, utf8Bytes, insertedText } from './split.js';

/** @typedef {import('./ot.js').Op} Op */
/** @typedef {import('./presence.js').Peer} Peer */
/**
 * The op in flight. confirm: a reset rebased it after it was sent, so the
 * server may commit it as first sent (sequenced through another server
 * before the reset, committed after): its ack is followed by a join for
 * the text, which shows which was committed.
 * @typedef {{seq: number, op: Op, count: number, confirm?: boolean}} Inflight
 */
/** @typedef {{op: Op, count: number}} Buffered */
/**
 * A change of the local text: op (code points) turned the previous text
 * into the current one; local when this editor made it; client and name
 * say whose it is.
 * @typedef {{op: Op, local: boolean, client: string, name: string}} Change
 */
/**
 * A change of the server's text, for persistence: op applied to it (the
 * new revision rev), or text replaced it.
 * @typedef {{rev: number, op?: Op, text?: string}} ServerChange
 */
/**
 * What one input produced, to be carried out in this order: persist
 * (the outbox must be on disk before a submit leaves), send, changes,
 * then the rest.
 * @typedef {object} Output
 * @property {object[]} send messages to send, in order
 * @property {Change[]} changes changes to apply to the editor, in order
 * @property {ServerChange[]} server changes of the server's text
 * @property {boolean} persist write the outbox now (a seq is about to leave)
 * @property {boolean} save the outbox changed: write it soon
 * @property {boolean} peers the other editors or their carets changed
 * @property {boolean} acked a submit was acknowledged (the server commits)
 * @property {{code: string, message: string}[]} errors server errors about this document
 * @property {{code: string, message: string, text: string} | null} refused edits refused for good
 *   and taken out of the text: why, and the text they inserted (for the person to keep)
 * @property {{by: string} | null} deleted the document was deleted (by: who, when known)
 * @property {'resync' | 'unavailable' | 'fatal' | 'deleted' | 'reauth' | null} action what the transport must do:
 *   reconnect to the same server, move to the next after a backoff, or stop (fatal, deleted);
 *   reauth: get a new token (the server ended the session for its token, or refused it)
 * @property {string} message why, for fatal; a notice otherwise
 */
/**
 * The outbox: what a reload needs to resubmit the unsent edits.
 * @typedef {{rev: number, lastSeq: number, inflight: Inflight | null, buffer: Buffered | null}} Outbox
 */

/** @returns {Output} */
function output() {
  return { send: [], changes: [], server: [], persist: false, save: false, peers: false, acked: false, errors: [], refused: null, deleted: null, action: null, message: '' };
}

// Codes after which reconnecting cannot help.
const FATAL = new Set(['unauthorized', 'forbidden', 'invalid_doc_id', 'too_many_docs', 'too_many_editors', 'unsupported_version']);

// What people read when their access changes.
export const RENEWING = 'renewing access';
const READ_ONLY_NOW = 'your access to this document is now read-only';
const ACCESS_ENDED = 'Your access to this document has ended';
const ACCESS_ENDED_KEPT = 'Your access to this document has ended; your unsent changes are kept on this device ' +
  'and will be sent when you open it again with access';

/** Errors after which every edit is kept and resubmitted after a backoff. */
const RETRY_LATER = new Set(['unavailable', 'too_many_loaded', 'rate_limited', 'quota_exceeded']);

export class SyncCore {
  #doc;
  #diff;
  #token;
  #wantReadOnly;
  #text = new LazyText(); // the server's text with the pending edits applied
  #server = new LazyText(); // the text at #rev
  #rev = 0;
  #known = false; // #rev and #server came from the server (or a saved outbox)
  /** @type {Inflight | null} */ #inflight = null;
  /** @type {Buffered | null} */ #buffer = null;
  #lastSeq = 0; // highest seq ever given on this document
  #joined = false;
  #readonly = false;
  /** @type {string | null} */ #publicId = null;
  /** @type {{anchor: number, head: number} | null} */ #caret = null; // own caret, local positions
  // Own caret as the server holds it at #rev, moved over each op in the
  // server's order as the server moves it (null: not known to be held).
  // A caret the server already has is not sent again: after a remote op or
  // one's own typing it is where everyone already puts it, and sending it
  // anyway makes every editor answer every keystroke.
  /** @type {{anchor: number, head: number} | null} */ #held = null;
  #peers = new Peers();
  #limits = resolveLimits(null); // the server's, from welcome
  #renewable = false; // a new token can be had (getToken): unauthorized is not fatal
  #welcomed = false; // the connection said welcome: auth may be sent
  #accessEnded = false; // the server ended the session for its token: rejoin after auth
  #reauths = 0; // tokens refused since the last joined
  #splitOff = false; // the buffer is the unsent rest of the edit in flight
  /** @type {Output} */ #out = output();

  /**
   * diff, default diffOp, computes the server's change a reset rebases the
   * pending edits over (a test hands the core another client's diffs).
   * @param {{doc: string, token?: string, readonly?: boolean, renewable?: boolean,
   *   diff?: (before: string, after: string) => Op}} opts
   */
  constructor(opts) {
    this.#doc = opts.doc;
    this.#diff = opts.diff || diffOp;
    this.#token = opts.token || '';
    this.#renewable = !!opts.renewable;
    this.#wantReadOnly = !!opts.readonly;
    this.#readonly = this.#wantReadOnly;
  }

  get doc() { return this.#doc; }
  /** renewable: a new token can be had, so unauthorized asks for one (reauth). @param {boolean} v */
  set renewable(v) { this.#renewable = v; }
  /** The local text. Reading it costs a scan when ops were applied since. */
  get text() { return this.#text.value; }
  /** The local text's length in code points. */
  get length() { return this.#text.length; }
  /** The server's text at rev. */
  get serverText() { return this.#server.value; }
  get serverLength() { return this.#server.length; }
  /** The last revision known from the server. */
  get rev() { return this.#rev; }
  get joined() { return this.#joined; }
  get readonly() { return this.#readonly; }
  get publicId() { return this.#publicId; }
  get lastSeq() { return this.#lastSeq; }
  get inflight() { return this.#inflight; }
  get buffer() { return this.#buffer; }
  /** The local edits not yet acknowledged (each keystroke counts). */
  get pendingCount() { return (this.#inflight ? this.#inflight.count : 0) + (this.#buffer ? this.#buffer.count : 0); }
  get hasPending() { return !!(this.#inflight || this.#buffer); }
  /** The other editors. @returns {Peer[]} */
  get peers() { return this.#peers.list(); }
  /** @param {string} client */
  peer(client) { return this.#peers.get(client); }

  /** The outbox, for persistence. @returns {Outbox} */
  outbox() { return { rev: this.#rev, lastSeq: this.#lastSeq, inflight: this.#inflight, buffer: this.#buffer }; }

  /**
   * restore takes a saved outbox and the server's text at its revision
   * (before any connection). It returns false, changing nothing, when the
   * ops do not fit the text.
   * @param {Outbox} box @param {string} serverText
   */
  restore(box, serverText) {
    const server = new LazyText(serverText);
    const text = new LazyText(serverText);
    const inflight = box.inflight
      ? { seq: box.inflight.seq, op: ot.fromWire(box.inflight.op), count: box.inflight.count || 1, ...(box.inflight.confirm ? { confirm: true } : {}) }
      : null;
    const buffer = box.buffer ? { op: ot.fromWire(box.buffer.op), count: box.buffer.count || 1 } : null;
    try {
      if (inflight) text.apply(inflight.op);
      if (buffer) text.apply(buffer.op);
    } catch {
      return false;
    }
    this.#server = server;
    this.#text = text;
    this.#rev = box.rev;
    this.#known = true;
    this.#lastSeq = box.lastSeq || 0;
    this.#inflight = inflight;
    this.#buffer = buffer;
    return true;
  }

  /** renewed forgets the seqs of an old client id (nothing may be pending). */
  renewed() {
    this.#lastSeq = 0;
    this.#publicId = null;
  }

  // ---- inputs ----

  /**
   * receive takes one server message. An op that does not fit the state
   * makes the core start over from the server's text (a resync).
   * @param {any} msg @returns {Output}
   */
  receive(msg) {
    try {
      this.#receive(msg);
    } catch (e) {
      this.#known = false; // rejoin without a revision: a full text, pending edits rebased
      this.#out.action = 'resync';
      this.#out.message = 'client: ' + (e instanceof Error ? e.message : String(e));
    }
    return this.#take();
  }

  /**
   * disconnected: the connection is gone; edits go on and wait.
   * @returns {Output}
   */
  disconnected() {
    this.#joined = false;
    this.#welcomed = false;
    this.#accessEnded = false; // the next connection joins anyway
    // Their carets may be gone by now: not shown as live until the server
    // tells again who is here.
    if (this.#peers.stale()) this.#out.peers = true;
    return this.#take();
  }

  /**
   * edit records a local edit, an op on the current local text.
   * @param {Op} op @returns {Output}
   */
  edit(op) {
    if (this.#readonly) throw new Error('client: the document is read-only');
    if (ot.isNoop(op)) return this.#take();
    this.#text.apply(op);
    this.#buffer = this.#buffer ? { op: ot.compose(this.#buffer.op, op), count: this.#buffer.count + 1 } : { op, count: 1 };
    this.#splitOff = false;
    this.#peers.move(op, null);
    this.#out.changes.push({ op, local: true, client: this.#publicId || '', name: '' });
    if (!this.#flush()) this.#out.save = true;
    return this.#take();
  }

  /**
   * caret shares the local caret or selection (code points of the local
   * text), mapped back to the last server revision.
   * @param {number} anchor @param {number} head @returns {Output}
   */
  caret(anchor, head) {
    this.#caret = { anchor, head };
    this.#sendCaret();
    return this.#take();
  }

  /** leave says goodbye to the document. @returns {Output} */
  leave() {
    if (this.#joined) this.#send({ type: 'leave', doc: this.#doc });
    this.#joined = false;
    return this.#take();
  }

  /**
   * reauth takes a new token: given to the open connection (auth, which
   * the server handles before what follows), and the session the server
   * ended for the old one is joined again, resuming the pending edits.
   * @param {string} token @returns {Output}
   */
  reauth(token) {
    this.#token = token;
    this.#renewable = true;
    if (this.#welcomed) {
      this.#send({ type: 'auth', token });
      if (this.#accessEnded) {
        this.#accessEnded = false;
        this.#join(this.#known);
      }
    }
    return this.#take();
  }

  // ---- messages ----

  /** @param {any} msg */
  #receive(msg) {
    if (msg.type === 'welcome') { this.#welcome(msg); return; }
    if (msg.type === 'error') { this.#error(msg); return; }
    if (msg.type === 'authed') { this.#authed(msg); return; }
    if (msg.doc !== this.#doc) return;
    switch (msg.type) {
      case 'joined': this.#onJoined(msg); break;
      case 'ack': this.#ack(msg.seq, msg.rev); break;
      case 'op': this.#onOp(msg); break;
      case 'presence': this.#onPresence(msg); break;
      case 'editor':
        if (msg.client === this.#publicId) break;
        this.#peers.editor(msg);
        this.#out.peers = true;
        break;
      default: break;
    }
  }

  /** @param {any} msg */
  #welcome(msg) {
    this.#welcomed = true;
    this.#publicId = msg.client;
    this.#limits = resolveLimits(msg.limits);
    this.#join(this.#known);
  }

  /** @param {boolean} resume */
  #join(resume) {
    /** @type {Record<string, any>} */
    const join = { type: 'join', doc: this.#doc };
    if (resume) join.rev = this.#rev;
    if (this.#token) join.token = this.#token;
    this.#send(join);
  }

  /** @param {any} msg */
  #onJoined(msg) {
    this.#held = null; // a new session: the server holds no caret of ours
    this.#readonly = this.#wantReadOnly || !!msg.readonly;
    this.#peers.clear(); // the server sends every editor again
    this.#out.peers = true;
    if (msg.reset && this.#known && msg.rev < this.#rev) {
      // Back to an older revision: deleted meanwhile (or restored from an
      // older copy). Nothing is resubmitted unless the person chooses.
      this.#send({ type: 'leave', doc: this.#doc });
      this.#out.deleted = { by: '' };
      this.#out.action = 'deleted';
      return;
    }
    if (typeof msg.text === 'string') {
      this.#joinedText(msg);
    } else {
      for (const rec of msg.ops || []) {
        if (rec.rev <= this.#rev) continue;
        if (this.#inflight && rec.client === this.#publicId && rec.seq === this.#inflight.seq) {
          this.#ownCommitted(rec.op);
          if (this.#ack(rec.seq, rec.rev)) return; // the ack lost with the old connection; starting over
        } else {
          this.#remote(ot.fromWire(rec.op), rec.rev, rec.client, rec.name || '');
        }
      }
      this.#rev = Math.max(this.#rev, msg.rev);
      if (this.#inflight && this.#inflight.seq <= msg.seq) {
        // Committed, yet not among the ops we were sent: start over from the text.
        this.#startOver();
        return;
      }
    }
    this.#known = true;
    this.#lastSeq = Math.max(this.#lastSeq, msg.seq || 0);
    this.#joined = true;
    this.#reauths = 0;
    if (!this.hasPending) this.#out.acked = true;
    this.#out.save = true;
    if (this.#inflight) {
      // Resubmit under the original number: the server applies it at most once.
      this.#send({ type: 'submit', doc: this.#doc, rev: this.#rev, seq: this.#inflight.seq, op: this.#inflight.op });
    }
    this.#flush();
    if (this.#caret) this.#sendCaret();
  }

  // joinedText takes a full text: a first join, or a reset. Pending edits
  // already committed are dropped; the rest are rebased on the new text.
  /** @param {any} msg */
  #joinedText(msg) {
    const fresh = msg.text;
    if (this.#inflight && this.#inflight.seq <= (msg.seq || 0)) {
      this.#server.apply(this.#inflight.op);
      this.#inflight = null;
    }
    const pending = this.#pendingOp();
    // A real diff (not one prefix/suffix change) keeps everything the texts
    // share, so pending edits in an unchanged region stay where they were typed.
    const change = this.#diff(pending ? this.#server.value : this.#text.value, fresh);
    this.#server.set(fresh);
    this.#rev = msg.rev;
    this.#out.server.push({ rev: msg.rev, text: fresh });
    if (!pending) {
      this.#text.copy(this.#server);
      this.#peers.move(change, null);
      if (!ot.isNoop(change)) this.#out.changes.push({ op: change, local: false, client: '', name: '' });
      return;
    }
    this.#rebase(change, '', '');
    if (this.#inflight) this.#inflight = { ...this.#inflight, confirm: true };
  }

  // startOver leaves the document and joins it again for its text.
  #startOver() {
    this.#known = false;
    this.#joined = false;
    this.#send({ type: 'leave', doc: this.#doc });
    this.#join(false);
  }

  // ownCommitted marks the op in flight for confirmation when the server
  // committed it as another op (wireOp) than the one we hold.
  /** @param {any} wireOp */
  #ownCommitted(wireOp) {
    if (!this.#inflight || wireOp === undefined) return;
    if (JSON.stringify(ot.fromWire(wireOp)) !== JSON.stringify(this.#inflight.op)) {
      this.#inflight = { ...this.#inflight, confirm: true };
    }
  }

  /** @param {any} msg */
  #onOp(msg) {
    if (!this.#joined || msg.rev <= this.#rev) return;
    if (msg.client === this.#publicId && this.#inflight && msg.seq === this.#inflight.seq) {
      this.#ownCommitted(msg.op);
      this.#ack(msg.seq, msg.rev);
      return;
    }
    // No save: the saved outbox, older, still recovers every edit.
    this.#remote(ot.fromWire(msg.op), msg.rev, msg.client, msg.name || '');
  }

  // ack takes the ack of the op in flight; true when it started over from
  // the text to confirm it.
  /** @param {number} seq @param {number} rev @returns {boolean} */
  #ack(seq, rev) {
    if (!this.#inflight || seq !== this.#inflight.seq) return false;
    // With nothing buffered the local text is the new server text.
    if (this.#buffer) this.#server.apply(this.#inflight.op);
    else this.#server.copy(this.#text);
    this.#out.server.push({ rev, op: this.#inflight.op });
    this.#rev = rev;
    this.#moveHeld(this.#inflight.op, true);
    const confirm = this.#inflight.confirm;
    this.#inflight = null;
    this.#out.acked = true;
    if (confirm) {
      // The server may hold the op as first sent: its text says which.
      this.#out.save = true;
      this.#startOver();
      return true;
    }
    if (this.#readonly && this.#buffer) this.#refuse('read_only', READ_ONLY_NOW, true);
    this.#flush();
    this.#out.save = true;
    return false;
  }

  // authed: the server took a new token; for this document it may now
  // only allow reading (the edits not yet sent are refused, as the server
  // would), or allow writing again.
  /** @param {any} msg */
  #authed(msg) {
    if (!(msg.docs || []).includes(this.#doc)) return;
    const readonly = this.#wantReadOnly || msg.perm === 'read';
    if (readonly === this.#readonly) return;
    this.#readonly = readonly;
    if (readonly && this.#buffer && !this.#inflight) this.#refuse('read_only', READ_ONLY_NOW, true);
    this.#flush();
  }

  // remote takes an op committed as revision rev, which applies to the
  // server's text, and applies it to the local text after the pending edits.
  /** @param {Op} op @param {number} rev @param {string} client @param {string} name */
  #remote(op, rev, client, name) {
    const synced = !this.hasPending;
    this.#server.apply(op);
    this.#out.server.push({ rev, op });
    this.#rev = rev;
    if (synced) {
      this.#moveHeld(op, client === this.#publicId);
      this.#text.copy(this.#server);
      this.#peers.move(op, client);
      this.#out.changes.push({ op, local: false, client, name });
      return;
    }
    // Concurrent with our pending edits, other editors may place our caret
    // otherwise on ties (they apply the two in another order): send it.
    this.#held = null;
    this.#rebase(op, client, name);
  }

  // rebase moves the pending edits over a server change that applies where
  // they did, and applies the change to the local text.
  /** @param {Op} op @param {string} client @param {string} name */
  #rebase(op, client, name) {
    // The server puts ops committed earlier first on ties, as we do here.
    if (this.#inflight) {
      const [s1, p1] = ot.transform(op, this.#inflight.op);
      this.#inflight = { ...this.#inflight, op: p1 };
      op = s1;
    }
    if (this.#buffer) {
      const [s1, b1] = ot.transform(op, this.#buffer.op);
      this.#buffer = { ...this.#buffer, op: b1 };
      op = s1;
    }
    this.#text.apply(op);
    this.#peers.move(op, client);
    if (!ot.isNoop(op)) this.#out.changes.push({ op, local: false, client, name });
  }

  /** @returns {Op | null} */
  #pendingOp() {
    if (this.#inflight && this.#buffer) return ot.compose(this.#inflight.op, this.#buffer.op);
    if (this.#inflight) return this.#inflight.op;
    if (this.#buffer) return this.#buffer.op;
    return null;
  }

  // flush submits the buffer when nothing is in flight and reports whether
  // it did.
  #flush() {
    if (this.#inflight || !this.#buffer || !this.#joined || this.#readonly) return false;
    const pieces = split(budgetFor(this.#limits, this.#doc), this.#buffer.op);
    if (pieces && utf8Bytes(this.#text.value) > this.#limits.doc) {
      // Refused whole before anything leaves, rather than half committed.
      this.#refuse('doc_too_large', 'the document would be larger than the server allows');
      return false;
    }
    const seq = ++this.#lastSeq;
    this.#inflight = { seq, op: pieces ? pieces[0] : this.#buffer.op, count: this.#buffer.count };
    this.#buffer = pieces ? { op: pieces[1], count: 0 } : null;
    this.#splitOff = !!pieces;
    this.#out.persist = true; // the number is on disk before the op leaves
    this.#send({ type: 'submit', doc: this.#doc, rev: this.#rev, seq, op: this.#inflight.op });
    return true;
  }

  /** @param {any} msg */
  #error(msg) {
    if (msg.doc && msg.doc !== this.#doc) return;
    // A submit sent before the session ended: resent after the rejoin.
    if (msg.code === 'not_joined' && this.#accessEnded) return;
    this.#out.errors.push({ code: msg.code, message: msg.message });
    const ours = this.#inflight && msg.seq === this.#inflight.seq;
    if (msg.code === 'read_only') {
      this.#readonly = true;
      if (this.hasPending) this.#refuse(msg.code, msg.message || '', true);
    } else if (msg.code === 'not_found' && !msg.seq) {
      // Deleted: rejoining would recreate it from what we have. The person chooses.
      this.#joined = false;
      this.#out.deleted = { by: msg.by || '' };
      this.#out.action = 'deleted';
    } else if (msg.code === 'unauthorized' && this.#renewable && this.#reauths++ < 2) {
      // Expired, revoked or refused: a new token, then the same session
      // resumes. Edits wait (kept on the device).
      this.#joined = false;
      this.#accessEnded = !!msg.doc;
      this.#out.action = 'reauth';
      this.#out.message = RENEWING;
    } else if (msg.code === 'unauthorized') {
      this.#joined = false;
      this.#out.action = 'fatal';
      const why = String(msg.message || '').replace(/^collab: unauthorized: /, '');
      this.#out.message = (this.hasPending ? ACCESS_ENDED_KEPT : ACCESS_ENDED) + (why ? ` (${why})` : '');
    } else if (FATAL.has(msg.code)) {
      this.#out.action = 'fatal';
      this.#out.message = msg.message || msg.code;
    } else if (msg.code === 'invalid_op' || msg.code === 'doc_too_large') {
      // The server will never take this edit: never resent, out of the text.
      if (ours) this.#refuse(msg.code, msg.message || '');
    } else if (RETRY_LATER.has(msg.code)) {
      // The store could not commit, the server is stopping, holds as many
      // documents as it may, or refuses more bytes for now. Nothing
      // changed: every edit is kept and resubmitted under its seq.
      this.#out.action = 'unavailable';
    } else {
      // rev_too_old, future_rev, not_joined, internal…: rejoin and resume.
      this.#out.action = 'resync';
    }
  }

  /**
   * tooLarge: the connection closed because a message was too large (1009):
   * the op in flight is refused as doc_too_large.
   * @returns {Output}
   */
  tooLarge() {
    if (this.#inflight) this.#refuse('doc_too_large', 'the edit is larger than the server accepts');
    return this.#take();
  }

  // refuse drops refused edits for good: the one in flight with the unsent
  // rest of the same edit, or everything pending (all, or nothing in flight),
  // and reports the text they inserted.
  /** @param {string} code @param {string} message @param {boolean} [all] */
  #refuse(code, message, all = false) {
    const inflight = this.#inflight;
    if (all || !inflight || this.#splitOff || !this.#buffer) {
      const text = [inflight, this.#buffer].map((p) => (p ? insertedText(p.op) : '')).join('');
      this.#dropPending();
      this.#out.refused = { code, message, text };
      return;
    }
    // Only the op in flight: its inverse, moved over the later edits.
    const inv = ot.invert(inflight.op, this.#server.value);
    const [inv1, buffer] = ot.transform(inv, this.#buffer.op);
    this.#inflight = null;
    this.#buffer = { ...this.#buffer, op: buffer };
    this.#text.apply(inv1);
    this.#peers.move(inv1, null);
    this.#out.changes.push({ op: inv1, local: false, client: '', name: '' });
    this.#out.save = true;
    this.#out.refused = { code, message, text: insertedText(inflight.op) };
    this.#flush();
  }

  /**
   * recreate starts the document again from the local text, after the
   * person chose to: the next connection joins the new, empty document and
   * submits the whole text.
   * @returns {Output}
   */
  recreate() {
    const text = this.#text.value;
    this.#server.set('');
    this.#rev = 0;
    this.#known = false;
    this.#inflight = null;
    this.#buffer = text ? { op: [text], count: 1 } : null;
    this.#splitOff = false;
    this.#out.server.push({ rev: 0, text: '' });
    this.#out.save = true;
    return this.#take();
  }

  #dropPending() {
    this.#splitOff = false;
    if (!this.hasPending) return;
    this.#inflight = null;
    this.#buffer = null;
    const change = diffOp(this.#text.value, this.#server.value);
    this.#text.copy(this.#server);
    this.#peers.move(change, null);
    this.#out.changes.push({ op: change, local: false, client: '', name: '' });
    this.#out.save = true;
  }

  // ---- presence ----

  /** @param {any} msg */
  #onPresence(msg) {
    if (msg.client === this.#publicId) return;
    let anchor = msg.anchor;
    let head = msg.head;
    // Positions are at rev; move them over our pending edits.
    for (const p of [this.#inflight, this.#buffer]) {
      if (!p) continue;
      anchor = ot.transformIndex(anchor, p.op, false);
      head = ot.transformIndex(head, p.op, false);
    }
    this.#peers.caret(msg, anchor, head, this.#text.length);
    this.#out.peers = true;
  }

  #sendCaret() {
    if (!this.#joined || !this.#caret) return;
    let { anchor, head } = this.#caret;
    for (const p of [this.#buffer, this.#inflight]) {
      if (!p) continue;
      anchor = unmapIndex(anchor, p.op);
      head = unmapIndex(head, p.op);
    }
    const held = this.#held;
    if (held && held.anchor === anchor && held.head === head) return;
    this.#held = { anchor, head };
    this.#send({ type: 'presence', doc: this.#doc, rev: this.#rev, anchor, head });
  }

  // moveHeld moves the caret the server holds over an op it committed, as
  // the server does (own: ours, which puts a caret after its insert).
  /** @param {Op} op @param {boolean} own */
  #moveHeld(op, own) {
    if (!this.#held) return;
    this.#held = { anchor: ot.transformIndex(this.#held.anchor, op, own), head: ot.transformIndex(this.#held.head, op, own) };
  }

  // ---- output ----

  /** @param {object} msg */
  #send(msg) { this.#out.send.push(msg); }

  #take() {
    const out = this.#out;
    this.#out = output();
    return out;
  }
}
