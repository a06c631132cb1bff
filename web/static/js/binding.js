// @ts-check
// The textarea adapter (see editor.js) and TextareaBinding, which connects
// a <textarea> to a DocClient with it.
//
// Local edits: whatever the browser did on `input` (typing, paste, cut,
// delete, drag and drop, spelling fixes) is found by comparing the value
// with the last one synchronised, starting from the selection recorded at
// `beforeinput`, so that the comparison rarely walks the whole text; it
// never splits a surrogate pair. During an IME composition nothing is sent;
// the composed text is read at `compositionend`, and remote ops that
// arrived meanwhile are applied then. Remote ops are applied with
// setRangeText, range by range, which keeps the caret on its characters
// and never rewrites the whole value. Undo and redo (Ctrl/Cmd+Z,
// Ctrl/Cmd+Shift+Z, Ctrl+Y) revert only this editor's edits.

import { wellFormed } from './text.js';
import { EditorBinding } from './editor.js';
import { TextareaCarets } from './cursors.js';

/** @typedef {import('./astral.js').Utf16Change} Utf16Change */
/** @typedef {import('./editor.js').RemoteCaret} RemoteCaret */
/** @typedef {import('./client.js').DocClient} DocClient */

const isHigh = (/** @type {number} */ c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (/** @type {number} */ c) => c >= 0xdc00 && c <= 0xdfff;

/**
 * findChange returns the one change turning prev into value. start is a
 * UTF-16 offset before which the texts are probably equal, end the caret
 * after the edit, after which value keeps prev's tail: both are checked
 * (as whole slices, which compare fast), and a wrong guess costs a longer
 * comparison only.
 * @param {string} prev @param {string} value @param {number} start @param {number} end
 * @returns {Utf16Change & {deleted: string}}
 */
export function findChange(prev, value, start, end) {
  const min = Math.min(prev.length, value.length);
  // The tail after the caret is kept (typing resolves "aa" to "aaa" where
  // the caret is): the common suffix ends there at the latest.
  const most = end >= 0 && end <= value.length ? Math.min(value.length - end, min) : min;
  let s = most;
  if (s > 0 && prev.slice(prev.length - s) !== value.slice(value.length - s)) {
    s = 0;
    while (s < most && prev.charCodeAt(prev.length - 1 - s) === value.charCodeAt(value.length - 1 - s)) s++;
  }
  let p = Math.max(0, Math.min(start, min - s));
  if (p > 0 && prev.slice(0, p) !== value.slice(0, p)) p = 0;
  while (p < min - s && prev.charCodeAt(p) === value.charCodeAt(p)) p++;
  // The common parts never end or start between the halves of a pair.
  if (p > 0 && isHigh(prev.charCodeAt(p - 1))) p--;
  if (s > 0 && isLow(prev.charCodeAt(prev.length - s))) s--;
  return { from: p, to: prev.length - s, insert: value.slice(p, value.length - s), deleted: prev.slice(p, prev.length - s) };
}

export class TextareaAdapter {
  #ta;
  /** @type {EditorBinding | null} */ #binding = null;
  #prev; // the value as last synchronised with the binding
  #hint = 0; // the selection's start before the input
  #carets;
  composing = false;
  /** @type {(() => void)[]} */ #off = [];

  /**
   * @param {HTMLTextAreaElement} textarea
   * @param {string} text the document's text, shown at once
   * @param {HTMLElement | null} overlay an element over the textarea for the carets
   */
  constructor(textarea, text, overlay) {
    this.#ta = textarea;
    this.#prev = text;
    textarea.value = text;
    this.#carets = overlay ? new TextareaCarets(textarea, overlay, () => this.#prev) : null;
    this.#on(textarea, 'beforeinput', (e) => this.#beforeInput(/** @type {InputEvent} */ (e)));
    this.#on(textarea, 'input', (e) => { if (!this.composing && !/** @type {InputEvent} */ (e).isComposing) this.#read(); });
    this.#on(textarea, 'compositionstart', () => { this.composing = true; });
    this.#on(textarea, 'compositionend', () => { this.composing = false; this.#read(true); });
    this.#on(textarea, 'keydown', (e) => this.#keyDown(/** @type {KeyboardEvent} */ (e)));
    for (const ev of ['select', 'keyup', 'mouseup', 'focus']) this.#on(textarea, ev, () => this.#binding?.selected());
    const doc = textarea.ownerDocument;
    this.#on(doc, 'selectionchange', () => { if (doc.activeElement === textarea) this.#binding?.selected(); });
  }

  /** @param {EditorBinding} b */
  bind(b) { this.#binding = b; }

  /** @param {EventTarget} target @param {string} type @param {(e: Event) => void} fn */
  #on(target, type, fn) {
    target.addEventListener(type, fn);
    this.#off.push(() => target.removeEventListener(type, fn));
  }

  get units() { return this.#prev.length; }

  /** @param {number} from @param {number} to */
  read(from, to) { return this.#prev.slice(from, to); }

  selection() {
    const ta = this.#ta;
    const back = ta.selectionDirection === 'backward';
    return { anchor: back ? ta.selectionEnd : ta.selectionStart, head: back ? ta.selectionStart : ta.selectionEnd };
  }

  /**
   * @param {Utf16Change[]} changes
   * @param {{anchor: number, head: number}} [selection]
   */
  apply(changes, selection) {
    const ta = this.#ta;
    const top = ta.scrollTop;
    let prev = this.#prev;
    for (let i = changes.length - 1; i >= 0; i--) {
      const { from, to, insert } = changes[i];
      ta.setRangeText(insert, from, to, 'preserve');
      prev = prev.slice(0, from) + insert + prev.slice(to);
      this.#carets?.change(from, to, insert);
    }
    this.#prev = prev;
    if (selection) {
      const { anchor, head } = selection;
      ta.setSelectionRange(Math.min(anchor, head), Math.max(anchor, head), anchor > head ? 'backward' : 'forward');
    } else ta.scrollTop = top;
  }

  /** @param {RemoteCaret[]} carets */
  drawCarets(carets) { this.#carets?.set(carets); }

  /** @param {boolean} readonly */
  setReadOnly(readonly) { this.#ta.readOnly = readonly; }

  destroy() {
    this.#off.forEach((f) => f());
    this.#off = [];
    this.#carets?.destroy();
  }

  /** @param {InputEvent} e */
  #beforeInput(e) {
    if (e.inputType === 'historyUndo' || e.inputType === 'historyRedo') {
      e.preventDefault();
      if (e.inputType === 'historyUndo') this.#binding?.undo(); else this.#binding?.redo();
      return;
    }
    this.#hint = this.#ta.selectionStart;
  }

  /** @param {KeyboardEvent} e */
  #keyDown(e) {
    const mod = e.ctrlKey || e.metaKey;
    if (!mod || e.altKey) return;
    const k = e.key.toLowerCase();
    if (k === 'z' && !e.shiftKey) { e.preventDefault(); this.#read(); this.#binding?.undo(); }
    else if ((k === 'z' && e.shiftKey) || (k === 'y' && e.ctrlKey && !e.metaKey)) { e.preventDefault(); this.#read(); this.#binding?.redo(); }
  }

  // read hands the textarea's change since the last sync to the binding.
  #read(composed = false) {
    const ta = this.#ta;
    let value = ta.value;
    if (value !== this.#prev && this.#ta.readOnly) { this.#restore(); return; }
    const clean = wellFormed(value);
    if (clean !== value) {
      const s = ta.selectionStart;
      const e = ta.selectionEnd;
      ta.value = value = clean;
      ta.setSelectionRange(s, e);
    }
    const hint = Math.min(this.#hint, ta.selectionStart);
    this.#hint = ta.selectionStart;
    if (value === this.#prev && !composed) return;
    const change = findChange(this.#prev, value, hint, ta.selectionEnd);
    this.#prev = value;
    const changes = change.from === change.to && !change.insert ? [] : [change];
    for (const c of changes) this.#carets?.change(c.from, c.to, c.insert);
    if (composed) this.#binding?.compositionEnded(changes);
    else this.#binding?.local(changes);
  }

  #restore() {
    const ta = this.#ta;
    const s = ta.selectionStart;
    ta.value = this.#prev;
    ta.setSelectionRange(s, s);
  }
}

// TextareaBinding connects a <textarea> (and an optional overlay element
// for the other editors' carets) to a DocClient.
export class TextareaBinding {
  /**
   * @param {HTMLTextAreaElement} textarea
   * @param {DocClient} client
   * @param {HTMLElement | null} [overlay]
   */
  constructor(textarea, client, overlay = null) {
    this.adapter = new TextareaAdapter(textarea, client.text, overlay);
    this.binding = new EditorBinding(client, this.adapter);
    this.adapter.bind(this.binding);
  }

  undo() { this.binding.undo(); }
  redo() { this.binding.redo(); }

  destroy() {
    this.binding.destroy();
    this.adapter.destroy();
  }
}
