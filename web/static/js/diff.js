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

const DEFAULT_MAX_COST = 4e7;

// codePoints returns the code points of s as numbers. A lone surrogate is
// one code point, as everywhere on the wire.
function codePoints(s) {
  const out = [];
  for (const ch of s) out.push(ch.codePointAt(0));
  return out;
}

function fromCodePoints(a, from, to) {
  let s = '';
  for (let i = from; i < to; i += 4096) s += String.fromCodePoint(...a.slice(i, Math.min(to, i + 4096)));
  return s;
}

// diffOp returns an op turning text a into text b that retains a longest
// common subsequence of their code points.
export function diffOp(a, b, { maxCost = DEFAULT_MAX_COST } = {}) {
  const x = codePoints(a);
  const y = codePoints(b);
  let p = 0;
  while (p < x.length && p < y.length && x[p] === y[p]) p++;
  let s = 0;
  while (s < x.length - p && s < y.length - p && x[x.length - 1 - s] === y[y.length - 1 - s]) s++;
  const r = new Builder();
  r.retain(p);
  const edits = myers(x, p, x.length - s, y, p, y.length - s, maxCost);
  if (edits === null) {
    r.insert(fromCodePoints(y, p, y.length - s));
    r.delete(x.length - s - p);
  } else {
    for (const e of edits) {
      if (e.k === 'r') r.retain(e.n);
      else if (e.k === 'd') r.delete(e.n);
      else r.insert(fromCodePoints(y, e.from, e.from + e.n));
    }
  }
  r.retain(s);
  return r.done();
}

// myers returns the edit script of x[x0:x1] to y[y0:y1] as runs
// {k: 'r'|'d'|'i', n, from}, or null when it would cost more than maxCost.
function myers(x, x0, x1, y, y0, y1, maxCost) {
  const n = x1 - x0;
  const m = y1 - y0;
  if (n === 0 && m === 0) return [];
  if (n === 0) return [{ k: 'i', n: m, from: y0 }];
  if (m === 0) return [{ k: 'd', n }];
  const max = n + m;
  const off = max + 1;
  let v = new Int32Array(2 * max + 3);
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
  const runs = [];
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
    const at = (kk) => prev[kk + d + 1];
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
