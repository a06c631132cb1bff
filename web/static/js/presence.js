// @ts-check
// The other editors of a document and their carets, in code points of the
// local text. Pure: the sync core feeds it the server's presence and editor
// messages and every op applied to the local text, and asks it where the
// own caret was before the pending edits.

import * as ot from './ot.js';
import { cpLength } from './text.js';
import { safeColor } from './color.js';

/** @typedef {import('./ot.js').Op} Op */
/**
 * A remote editor: its public id, name, colour, and caret or selection
 * (null until it sent one); stale while our connection is down (it may
 * have left meanwhile).
 * @typedef {{client: string, name: string, color: string, anchor: number | null, head: number | null, stale?: boolean}} Peer
 */

export class Peers {
  /** @type {Map<string, Peer>} */ #peers = new Map();

  /** The editors present, in arrival order. @returns {Peer[]} */
  list() { return [...this.#peers.values()]; }

  /** @param {string} client @returns {Peer | undefined} */
  get(client) { return this.#peers.get(client); }

  clear() { this.#peers.clear(); }

  /** stale marks every editor stale and reports whether there was one. */
  stale() {
    for (const p of this.#peers.values()) p.stale = true;
    return this.#peers.size > 0;
  }

  /**
   * editor records an arrival or a departure.
   * @param {{client: string, name?: string, color?: string, event: string}} msg
   */
  editor(msg) {
    if (msg.event === 'leave') { this.#peers.delete(msg.client); return; }
    const p = this.#peers.get(msg.client) || { client: msg.client, name: '', color: '', anchor: null, head: null };
    p.name = msg.name || p.name;
    p.color = safeColor(msg.color, p.color);
    this.#peers.set(msg.client, p);
  }

  /**
   * caret sets an editor's caret, already in local positions, clamped to
   * the text's length.
   * @param {{client: string, name?: string, color?: string}} msg
   * @param {number} anchor @param {number} head @param {number} len
   */
  caret(msg, anchor, head, len) {
    const p = this.#peers.get(msg.client) || { client: msg.client, name: '', color: '', anchor: null, head: null };
    p.name = msg.name || p.name;
    p.color = safeColor(msg.color, p.color);
    p.anchor = Math.min(anchor, len);
    p.head = Math.min(head, len);
    this.#peers.set(msg.client, p);
  }

  /**
   * move carries every caret through op, applied to the local text; a
   * caret of the op's author moves after the text it inserted.
   * @param {Op} op @param {string | null} author
   */
  move(op, author) {
    for (const p of this.#peers.values()) {
      if (p.anchor == null || p.head == null) continue;
      const own = author != null && author === p.client;
      p.anchor = ot.transformIndex(p.anchor, op, own);
      p.head = ot.transformIndex(p.head, op, own);
    }
  }
}

/**
 * unmapIndex carries a position of the text op produced back to the text
 * op applies to: a position inside inserted text goes to where it was
 * inserted. It needs neither text, so sending a caret costs no scan of the
 * document.
 * @param {number} index @param {Op} op @returns {number}
 */
export function unmapIndex(index, op) {
  let out = 0; // position in the op's result
  let base = 0; // the same position in its base
  for (const c of op) {
    if (typeof c === 'string') {
      const n = cpLength(c);
      if (index <= out + n) return base;
      out += n;
    } else if (c > 0) {
      if (index <= out + c) return base + index - out;
      out += c;
      base += c;
    } else base -= c;
  }
  return base + Math.max(0, index - out);
}
