// @ts-check
// LazyText is a text that ops are applied to only when it is read. Ops are
// composed into one (a cost in the number of the op's pieces, not in the
// text's length), so an editor that never reads the whole text — the
// editor holds it — never pays for it per keystroke.

import * as ot from './ot.js';
import { cpLength } from './text.js';

/** @typedef {import('./ot.js').Op} Op */

// Past this many pieces or inserted UTF-16 units the composed op is applied,
// so that composing stays cheap: an amortised cost per edit.
const MAX_PIECES = 256;
const MAX_INSERTED = 1 << 16;

export class LazyText {
  /** @type {string} */ #base = '';
  /** @type {Op | null} */ #op = null; // turns #base into the text
  #inserted = 0; // UTF-16 units inserted by #op
  #len = 0; // the text's length in code points

  /** @param {string} [text] */
  constructor(text = '') { this.set(text); }

  /** Replaces the text. @param {string} text */
  set(text) {
    this.#base = text;
    this.#op = null;
    this.#inserted = 0;
    this.#len = cpLength(text);
  }

  /** The text's length in code points. */
  get length() { return this.#len; }

  /** The text (applies the ops kept so far). */
  get value() {
    if (this.#op) {
      this.#base = ot.apply(this.#base, this.#op, ot.baseLen(this.#op));
      this.#op = null;
      this.#inserted = 0;
    }
    return this.#base;
  }

  /**
   * apply changes the text by op; an op that does not fit its length
   * throws an OpError and changes nothing.
   * @param {Op} op
   */
  apply(op) {
    ot.checkBase(op, this.#len);
    const len = ot.targetLen(op);
    this.#op = this.#op ? ot.compose(this.#op, op) : op;
    for (const c of op) if (typeof c === 'string') this.#inserted += c.length;
    this.#len = len;
    if (this.#op.length > MAX_PIECES || this.#inserted > MAX_INSERTED) void this.value;
  }

  /** Makes this text a copy of other (without reading it). @param {LazyText} other */
  copy(other) {
    this.#base = other.#base;
    this.#op = other.#op;
    this.#inserted = other.#inserted;
    this.#len = other.#len;
  }
}
