// @ts-check
// EditorBinding connects an editor, through an EditorAdapter, to a
// DocClient. The adapter speaks the editor's language (UTF-16 offsets,
// its own events and DOM); the binding converts at the edge with an
// AstralIndex (no scan of the document per keystroke or per remote op),
// keeps the undo history of this editor's own edits (undo.js), shares the
// caret, and hands the other editors' carets to the adapter to draw.
//
// An adapter provides:
//   units                       the text's length in UTF-16 units
//   read(from, to)              a slice of the text
//   apply(changes, selection?)  apply changes (UTF-16 offsets of the text
//                               before them, ascending) made elsewhere:
//                               remote ops, undo; keeps the local caret on
//                               its characters unless a selection is given
//   selection()                 {anchor, head} in UTF-16 offsets
//   drawCarets(carets)          the other editors' carets, UTF-16 offsets
//   setReadOnly(readonly)
//   composing                   true during an IME composition (remote
//                               changes wait for its end)
//   destroy()
// and calls the binding's local(changes), selected(), undo(), redo() and
// compositionEnded(changes).

import * as ot from './ot.js';
import { AstralIndex, opToChanges } from './astral.js';
import { UndoHistory, changeEnd } from './undo.js';

/** @typedef {import('./ot.js').Op} Op */
/** @typedef {import('./astral.js').Utf16Change} Utf16Change */
/** @typedef {import('./client.js').DocClient} DocClient */
/**
 * A remote editor's caret for the adapter: UTF-16 offsets of the editor's text.
 * @typedef {{client: string, name: string, color: string, anchor: number, head: number}} RemoteCaret
 */
/**
 * @typedef {object} EditorAdapter
 * @property {number} units
 * @property {(from: number, to: number) => string} read
 * @property {(changes: Utf16Change[], selection?: {anchor: number, head: number}) => void} apply
 * @property {() => {anchor: number, head: number}} selection
 * @property {(carets: RemoteCaret[]) => void} drawCarets
 * @property {(readonly: boolean) => void} setReadOnly
 * @property {boolean} composing
 * @property {() => void} destroy
 */

const PRESENCE_MS = 40;

export class EditorBinding {
  #client;
  #adapter;
  #index;
  #history = new UndoHistory();
  /** @type {Op | null} */ #deferred = null; // remote ops held during a composition, applied to the client already
  /** @type {any} */ #presenceTimer = null;
  /** @type {(() => void)[]} */ #off = [];

  /**
   * @param {DocClient} client
   * @param {EditorAdapter} adapter showing client.text already
   */
  constructor(client, adapter) {
    this.#client = client;
    this.#adapter = adapter;
    this.#index = new AstralIndex(client.text);
    adapter.setReadOnly(client.readonly);
    /** @param {Event} e */
    const onChange = (e) => {
      const d = /** @type {CustomEvent} */ (e).detail;
      if (!d.local) this.#remote(d.op);
    };
    const onStatus = () => this.#adapter.setReadOnly(this.#client.readonly || this.#client.fatal);
    const onPresence = () => this.drawCarets();
    client.addEventListener('change', onChange);
    client.addEventListener('status', onStatus);
    client.addEventListener('presence', onPresence);
    this.#off.push(() => {
      client.removeEventListener('change', onChange);
      client.removeEventListener('status', onStatus);
      client.removeEventListener('presence', onPresence);
    });
  }

  get history() { return this.#history; }
  get index() { return this.#index; }

  destroy() {
    this.#off.forEach((f) => f());
    this.#off = [];
    clearTimeout(this.#presenceTimer);
  }

  /**
   * local takes the editor's own changes (UTF-16 offsets of the text
   * before them, ascending, with the text they deleted).
   * @param {(Utf16Change & {deleted: string})[]} changes
   */
  local(changes) {
    if (!changes.length) return;
    if (this.#client.readonly) return;
    const { op, inverse } = this.#toOps(changes);
    this.#index.apply(changes);
    if (ot.isNoop(op)) return;
    this.#history.record(op, inverse, Date.now());
    this.#client.applyLocal(op);
    this.selected();
    this.drawCarets();
  }

  /**
   * compositionEnded takes what a composition changed (on the text before
   * the remote ops held meanwhile) and applies those ops.
   * @param {(Utf16Change & {deleted: string})[]} changes
   */
  compositionEnded(changes) {
    const held = this.#deferred;
    this.#deferred = null;
    if (!held) { this.local(changes); return; }
    const { op } = this.#toOps(changes);
    this.#index.apply(changes);
    // The held ops were committed first: the composed text moves over them.
    const [remote, mine] = ot.transform(held, op);
    this.#show(remote);
    if (!ot.isNoop(mine) && !this.#client.readonly) {
      this.#history.record(mine, this.#inverse(mine), Date.now());
      this.#client.applyLocal(mine);
    }
    this.selected();
  }

  /** selected: the local caret or selection moved. */
  selected() {
    if (this.#presenceTimer) return;
    this.#presenceTimer = setTimeout(() => {
      this.#presenceTimer = null;
      if (this.#adapter.composing) return;
      const s = this.#adapter.selection();
      this.#client.sendPresence(this.#index.toCp(s.anchor), this.#index.toCp(s.head));
    }, PRESENCE_MS);
  }

  undo() { this.#step(true); }
  redo() { this.#step(false); }

  /** @param {boolean} undo */
  #step(undo) {
    if (this.#client.readonly || this.#adapter.composing) return;
    const op = undo ? this.#history.undo() : this.#history.redo();
    if (!op) return;
    const inverse = this.#inverse(op);
    if (undo) this.#history.pushRedo(inverse); else this.#history.pushUndo(inverse);
    const changes = this.#toChanges(op);
    this.#index.apply(changes);
    const at = this.#index.toUtf16(changeEnd(op));
    this.#adapter.apply(changes, { anchor: at, head: at });
    this.#client.applyLocal(op);
    this.selected();
  }

  /** @param {Op} op an op of someone else, applied to the client's text */
  #remote(op) {
    this.#history.transform(op);
    if (this.#adapter.composing) {
      // Touching the editor would break the IME: catch up when it ends.
      this.#deferred = this.#deferred ? ot.compose(this.#deferred, op) : op;
      return;
    }
    this.#show(op);
  }

  /** @param {Op} op */
  #show(op) {
    const changes = this.#toChanges(op);
    if (!changes.length) return;
    this.#index.apply(changes);
    this.#adapter.apply(changes);
    this.drawCarets();
  }

  drawCarets() {
    const idx = this.#index;
    /** @type {RemoteCaret[]} */
    const carets = [];
    for (const p of this.#client.core.peers) {
      if (p.anchor == null || p.head == null || p.stale) continue;
      carets.push({ client: p.client, name: p.name, color: p.color, anchor: idx.toUtf16(p.anchor), head: idx.toUtf16(p.head) });
    }
    this.#adapter.drawCarets(this.#deferred ? [] : carets);
  }

  /** @param {Op} op */
  #toChanges(op) { return opToChanges(op, this.#index); }

  // toOps turns the editor's changes into the op and the op reverting it,
  // in code points.
  /** @param {(Utf16Change & {deleted: string})[]} changes */
  #toOps(changes) {
    const idx = this.#index;
    const op = new ot.Builder();
    const inv = new ot.Builder();
    let pos = 0;
    for (const ch of changes) {
      const from = idx.toCp(ch.from);
      const to = idx.toCp(ch.to);
      op.retain(from - pos);
      inv.retain(from - pos);
      op.insert(ch.insert);
      op.delete(to - from);
      inv.insert(ch.deleted);
      inv.delete([...ch.insert].length);
      pos = to;
    }
    op.retain(idx.length - pos);
    inv.retain(idx.length - pos);
    return { op: op.done(), inverse: inv.done() };
  }

  // inverse is the op reverting op (on the editor's current text), reading
  // the text it deletes from the editor.
  /** @param {Op} op */
  #inverse(op) {
    const idx = this.#index;
    const b = new ot.Builder();
    let cp = 0;
    for (const c of op) {
      if (typeof c === 'string') b.delete([...c].length);
      else if (c > 0) { b.retain(c); cp += c; } else {
        b.insert(this.#adapter.read(idx.toUtf16(cp), idx.toUtf16(cp - c)));
        cp -= c;
      }
    }
    return b.done();
  }
}
