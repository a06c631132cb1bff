// @ts-check
// Operational transformation for plain text, the JavaScript twin of the Go
// package ot. An op is kept in the wire form: an array whose items are a
// positive integer (retain n), a string (insert) or a negative integer
// (delete n), covering the whole document. Positions and lengths count
// Unicode code points; strings are ordinary JavaScript strings.
//
// Ops are canonical (no empty items, neighbours of one kind merged, an
// insert before a delete at one position) and never mutated once built.
// When both sides of transform insert at one position, the first
// argument's text goes first: the server passes the op committed earlier.

import { advance, cpLength } from './text.js';

/** An op in wire form: retain n (> 0), insert (string), delete n (< 0). @typedef {(number | string)[]} Op */

const isHighAt = (/** @type {string} */ s, /** @type {number} */ i) => { const c = s.charCodeAt(i); return c >= 0xd800 && c <= 0xdbff; };
const isLowAt = (/** @type {string} */ s, /** @type {number} */ i) => { const c = s.charCodeAt(i); return c >= 0xdc00 && c <= 0xdfff; };

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** @type {(c: number | string) => c is number} */
export const isRetain = (c) => typeof c === 'number' && c > 0;
/** @type {(c: number | string) => c is string} */
export const isInsert = (c) => typeof c === 'string';
/** @type {(c: number | string) => c is number} */
export const isDelete = (c) => typeof c === 'number' && c < 0;

// Builder appends components in canonical form.
export class Builder {
  constructor() {
    /** @type {Op} */
    this.ops = [];
  }
  /** @param {number} n */
  retain(n) {
    if (n <= 0) return this;
    const o = this.ops;
    if (o.length && isRetain(o[o.length - 1])) o[o.length - 1] = /** @type {number} */ (o[o.length - 1]) + n;
    else o.push(n);
    return this;
  }
  /** @param {string} s */
  insert(s) {
    if (s === '') return this;
    const o = this.ops;
    const l = o.length;
    if (l && isInsert(o[l - 1])) o[l - 1] += s;
    else if (l && isDelete(o[l - 1])) {
      if (l > 1 && isInsert(o[l - 2])) o[l - 2] += s;
      else { o.push(o[l - 1]); o[l - 1] = s; }
    } else o.push(s);
    return this;
  }
  /** @param {number} n */
  delete(n) {
    if (n <= 0) return this;
    const o = this.ops;
    if (o.length && isDelete(o[o.length - 1])) o[o.length - 1] = /** @type {number} */ (o[o.length - 1]) - n;
    else o.push(-n);
    return this;
  }
  done() { const o = this.ops; this.ops = []; return o; }
}

// OpError is thrown for malformed ops and ops that do not fit a document.
// kind is one of syntax, zero_count, bad_number, invalid_text, too_large,
// past_end, base_length (the error kinds of the Go package).
export class OpError extends Error {
  /** @param {string} message @param {string} [kind] */
  constructor(message, kind = 'syntax') { super('ot: ' + message); this.name = 'OpError'; this.kind = kind; }
}

// fromWire validates a decoded wire op and returns it in canonical form.
/** @param {any} w @returns {Op} */
export function fromWire(w) {
  if (!Array.isArray(w)) throw new OpError('malformed operation');
  const b = new Builder();
  let total = 0;
  for (const c of w) {
    if (typeof c === 'string') {
      if (c === '') throw new OpError('zero-length component', 'zero_count');
      if (!isWellFormed(c)) throw new OpError('insert is not valid Unicode text', 'invalid_text');
      b.insert(c);
    } else if (typeof c === 'number') {
      if (c === 0 && !Object.is(c, -0)) throw new OpError('zero-length component', 'zero_count');
      if (!Number.isInteger(c) || Object.is(c, -0) || Math.abs(c) > MAX_SAFE) {
        throw new OpError('component count is not a safe integer', 'bad_number');
      }
      total += Math.abs(c);
      if (total > MAX_SAFE) throw new OpError('operation over the size limit', 'too_large');
      if (c > 0) b.retain(c); else b.delete(-c);
    } else throw new OpError('malformed operation');
  }
  return b.done();
}

// parse decodes an op from its raw JSON text, checking what JSON.parse
// hides: 2.0, 1e3 and -0 are not counts, and numbers past 2^53-1 lose
// precision. Errors carry the kind of the Go decoder.
/** @param {string} text @returns {Op} */
export function parse(text) {
  /** @type {{s?: string, n?: string, p?: string}[]} */
  const tokens = [];
  const re = /\s*(?:("(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*")|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)|([\[\],]))\s*/y;
  let i = 0;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m || m[0] === '') {
      if (/^\s*$/.test(text.slice(i))) break;
      throw new OpError('malformed operation');
    }
    tokens.push(m[1] !== undefined ? { s: m[1] } : m[2] !== undefined ? { n: m[2] } : { p: m[3] });
    i = re.lastIndex;
  }
  if (!tokens.length || tokens[0].p !== '[' || tokens[tokens.length - 1].p !== ']') throw new OpError('malformed operation');
  const items = [];
  for (let k = 1; k < tokens.length - 1; k++) {
    const t = tokens[k];
    if (k % 2 === 0) { if (t.p !== ',' || k === tokens.length - 2) throw new OpError('malformed operation'); continue; }
    if (t.s !== undefined) items.push(JSON.parse(t.s));
    else if (t.n !== undefined) {
      if (/[.eE]/.test(t.n) || t.n === '-0' || BigInt(t.n) > BigInt(MAX_SAFE) || BigInt(t.n) < -BigInt(MAX_SAFE)) {
        if (t.n === '0') throw new OpError('zero-length component', 'zero_count');
        throw new OpError('component count is not a safe integer', 'bad_number');
      }
      items.push(Number(t.n));
    } else throw new OpError('malformed operation');
  }
  return fromWire(items);
}

// toWire returns the op as sent on the wire (it already is that form).
/** @param {Op} op @returns {Op} */
export function toWire(op) { return op.slice(); }

/** @param {string} s */
function isWellFormed(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

// baseLen is the length in code points of the documents op applies to.
/** @param {Op} op @returns {number} */
export function baseLen(op) {
  let n = 0;
  for (const c of op) if (typeof c === 'number') n += Math.abs(c);
  return n;
}

// targetLen is the length in code points of the document op produces.
/** @param {Op} op @returns {number} */
export function targetLen(op) {
  let n = 0;
  for (const c of op) n += isRetain(c) ? c : isInsert(c) ? cpLength(c) : 0;
  return n;
}

// isNoop reports whether op changes no document.
/** @param {Op} op */
export function isNoop(op) {
  return op.length === 0 || (op.length === 1 && isRetain(op[0]));
}

// noop returns the op that keeps a document of n code points.
/** @param {number} n @returns {Op} */
export function noop(n) { return n > 0 ? [n] : []; }

/** @param {number} want @param {number} got */
function lengthError(want, got) {
  return new OpError(`base length mismatch: op expects ${want} code points, document has ${got}`, want > got ? 'past_end' : 'base_length');
}

// checkBase throws apply's error when op does not apply to a text of n code
// points.
/** @param {Op} op @param {number} n */
export function checkBase(op, n) {
  const bl = baseLen(op);
  if (bl !== n) throw lengthError(bl, n);
}

// apply returns text changed by op. n, when the caller keeps it, is the
// length of text in code points: the text after the op's last change is
// then copied without being scanned (a client applies every op to texts
// whose lengths it tracks). Without n the text is scanned once.
/** @param {string} text @param {Op} op @param {number} [n] @returns {string} */
export function apply(text, op, n) {
  const bl = baseLen(op);
  if (n !== undefined && bl !== n) throw lengthError(bl, n);
  let end = op.length;
  if (n !== undefined && end > 0 && isRetain(op[end - 1])) end--;
  const out = [];
  let i = 0;
  try {
    for (let k = 0; k < end; k++) {
      const c = op[k];
      if (typeof c === 'string') out.push(c);
      else if (c > 0) { const j = advance(text, i, c); out.push(text.slice(i, j)); i = j; }
      else i = advance(text, i, -c);
    }
  } catch (e) {
    if (e instanceof RangeError) throw lengthError(bl, cpLength(text));
    throw e;
  }
  if (end < op.length) {
    // A tail of c code points has between c and 2c UTF-16 units.
    const rest = text.length - i;
    const tail = /** @type {number} */ (op[end]);
    if (rest < tail || rest > 2 * tail) throw lengthError(bl, cpLength(text));
    out.push(text.slice(i));
  } else if (i !== text.length) throw lengthError(bl, cpLength(text));
  return out.join('');
}

// Components as {k, n, s}: k is 'r', 'i' or 'd'; n counts code points.
/** @typedef {{k: string, n: number, s: string}} Comp */
/** @param {Op} op @returns {Comp[]} */
function comps(op) {
  return op.map((c) => (isInsert(c) ? { k: 'i', n: cpLength(c), s: c } : c > 0 ? { k: 'r', n: c, s: '' } : { k: 'd', n: -c, s: '' }));
}

// Reader walks the components of an op, taking parts of them.
class Reader {
  /** @param {Op} op */
  constructor(op) { this.c = comps(op); this.i = 0; this.cur = this.c[0] || null; }
  // take consumes m code points of the current component and returns them.
  /** @param {number} m @returns {Comp} */
  take(m) {
    const c = this.cur;
    let part;
    if (m >= c.n) { part = c; this.cur = this.c[++this.i] || null; }
    else if (c.k === 'i') {
      const j = advance(c.s, 0, m);
      part = { k: 'i', n: m, s: c.s.slice(0, j) };
      this.cur = { k: 'i', n: c.n - m, s: c.s.slice(j) };
    } else { part = { k: c.k, n: m, s: '' }; this.cur = { k: c.k, n: c.n - m, s: '' }; }
    return part;
  }
}

// compose returns the op with the effect of a then b.
/** @param {Op} a @param {Op} b @returns {Op} */
export function compose(a, b) {
  const ta = targetLen(a);
  const bb = baseLen(b);
  if (ta !== bb) throw lengthError(bb, ta);
  const x = new Reader(a);
  const y = new Reader(b);
  const r = new Builder();
  for (;;) {
    const p = x.cur;
    const q = y.cur;
    if (!p && !q) break;
    if (p && p.k === 'd') { r.delete(x.take(p.n).n); continue; }
    if (q && q.k === 'i') { r.insert(y.take(q.n).s); continue; }
    if (!p || !q) throw new OpError('compose: ops do not fit');
    const m = Math.min(p.n, q.n);
    const pp = x.take(m);
    y.take(m);
    if (pp.k === 'r' && q.k === 'r') r.retain(m);
    else if (pp.k === 'r' && q.k === 'd') r.delete(m);
    else if (pp.k === 'i' && q.k === 'r') r.insert(pp.s);
    // insert then delete: nothing remains
  }
  return r.done();
}

// transform returns [a', b'] such that apply(apply(t, a), b') equals
// apply(apply(t, b), a'). On a tie a's insert goes first.
/** @param {Op} a @param {Op} b @returns {[Op, Op]} */
export function transform(a, b) {
  const la = baseLen(a);
  const lb = baseLen(b);
  if (la !== lb) throw lengthError(la, lb);
  const x = new Reader(a);
  const y = new Reader(b);
  const a1 = new Builder();
  const b1 = new Builder();
  for (;;) {
    const p = x.cur;
    const q = y.cur;
    if (!p && !q) break;
    if (p && p.k === 'i') { x.take(p.n); a1.insert(p.s); b1.retain(p.n); continue; }
    if (q && q.k === 'i') { y.take(q.n); a1.retain(q.n); b1.insert(q.s); continue; }
    if (!p || !q) throw new OpError('transform: ops do not fit');
    const m = Math.min(p.n, q.n);
    x.take(m);
    y.take(m);
    if (p.k === 'r' && q.k === 'r') { a1.retain(m); b1.retain(m); }
    else if (p.k === 'd' && q.k === 'r') a1.delete(m);
    else if (p.k === 'r' && q.k === 'd') b1.delete(m);
    // both delete: nothing
  }
  return [a1.done(), b1.done()];
}

// invert returns the op undoing op, which applies to text.
/** @param {Op} op @param {string} text @returns {Op} */
export function invert(op, text) {
  const n = cpLength(text);
  const bl = baseLen(op);
  if (bl !== n) throw lengthError(bl, n);
  const r = new Builder();
  let i = 0;
  for (const c of op) {
    if (isInsert(c)) r.delete(cpLength(c));
    else if (c > 0) { r.retain(c); i = advance(text, i, c); }
    else { const j = advance(text, i, -c); r.insert(text.slice(i, j)); i = j; }
  }
  return r.done();
}

// transformIndex moves a caret at index through op. A caret stays before
// text inserted at its position unless own is true (its editor inserted
// it); a caret inside a deleted range moves to the deletion point.
/** @param {number} index @param {Op} op @param {boolean} [own] @returns {number} */
export function transformIndex(index, op, own = false) {
  index = Math.max(0, Math.min(index, baseLen(op)));
  let pos = 0;
  let out = index;
  for (const c of op) {
    if (pos > index) break;
    if (isInsert(c)) {
      if (pos < index || own) out += cpLength(c);
    } else if (c > 0) {
      pos += c;
    } else {
      const n = -c;
      if (pos < index) out -= Math.min(n, index - pos);
      pos += n;
    }
  }
  return out;
}

// diff returns an op turning text a into text b: one change between the
// longest common prefix and suffix. caret, when given, is a UTF-16 index
// in b where the change ends (the caret after typing); it resolves
// ambiguous runs ("aa" to "aaa") to where the user typed. Surrogate pairs
// are never split.
/** @param {string} a @param {string} b @param {number} [caret] @returns {Op} */
export function diff(a, b, caret) {
  if (a === b) return noop(cpLength(a));
  const min = Math.min(a.length, b.length);
  let s = 0;
  const maxSuffix = caret === undefined ? min : Math.max(0, Math.min(min, b.length - caret));
  while (s < maxSuffix && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  let p = 0;
  while (p < min - s && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  // The common parts never end or start between the halves of a pair.
  if (p > 0 && isHighAt(a, p - 1)) p--;
  if (s > 0 && isLowAt(a, a.length - s)) s--;
  const r = new Builder();
  r.retain(cpLength(a.slice(0, p)));
  r.insert(b.slice(p, b.length - s));
  r.delete(cpLength(a.slice(p, a.length - s)));
  r.retain(cpLength(a.slice(a.length - s)));
  return r.done();
}
