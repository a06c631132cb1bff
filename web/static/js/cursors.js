// @ts-check
// TextareaCarets draws other editors' carets and selections, with their
// names and colours, over a textarea. One mirror element, with the
// textarea's box, font and wrapping and transparent ink, holds a copy of
// the text that every change updates in place (Text.replaceData: the cost
// of the change, not of the document); a caret is placed where a Range at
// its offset in the mirror lies. One copy serves every editor, and it is
// made only when the first caret is shown.

import { safeColor } from './color.js';

/** @typedef {import('./editor.js').RemoteCaret} RemoteCaret */

const COPIED = [
  'boxSizing', 'fontFamily', 'fontSize', 'fontWeight', 'fontStyle', 'fontVariant',
  'fontStretch', 'letterSpacing', 'lineHeight', 'textIndent', 'textTransform', 'wordSpacing', 'tabSize',
  'paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft',
  'borderTopWidth', 'borderRightWidth', 'borderBottomWidth', 'borderLeftWidth', 'direction', 'textAlign',
];

export class TextareaCarets {
  #ta;
  #el;
  #text;
  /** @type {HTMLElement | null} */ #mirror = null;
  /** @type {Text | null} */ #node = null;
  /** @type {HTMLElement} */ #layer;
  /** @type {RemoteCaret[]} */ #carets = [];
  #frame = 0;
  /** @type {ResizeObserver | null} */ #ro = null;
  #onScroll = () => this.#update();

  /**
   * @param {HTMLTextAreaElement} textarea
   * @param {HTMLElement} overlay an element over the textarea (same offset parent)
   * @param {() => string} text the textarea's text, read once to make the mirror
   */
  constructor(textarea, overlay, text) {
    this.#ta = textarea;
    this.#el = overlay;
    this.#text = text;
    this.#layer = document.createElement('div');
    this.#layer.className = 'collab-caret-layer';
    overlay.append(this.#layer);
    textarea.addEventListener('scroll', this.#onScroll);
    if (typeof ResizeObserver === 'function') {
      this.#ro = new ResizeObserver(() => { this.#fit(); this.#update(); });
      this.#ro.observe(textarea);
    }
  }

  destroy() {
    this.#ta.removeEventListener('scroll', this.#onScroll);
    this.#ro?.disconnect();
    cancelAnimationFrame(this.#frame);
    this.#el.replaceChildren();
  }

  /**
   * change keeps the mirror equal to the textarea's text.
   * @param {number} from @param {number} to @param {string} insert
   */
  change(from, to, insert) {
    if (this.#node) this.#node.replaceData(from, to - from, insert);
    if (this.#carets.length) this.#update();
  }

  /** set draws the given carets (UTF-16 offsets) on the next frame. @param {RemoteCaret[]} carets */
  set(carets) {
    this.#carets = carets.slice(0, 32);
    this.#update();
  }

  #update() {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => { this.#frame = 0; this.#render(); });
  }

  #ensureMirror() {
    if (this.#mirror) return;
    const m = document.createElement('div');
    m.className = 'collab-mirror';
    this.#node = document.createTextNode(this.#text());
    m.append(this.#node, document.createTextNode('\u200b'));
    this.#el.prepend(m);
    this.#mirror = m;
    this.#fit();
  }

  // fit gives the mirror the textarea's box, font and wrapping.
  #fit() {
    const m = this.#mirror;
    if (!m) return;
    const ta = this.#ta;
    const cs = getComputedStyle(ta);
    const style = /** @type {any} */ (m.style);
    for (const k of COPIED) style[k] = /** @type {any} */ (cs)[k];
    // The textarea's scrollbar narrows its text; the mirror has none.
    const bar = ta.offsetWidth - ta.clientWidth - parseFloat(cs.borderLeftWidth) - parseFloat(cs.borderRightWidth);
    m.style.paddingRight = `${parseFloat(cs.paddingRight) + Math.max(0, bar)}px`;
    m.style.width = `${ta.offsetWidth}px`;
    m.style.height = `${ta.offsetHeight}px`;
    m.style.top = `${ta.offsetTop}px`;
    m.style.left = `${ta.offsetLeft}px`;
    m.style.borderColor = 'transparent';
    m.style.borderStyle = 'solid';
  }

  #render() {
    if (!this.#carets.length) { this.#layer.replaceChildren(); return; }
    this.#ensureMirror();
    const m = /** @type {HTMLElement} */ (this.#mirror);
    const node = /** @type {Text} */ (this.#node);
    m.scrollTop = this.#ta.scrollTop;
    m.scrollLeft = this.#ta.scrollLeft;
    const origin = this.#el.getBoundingClientRect();
    const box = this.#ta.getBoundingClientRect();
    const range = document.createRange();
    const len = node.length;
    /** @type {HTMLElement[]} */
    const out = [];
    for (const c of this.#carets) {
      const color = safeColor(c.color);
      const a = Math.min(c.anchor, c.head, len);
      const b = Math.min(Math.max(c.anchor, c.head), len);
      if (a !== b) {
        range.setStart(node, a);
        range.setEnd(node, b);
        for (const r of range.getClientRects()) {
          if (r.bottom < box.top || r.top > box.bottom) continue;
          const sel = box2(origin, r, 'collab-selection', color);
          sel.dataset.name = c.name || '';
          out.push(sel);
        }
      }
      const r = caretRect(range, node, Math.min(c.head, len));
      if (!r || r.bottom < box.top || r.top > box.bottom) continue;
      const caret = box2(origin, r, 'collab-caret', color);
      caret.dataset.client = c.client;
      caret.dataset.name = c.name || '';
      const label = document.createElement('span');
      label.className = 'collab-caret-label';
      label.textContent = c.name || 'Someone';
      caret.append(label);
      out.push(caret);
    }
    this.#layer.replaceChildren(...out);
  }
}

/**
 * caretRect is the rectangle of a caret at offset i of node: the right
 * edge of the character before it on its line, else the left edge of the
 * character after it (or of the zero-width space after the text).
 * @param {Range} range @param {Text} node @param {number} i @returns {DOMRect | null}
 */
function caretRect(range, node, i) {
  const data = node.data;
  if (i > 0 && data[i - 1] !== '\n') {
    const j = i > 1 && /[\udc00-\udfff]/.test(data[i - 1]) && /[\ud800-\udbff]/.test(data[i - 2]) ? i - 2 : i - 1;
    range.setStart(node, j);
    range.setEnd(node, i);
    const rects = range.getClientRects();
    const r = rects[rects.length - 1];
    if (r) return new DOMRect(r.right, r.top, 0, r.height);
  }
  const next = i < node.length ? node : /** @type {Text | null} */ (node.nextSibling);
  if (!next) return null;
  const at = next === node ? i : 0;
  range.setStart(next, at);
  range.setEnd(next, Math.min(at + 1, next.length));
  const r = range.getClientRects()[0];
  return r ? new DOMRect(r.left, r.top, 0, r.height) : null;
}

/**
 * box2 is an absolutely placed element over rect r (viewport pixels),
 * relative to origin.
 * @param {DOMRect} origin @param {DOMRect} r @param {string} cls @param {string} color
 */
function box2(origin, r, cls, color) {
  const el = document.createElement('span');
  el.className = cls;
  el.style.setProperty('--collab-peer', color);
  el.style.left = `${r.left - origin.left}px`;
  el.style.top = `${r.top - origin.top}px`;
  el.style.height = `${r.height}px`;
  if (cls === 'collab-selection') el.style.width = `${r.width}px`;
  return el;
}
