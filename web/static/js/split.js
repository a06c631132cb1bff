// @ts-check
// Large edits (docs/protocol.md, "Large edits"): an op too large for one
// submit under the server's limits is sent as several, each a valid op,
// composing to the edit. The rule is the Go client's
// (client/split.go), so both send the same pieces: each piece stays under seven
// eighths of the limits, a replacement goes deletes first, and inserts are
// cut between code points.

import * as ot from './ot.js';
import { cpLength } from './text.js';

/** @typedef {import('./ot.js').Op} Op */
/** @typedef {{frame: number, doc: number, op: number, components: number}} Limits */

/** collabd's defaults, for a server that advertises no limits. @type {Limits} */
export const DEFAULT_LIMITS = Object.freeze({ frame: 1 << 20, doc: 16 << 20, op: 1 << 20, components: 100000 });

// A budget this large holds a retain, a delete and one code point of
// insert: every piece makes progress.
const MIN_BUDGET = 256;
// The JSON of a retain or delete at most: a sign, 16 digits and a comma.
const NUMBER_COST = 18;
// The most bytes a code point takes in JSON: \uXXXX.
const MAX_RUNE_COST = 6;

/** resolveLimits fills the limits a server left out with the defaults. @param {any} l @returns {Limits} */
export function resolveLimits(l) {
  const r = { ...DEFAULT_LIMITS };
  if (!l || typeof l !== 'object') return r;
  for (const k of /** @type {(keyof Limits)[]} */ (['frame', 'doc', 'op', 'components'])) {
    if (typeof l[k] === 'number' && l[k] > 0) r[k] = l[k];
  }
  return r;
}

/** @typedef {{bytes: number, items: number}} Budget */

/**
 * budgetFor bounds one submit's op for a document id (valid ids need no
 * escapes; the factor covers invalid ones).
 * @param {Limits} l @param {string} doc @returns {Budget}
 */
export function budgetFor(l, doc) {
  /** @param {number} n */
  const margin = (n) => Math.max(n - Math.floor(n / 8), MIN_BUDGET);
  const envelope = 96 + 6 * doc.length;
  return { bytes: margin(Math.min(l.frame - envelope, l.op)), items: margin(l.components) };
}

/** runeCost bounds the JSON bytes of a code point, as Go's encoder writes it. @param {number} cp */
function runeCost(cp) {
  if (cp < 0x20 || cp === 0x3c || cp === 0x3e || cp === 0x26 || cp === 0x2028 || cp === 0x2029 || cp === 0xfffd ||
    (cp >= 0xd800 && cp <= 0xdfff)) return MAX_RUNE_COST;
  if (cp === 0x22 || cp === 0x5c) return 2;
  return utf8Len(cp);
}

/** @param {number} cp */
function utf8Len(cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// The loops below read UTF-16 units (charCodeAt), joining pairs
// themselves: iterating a string by code points makes a string of each,
// which made a 1 MB paste spend a third of a second here.

/**
 * pairAt returns the code point at UTF-16 index i of s, joining a
 * surrogate pair (a lone surrogate is one code point, as on the wire).
 * @param {string} s @param {number} i @returns {number}
 */
function pairAt(s, i) {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) return c;
  const d = s.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff ? 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00) : c;
}

/** utf8Bytes is the length of s in UTF-8. @param {string} s */
export function utf8Bytes(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const cp = pairAt(s, i);
    n += utf8Len(cp);
    if (cp > 0xffff) i++;
  }
  return n;
}

/** @param {string | number} c */
function componentCost(c) {
  if (typeof c !== 'string') return NUMBER_COST;
  let n = 3; // quotes and comma
  for (let i = 0; i < c.length; i++) {
    const cp = pairAt(c, i);
    n += runeCost(cp);
    if (cp > 0xffff) i++;
  }
  return n;
}

/** fits reports whether op is within the budget. @param {Budget} b @param {Op} op */
function fits(b, op) {
  if (op.length > b.items) return false;
  let bound = 2;
  for (const c of op) bound += NUMBER_COST + 3 + MAX_RUNE_COST * (typeof c === 'string' ? c.length : 0);
  if (bound <= b.bytes) return true;
  let exact = 2;
  for (const c of op) if ((exact += componentCost(c)) > b.bytes) return false;
  return true;
}

/** separate splits op into its deletes, then its inserts. @param {Op} op @returns {[Op, Op]} */
function separate(op) {
  const d = new ot.Builder();
  const i = new ot.Builder();
  for (const c of op) {
    if (typeof c === 'string') i.insert(c);
    else if (c > 0) { d.retain(c); i.retain(c); } else d.delete(-c);
  }
  return [d.done(), i.done()];
}

/**
 * insertPrefix is the longest prefix of s, cut between code points, whose
 * JSON fits in n bytes; at least one code point.
 * @param {string} s @param {number} n
 */
function insertPrefix(s, n) {
  let used = 0;
  for (let i = 0; i < s.length;) {
    const cp = pairAt(s, i);
    if ((used += runeCost(cp)) > n && i > 0) return s.slice(0, i);
    i += cp > 0xffff ? 2 : 1;
  }
  return s;
}

/** cut cuts op after as many components as fit. @param {Budget} b @param {Op} op @returns {[Op, Op] | null} */
function cut(b, op) {
  const head = new ot.Builder();
  const tail = new ot.Builder();
  let used = 2 + NUMBER_COST;
  let items = 1;
  let base = 0; // code points of op's base in head
  let target = 0; // and of its result
  let i = 0;
  for (; i < op.length; i++) {
    const c = op[i];
    const cost = componentCost(c);
    if (used + cost > b.bytes || items + 1 > b.items) {
      if (typeof c === 'string' && items + 1 <= b.items) {
        const pre = insertPrefix(c, b.bytes - used - 3);
        head.insert(pre);
        target += cpLength(pre);
        tail.retain(target).insert(c.slice(pre.length));
        i++;
      } else tail.retain(target);
      break;
    }
    used += cost;
    items++;
    if (typeof c === 'string') { head.insert(c); target += cpLength(c); } else if (c > 0) {
      head.retain(c); base += c; target += c;
    } else { head.delete(-c); base -= c; }
  }
  head.retain(ot.baseLen(op) - base);
  const first = head.done();
  if (ot.isNoop(first)) return null;
  for (; i < op.length; i++) {
    const c = op[i];
    if (typeof c === 'string') tail.insert(c); else if (c > 0) tail.retain(c); else tail.delete(-c);
  }
  return [first, tail.done()];
}

/**
 * split cuts op into first, which fits the budget, and rest, applying
 * after it (compose(first, rest) equals op); null when op fits whole.
 * @param {Budget} b @param {Op} op @returns {[Op, Op] | null}
 */
export function split(b, op) {
  if (fits(b, op)) return null;
  const [deletes, inserts] = separate(op);
  if (!ot.isNoop(deletes) && !ot.isNoop(inserts) && fits(b, deletes)) return [deletes, inserts];
  return cut(b, op);
}

/** insertedText is the text op inserts, its pieces joined. @param {Op} op */
export function insertedText(op) {
  return op.filter((c) => typeof c === 'string').join('');
}
