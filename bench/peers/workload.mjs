// The editors' random edits, the same mix as cmd/collab-bench: typing at a
// moving caret, emoji, backspace, deleting a selection, pasting words.
// Positions count code points. Deterministic for a seed.

// mulberry32: a small seeded PRNG.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz    ,.e';
const EMOJI = ['😀', '👍', '🎉', '👩‍💻', '❤️', 'é'];
const WORDS = ['lorem', 'ipsum', 'héllo', 'wörld', '日本語', '😀', 'naïve', 'code', 'the', 'and'];

export function cpLen(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export class EditGen {
  constructor(seed, stream, maxLen) {
    this.r = rng(seed * 1000003 + stream);
    this.caret = 0;
    this.maxLen = maxLen;
  }

  int(n) { return Math.floor(this.r() * n); }

  // next returns {pos, del, ins} for a text of n code points.
  next(n) {
    if (this.caret > n || this.int(50) === 0) this.caret = this.int(n + 1);
    let r = this.int(100);
    if (n > this.maxLen && r < 75) r = 75 + this.int(20);
    let ins;
    if (r < 65) ins = LETTERS[this.int(LETTERS.length)];
    else if (r < 75) ins = EMOJI[this.int(EMOJI.length)];
    else if (r < 88) {
      if (this.caret === 0) return this.next(n);
      this.caret--;
      return { pos: this.caret, del: 1, ins: '' };
    } else if (r < 95) {
      if (n === 0) return { pos: 0, del: 0, ins: 'a' };
      const pos = this.int(n);
      const del = 1 + this.int(Math.min(20, n - pos));
      this.caret = pos;
      return { pos, del, ins: '' };
    } else {
      const k = 3 + this.int(25);
      ins = '';
      for (let i = 0; i < k; i++) ins += WORDS[this.int(WORDS.length)] + ' ';
    }
    const pos = this.caret;
    this.caret += cpLen(ins);
    return { pos, del: 0, ins };
  }
}

// Percentile by nearest rank over every sample (ms).
export function summarize(samples) {
  const s = Float64Array.from(samples).sort();
  const pick = (p) => (s.length ? s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1] : 0);
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return { count: s.length, p50_ms: r3(pick(50)), p95_ms: r3(pick(95)), p99_ms: r3(pick(99)), max_ms: r3(s.length ? s[s.length - 1] : 0) };
}
