// @ts-check
// AstralIndex converts between the UTF-16 offsets of an editor and the
// code points of the wire without scanning the document: it keeps the
// UTF-16 offsets of the document's surrogate pairs (astral characters:
// emoji, rare CJK…), sorted, and is updated with every change. A code
// point offset is a UTF-16 offset less the pairs before it, found by binary
// search. A document without astral characters keeps an empty list, and
// each conversion is then an identity. Updating costs the change's length
// plus a shift of the pairs after it.

/** A change of a text: UTF-16 offsets in the text before it. @typedef {{from: number, to: number, insert: string}} Utf16Change */

const PAIR = /[\ud800-\udbff][\udc00-\udfff]/g;

/** @param {string} s @param {number} at @param {number[]} out */
function pairsOf(s, at, out) {
  if (!/[\ud800-\udbff]/.test(s)) return;
  PAIR.lastIndex = 0;
  for (let m; (m = PAIR.exec(s));) out.push(at + m.index);
}

export class AstralIndex {
  /** @type {number[]} */ #pairs = []; // UTF-16 offset of each pair's first unit
  #units = 0; // the text's length in UTF-16 units

  /** @param {string} text */
  constructor(text) { this.reset(text); }

  /** reset indexes a whole new text (one scan). @param {string} text */
  reset(text) {
    this.#pairs = [];
    pairsOf(text, 0, this.#pairs);
    this.#units = text.length;
  }

  /** The text's length in UTF-16 units. */
  get units() { return this.#units; }
  /** The text's length in code points. */
  get length() { return this.#units - this.#pairs.length; }
  /** The number of surrogate pairs (0: conversions are identities). */
  get astral() { return this.#pairs.length; }

  /** toUtf16 converts a code point offset (clamped to the text). @param {number} cp */
  toUtf16(cp) {
    cp = Math.max(0, Math.min(cp, this.length));
    const p = this.#pairs;
    if (p.length === 0) return cp;
    // Pair k starts at code point p[k] - k: count the pairs starting before cp.
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (p[mid] - mid < cp) lo = mid + 1; else hi = mid;
    }
    return cp + lo;
  }

  /**
   * toCp converts a UTF-16 offset; one between the two units of a pair
   * goes to the pair's start.
   * @param {number} u
   */
  toCp(u) {
    u = Math.max(0, Math.min(u, this.#units));
    const p = this.#pairs;
    if (p.length === 0) return u;
    return u - this.#before(u);
  }

  /** The pairs starting before UTF-16 offset u. @param {number} u */
  #before(u) {
    const p = this.#pairs;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (p[mid] < u) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /**
   * apply updates the index for changes, in UTF-16 offsets of the text
   * before them, ascending and not overlapping (as CodeMirror's ChangeSet
   * and Monaco's edits give them).
   * @param {Utf16Change[]} changes
   */
  apply(changes) {
    for (let c = changes.length - 1; c >= 0; c--) {
      const { from, to, insert } = changes[c];
      const p = this.#pairs;
      const delta = insert.length - (to - from);
      const i = this.#before(from);
      const j = this.#before(to);
      /** @type {number[]} */
      const added = [];
      pairsOf(insert, from, added);
      if (delta !== 0) for (let k = j; k < p.length; k++) p[k] += delta;
      if (added.length || j > i) p.splice(i, j - i, ...added);
      this.#units += delta;
    }
  }
}

/**
 * opToChanges turns an op (code points, on the text idx indexes) into
 * UTF-16 changes of that text, in its offsets, ascending.
 * @param {import('./ot.js').Op} op @param {AstralIndex} idx @returns {Utf16Change[]}
 */
export function opToChanges(op, idx) {
  /** @type {Utf16Change[]} */
  const out = [];
  let cp = 0;
  for (const c of op) {
    if (typeof c === 'number' && c > 0) { cp += c; continue; }
    const from = idx.toUtf16(cp);
    const to = typeof c === 'string' ? from : idx.toUtf16(cp - c);
    const insert = typeof c === 'string' ? c : '';
    const last = out[out.length - 1];
    if (last && last.to === from) { last.to = to; last.insert += insert; } else out.push({ from, to, insert });
    if (typeof c === 'number') cp -= c;
  }
  return out;
}
