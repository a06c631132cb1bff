// @ts-check
// A minimal-edit diff in code points (Myers' O(ND) algorithm), used when
// the client learns a whole new text at once (a reset after a long
// disconnect) and must turn it into an op that pending edits can be
// transformed over. A single prefix/suffix change would swallow every
// region between the first and the last difference, and pending edits
// inside it would land next to the change instead of in their place; a
// real diff keeps everything the two texts share as retains.
//
// The work is bounded: past `maxCost` steps the middle falls back to one
// replacement (still correct, only less precise), so a reset of a huge
// document never stalls the page.

import { Builder } from './ot.js';
import { cpLength } from './text.js';

const DEFAULT_MAX_COST = 4e7;

/** A run of an edit script: retain, delete or insert n code points (an insert's from y[from]). @typedef {{k: 'r' | 'd' | 'i', n: number, from: number}} Run */

// codePoints returns the code points of s as numbers. A lone surrogate is
// one code point, as everywhere on the wire.
/** @param {string} s @returns {number[]} */
function codePoints(s) {
  /** @type {number[]} */
  const out = [];
  for (const ch of s) out.push(/** @type {number} */ (ch.codePointAt(0)));
  return out;
}

/** @param {number[]} a @param {number} from @param {number} to */
function fromCodePoints(a, from, to) {
  let s = '';
  for (let i = from; i < to; i += 4096) s += String.fromCodePoint(...a.slice(i, Math.min(to, i + 4096)));
  return s;
}

// diffOp returns an op turning text a into text b that retains a longest
// common subsequence of their code points. Only the texts' differing
// middle, with CONTEXT units on each side for alignToWords, is turned
// into code points: a reset that changed a few places of a large document
// costs the size of the change plus one comparison of the texts.
/**
 * @param {string} a @param {string} b @param {{maxCost?: number}} [opts]
 * @returns {import('./ot.js').Op}
 */
export function diffOp(a, b, { maxCost = DEFAULT_MAX_COST } = {}) {
  const r = new Builder();
  if (a === '' || b === '') {
    r.delete(cpLength(a));
    r.insert(b);
    return r.done();
  }
  const p = keepPairs(a, Math.max(0, commonPrefix(a, b) - CONTEXT));
  const s = a.length - keepPairs(a, a.length - Math.max(0, commonSuffix(a, b, a.length - p) - CONTEXT));
  r.retain(cpLength(a.slice(0, p)));
  const x = codePoints(a.slice(p, a.length - s));
  const y = codePoints(b.slice(p, b.length - s));
  for (const e of diffRuns(x, y, maxCost)) {
    if (e.k === 'r') r.retain(e.n);
    else if (e.k === 'd') r.delete(e.n);
    else r.insert(fromCodePoints(y, e.from, e.from + e.n));
  }
  r.retain(cpLength(a.slice(a.length - s)));
  return r.done();
}

// CONTEXT is how much of the common prefix and suffix diffRuns sees: more
// than alignToWords' MAX_SHIFT code points and its boundary tests.
const CONTEXT = 1024;
const CHUNK = 4096;

// commonPrefix returns the length in UTF-16 units of the longest common
// prefix of a and b, comparing chunks first (string comparison is fast).
/** @param {string} a @param {string} b */
function commonPrefix(a, b) {
  const min = Math.min(a.length, b.length);
  let p = 0;
  while (p + CHUNK <= min && a.slice(p, p + CHUNK) === b.slice(p, p + CHUNK)) p += CHUNK;
  while (p < min && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  return p;
}

// commonSuffix returns the length of the longest common suffix of a and
// b, at most max.
/** @param {string} a @param {string} b @param {number} max */
function commonSuffix(a, b, max) {
  const min = Math.min(a.length, b.length, max);
  let s = 0;
  while (s + CHUNK <= min && a.slice(a.length - s - CHUNK, a.length - s) === b.slice(b.length - s - CHUNK, b.length - s)) s += CHUNK;
  while (s < min && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  return s;
}

// keepPairs moves a cut at UTF-16 index i of s back off the middle of a
// surrogate pair.
/** @param {string} s @param {number} i */
function keepPairs(s, i) {
  const c = s.charCodeAt(i);
  const prev = s.charCodeAt(i - 1);
  return i > 0 && c >= 0xdc00 && c <= 0xdfff && prev >= 0xd800 && prev <= 0xdbff ? i - 1 : i;
}

// diffRuns returns the edit script of code points x to y, aligned to words.
/** @param {number[]} x @param {number[]} y @param {number} maxCost @returns {Run[]} */
function diffRuns(x, y, maxCost) {
  let p = 0;
  while (p < x.length && p < y.length && x[p] === y[p]) p++;
  let s = 0;
  while (s < x.length - p && s < y.length - p && x[x.length - 1 - s] === y[y.length - 1 - s]) s++;
  const edits = myers(x, p, x.length - s, y, p, y.length - s, maxCost);
  /** @type {Run[]} */
  const runs = edits === null
    ? [{ k: 'i', n: y.length - s - p, from: p }, { k: 'd', n: x.length - s - p, from: 0 }]
    : edits;
  runs.unshift({ k: 'r', n: p, from: 0 });
  runs.push({ k: 'r', n: s, from: 0 });
  alignToWords(runs, x, y);
  return runs;
}

// MAX_SHIFT bounds how far alignToWords slides one edit, so that an edit
// inside a long run of one repeated character costs little.
const MAX_SHIFT = 256;

// alignToWords slides each insert or delete that lies between two retains
// to the equally short placement whose ends fall best on word and line
// boundaries: in "a cat. a cat." becoming "a cat. a cat. a cat.", the
// inserted " a cat." rather than "t. a ca". A pending edit of the client,
// transformed over the diff, then lands between the same words as typed,
// not inside a word someone else typed. runs is changed in place.
/** @param {Run[]} runs @param {number[]} x @param {number[]} y */
function alignToWords(runs, x, y) {
  let xi = 0; // where runs[i] starts in x
  let yi = 0; // and in y
  for (let i = 0; i < runs.length; i++) {
    const e = runs[i];
    const before = runs[i - 1];
    const after = runs[i + 1];
    if (e.k !== 'r' && before?.k === 'r' && after?.k === 'r') {
      const z = e.k === 'i' ? y : x;
      const at = e.k === 'i' ? yi : xi;
      const shift = bestShift(z, at, e.n, before.n, after.n);
      before.n += shift;
      after.n -= shift;
      xi += shift;
      yi += shift;
      if (e.k === 'i') e.from = at + shift;
    }
    if (e.k !== 'i') xi += e.n;
    if (e.k !== 'd') yi += e.n;
  }
}

// bestShift returns by how much the edit z[at:at+n] can slide (negative:
// left) within the retains of lengths left and right around it, keeping
// the text the same, to its best-scoring placement; the rightmost of equal
// scores. The scores are go-diff's (DiffCleanupSemanticLossless), so that
// the Go client places a reset's edits where this one does.
/** @param {number[]} z @param {number} at @param {number} n @param {number} left @param {number} right */
function bestShift(z, at, n, left, right) {
  let lo = 0;
  while (-lo < Math.min(left, MAX_SHIFT) && z[at + lo - 1] === z[at + lo + n - 1]) lo--;
  let hi = 0;
  while (hi < Math.min(right, MAX_SHIFT) && z[at + hi] === z[at + hi + n]) hi++;
  const start = at - left;
  const end = at + n + right;
  let best = 0;
  let bestScore = -1;
  for (let k = lo; k <= hi; k++) {
    const b = at + k;
    const score = boundaryScore(z, start, b, b + n) + boundaryScore(z, b, b + n, end);
    if (score >= bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return best;
}

const isAlnum = (/** @type {number} */ ch) => (ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122);
const isSpace = (/** @type {number} */ ch) => ch === 32 || (ch >= 9 && ch <= 13);
const isBreak = (/** @type {number} */ ch) => ch === 10 || ch === 13;

// endsWithBlankLine reports whether z[from:to] ends with \n\n or \n\r\n.
/** @param {number[]} z @param {number} from @param {number} to */
function endsWithBlankLine(z, from, to) {
  if (to - from >= 2 && z[to - 1] === 10 && z[to - 2] === 10) return true;
  return to - from >= 3 && z[to - 1] === 10 && z[to - 2] === 13 && z[to - 3] === 10;
}

// boundaryScore rates b as the boundary between z[from:b] and z[b:to]:
// an end of either is best, then blank lines, line breaks, sentence ends,
// spaces, other punctuation, and inside a word worst (alphanumeric is
// ASCII only, and the second blank-line test looks at the end of z[b:to],
// as in go-diff).
/** @param {number[]} z @param {number} from @param {number} b @param {number} to */
function boundaryScore(z, from, b, to) {
  if (b === from || b === to) return 6;
  const c1 = z[b - 1];
  const c2 = z[b];
  const space1 = !isAlnum(c1) && isSpace(c1);
  const space2 = !isAlnum(c2) && isSpace(c2);
  const break1 = space1 && isBreak(c1);
  const break2 = space2 && isBreak(c2);
  if ((break1 && endsWithBlankLine(z, from, b)) || (break2 && endsWithBlankLine(z, b, to))) return 5;
  if (break1 || break2) return 4;
  if (!isAlnum(c1) && !space1 && space2) return 3;
  if (space1 || space2) return 2;
  if (!isAlnum(c1) || !isAlnum(c2)) return 1;
  return 0;
}

// myers returns the edit script of x[x0:x1] to y[y0:y1] as runs
// {k: 'r'|'d'|'i', n, from}, or null when it would cost more than maxCost.
/**
 * @param {number[]} x @param {number} x0 @param {number} x1
 * @param {number[]} y @param {number} y0 @param {number} y1 @param {number} maxCost
 * @returns {Run[] | null}
 */
function myers(x, x0, x1, y, y0, y1, maxCost) {
  const n = x1 - x0;
  const m = y1 - y0;
  if (n === 0 && m === 0) return [];
  if (n === 0) return [{ k: 'i', n: m, from: y0 }];
  if (m === 0) return [{ k: 'd', n, from: 0 }];
  const max = n + m;
  const off = max + 1;
  let v = new Int32Array(2 * max + 3);
  /** @type {Int32Array[]} */
  const trace = [];
  let cost = 0;
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2)); // v before step d, for k in [-d-1, d+1]
    for (let k = -d; k <= d; k += 2) {
      let i;
      if (k === -d || (k !== d && v[off + k - 1] < v[off + k + 1])) i = v[off + k + 1]; // down: insert
      else i = v[off + k - 1] + 1; // right: delete
      let j = i - k;
      const start = i;
      while (i < n && j < m && x[x0 + i] === y[y0 + j]) { i++; j++; }
      v[off + k] = i;
      cost += 1 + (i - start);
      if (i >= n && j >= m) { found = d; break; }
    }
    if (cost > maxCost) return null;
  }
  // Walk back from (n, m) through the saved frontiers.
  /** @type {Run[]} */
  const runs = [];
  /** @param {'r' | 'd' | 'i'} k @param {number} cnt @param {number} from */
  const push = (k, cnt, from) => {
    if (cnt <= 0) return;
    const last = runs[runs.length - 1];
    if (last && last.k === k && (k !== 'i' || last.from === from + cnt)) {
      last.n += cnt;
      if (k === 'i') last.from = from;
    } else runs.push({ k, n: cnt, from });
  };
  let i = n;
  let j = m;
  for (let d = found; d > 0; d--) {
    const prev = trace[d];
    const at = (/** @type {number} */ kk) => prev[kk + d + 1];
    const k = i - j;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const pk = down ? k + 1 : k - 1;
    const pi = at(pk);
    const pj = pi - pk;
    const si = down ? pi : pi + 1; // where the snake of step d starts
    push('r', i - si, 0);
    if (down) push('i', 1, y0 + pj);
    else push('d', 1, 0);
    i = pi;
    j = pj;
  }
  push('r', i, 0);
  return runs.reverse();
}
