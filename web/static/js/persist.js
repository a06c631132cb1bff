// @ts-check
// Persistence of unsent edits across page reloads, in localStorage (or
// any Storage). What a reload needs is the client id, a revision, the
// server's text at that revision, the last seq given and the pending ops.
// The text is the costly part, so it is written rarely: a snapshot of the
// server's text under its own key, plus, in the small record written with
// every submit, the server's changes since that snapshot composed into one
// op. A record therefore costs the size of the edits, not of the document;
// the snapshot is rewritten after a join or reset, or when the changes
// since it grow large, from a timer, never in a keystroke (except the first
// record after a join within the snapshot delay).
//
// Keys: `collab:pending:{service}|{doc}|{client}` holds the record (the key
// of earlier versions), `collab:text:{service}|{doc}|{client}@{rev}` the
// snapshot: the text itself under a record of version 3, a JSON object
// {rev, text} under version 2 (read, never written). A new snapshot is written before the record that names it, and
// the old one removed after, so a page that dies between two writes leaves
// a record whose snapshot exists.

import * as ot from './ot.js';

/** @typedef {import('./ot.js').Op} Op */
/** @typedef {import('./sync.js').Outbox} Outbox */
/** @typedef {import('./sync.js').ServerChange} ServerChange */
/** @typedef {import('./sync.js').SyncCore} SyncCore */
/**
 * @typedef {{v: number, ts: number, rev: number, lastSeq: number, base: number, since: Op | null,
 *   inflight: {seq: number, op: Op, count: number, confirm?: boolean} | null, buffer: {op: Op, count: number} | null}} PendingRecord
 */

export const STORE_PREFIX = 'collab:pending:';
export const TEXT_PREFIX = 'collab:text:';
// A record of unsent edits whose tab has not written it for this long may be
// adopted by a new tab (its tab is gone).
export const STALE_MS = 15000;
// How long after the server's text was replaced its snapshot is written.
const SNAPSHOT_DELAY_MS = 2000;
// How long after a snapshot that did not fit in storage the next is tried.
const SNAPSHOT_RETRY_MS = 60000;
// The changes since the snapshot that make it worth rewriting.
const MAX_SINCE_PIECES = 512;
const MAX_SINCE_UNITS = 1 << 15;

export class Persistence {
  /** @type {Storage | null} */ #storage;
  #prefix; // `{service}|{doc}|`
  #now;
  #setTimeout;
  #clearTimeout;
  #client = '';
  #snapRev = 0; // the revision of the text #since applies to
  #snapSaved = false; // the text at #snapRev is in storage, at #savedKey
  /** @type {string | null} */ #savedKey = null; // the snapshot in storage, which the record on disk names
  /** @type {Op | null} */ #since = null; // the server's changes from #snapRev to the core's rev
  #sinceUnits = 0;
  /** @type {any} */ #timer = null;
  #snapFailed = false; // the last snapshot did not fit in storage
  #refused = 0; // the length in code points of the text that did not fit

  /**
   * @param {{storage: Storage | null, service: string, doc: string, now: () => number,
   *   setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (id: any) => void}} opts
   */
  constructor(opts) {
    this.#storage = opts.storage;
    this.#prefix = `${opts.service}|${opts.doc}|`;
    this.#now = opts.now;
    this.#setTimeout = opts.setTimeout;
    this.#clearTimeout = opts.clearTimeout;
  }

  /** @param {string} client */
  recordKey(client) { return STORE_PREFIX + this.#prefix + client; }

  /** @param {string} client @param {number} rev */
  textKey(client, rev) { return `${TEXT_PREFIX}${this.#prefix}${client}@${rev}`; }

  /**
   * adoptOrphan returns the client id of unsent edits saved for this
   * document by a tab that is gone, so they are resubmitted under that id.
   * @param {Set<string>} claimed client ids in use by this page
   * @returns {string | null}
   */
  adoptOrphan(claimed) {
    const st = this.#storage;
    if (!st) return null;
    const prefix = STORE_PREFIX + this.#prefix;
    try {
      for (let i = 0; i < st.length; i++) {
        const k = st.key(i);
        if (!k || !k.startsWith(prefix)) continue;
        const rec = JSON.parse(st.getItem(k) || 'null');
        const id = k.slice(prefix.length);
        if (rec && !claimed.has(id) && this.#now() - (rec.ts || 0) > STALE_MS) return id;
      }
    } catch { /* unreadable storage: start afresh */ }
    return null;
  }

  /**
   * use makes client the id whose record and snapshot this writes; the
   * snapshot of a previous id is removed (its record must be gone).
   * @param {string} client
   */
  use(client) {
    if (this.#savedKey) this.#remove(this.#savedKey);
    this.#savedKey = null;
    this.#client = client;
    this.#snapSaved = false;
  }

  /**
   * load returns the saved outbox of the client and the server's text at
   * its revision, or null. What load returns becomes the base of later
   * records.
   * @returns {{box: Outbox, serverText: string} | null}
   */
  load() {
    const st = this.#storage;
    if (!st) return null;
    try {
      /** @type {PendingRecord} */
      const rec = JSON.parse(st.getItem(this.recordKey(this.#client)) || 'null');
      if (!rec || (rec.v !== 2 && rec.v !== 3)) return null;
      const saved = st.getItem(this.textKey(this.#client, rec.base));
      const text = rec.v === 3 ? saved : JSON.parse(saved || 'null')?.text;
      if (typeof text !== 'string') return null;
      const since = rec.since ? ot.fromWire(rec.since) : null;
      const serverText = since ? ot.apply(text, since) : text;
      this.#snapRev = rec.base;
      this.#snapSaved = rec.v === 3; // an older snapshot is rewritten in today's form
      this.#savedKey = this.textKey(this.#client, rec.base);
      this.#since = since;
      return { box: { rev: rec.rev, lastSeq: rec.lastSeq, inflight: rec.inflight, buffer: rec.buffer }, serverText };
    } catch {
      return null; // a record that does not fit is dropped rather than corrupting the text
    }
  }

  /**
   * track follows the server's text, so that a record can name it.
   * @param {ServerChange[]} changes @param {SyncCore} core
   */
  track(changes, core) {
    for (const c of changes) {
      if (c.op) {
        this.#since = this.#since ? ot.compose(this.#since, c.op) : c.op;
        for (const x of c.op) if (typeof x === 'string') this.#sinceUnits += x.length;
        continue;
      }
      // A new text: its snapshot is written soon (or with the next record).
      this.#snapSaved = false;
      this.#snapRev = c.rev;
      this.#since = null;
      this.#sinceUnits = 0;
      this.#schedule(core, SNAPSHOT_DELAY_MS);
    }
    if (this.#since && (this.#since.length > MAX_SINCE_PIECES || this.#sinceUnits > MAX_SINCE_UNITS)) {
      this.#schedule(core, SNAPSHOT_DELAY_MS);
    }
  }

  /**
   * write brings the record up to date with the core's outbox, or removes
   * it when nothing is pending.
   * @param {SyncCore} core
   */
  write(core) {
    const st = this.#storage;
    if (!st) return;
    try {
      if (!core.hasPending) {
        st.removeItem(this.recordKey(this.#client));
        return;
      }
      if (this.#snapSaved) this.#record(core);
      else if (!this.#snapFailed) this.#snapshot(core);
      // else: the text did not fit; the timer tries again, not each edit.
    } catch {
      // Quota exceeded or storage disabled: the edits stay in memory, and
      // the text is not written again before the timer's next attempt.
      if (!this.#snapSaved) this.#failed(core);
    }
  }

  /**
   * forget removes the record and snapshot when nothing is pending (the
   * page goes, or is hidden: it writes them again if it comes back).
   * @param {SyncCore} core
   */
  forget(core) {
    if (core.hasPending || !this.#storage) return;
    this.#remove(this.recordKey(this.#client));
    if (this.#savedKey) this.#remove(this.#savedKey);
    this.#savedKey = null;
    this.#snapSaved = false;
  }

  stop() {
    if (this.#timer) this.#clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** @param {SyncCore} core @param {number} ms */
  #schedule(core, ms) {
    if (this.#timer || !this.#storage) return;
    this.#timer = this.#setTimeout(() => {
      this.#timer = null;
      // A text no smaller than one that did not fit would not fit either,
      // and trying costs a copy of the whole text.
      if (this.#snapFailed && core.serverLength >= this.#refused) {
        this.#schedule(core, SNAPSHOT_RETRY_MS);
        return;
      }
      try {
        this.#snapshot(core);
        this.#snapFailed = false;
      } catch {
        // Quota: the older snapshot and its record stay; try again later.
        this.#failed(core);
      }
    }, ms);
  }

  /** @param {SyncCore} core */
  #failed(core) {
    this.#snapFailed = true;
    this.#refused = core.serverLength;
    this.#schedule(core, SNAPSHOT_RETRY_MS);
  }

  // snapshot writes the server's text at the core's revision, then the
  // record naming it, then removes the older snapshot.
  /** @param {SyncCore} core */
  #snapshot(core) {
    const st = /** @type {Storage} */ (this.#storage);
    const old = this.#savedKey;
    const key = this.textKey(this.#client, core.rev);
    st.setItem(key, core.serverText); // the text itself: no JSON to encode
    this.#snapRev = core.rev;
    this.#snapSaved = true;
    this.#savedKey = key;
    this.#since = null;
    this.#sinceUnits = 0;
    if (core.hasPending) this.#record(core);
    else this.#remove(this.recordKey(this.#client));
    if (old && old !== key) this.#remove(old);
  }

  /** @param {SyncCore} core */
  #record(core) {
    const box = core.outbox();
    /** @type {PendingRecord} */
    const rec = {
      v: 3, ts: this.#now(), rev: box.rev, lastSeq: box.lastSeq, base: this.#snapRev, since: this.#since,
      inflight: box.inflight && { seq: box.inflight.seq, op: box.inflight.op, count: box.inflight.count, ...(box.inflight.confirm ? { confirm: true } : {}) },
      buffer: box.buffer && { op: box.buffer.op, count: box.buffer.count },
    };
    /** @type {Storage} */ (this.#storage).setItem(this.recordKey(this.#client), JSON.stringify(rec));
  }

  /** @param {string} key */
  #remove(key) {
    try { this.#storage?.removeItem(key); } catch { /* storage disabled */ }
  }
}
