import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ot from '../static/js/ot.js';
import { cpLength } from '../static/js/text.js';
import { rng } from './fake.js';

test('apply counts code points', () => {
  assert.equal(ot.apply('Hi', [2, ' there 👋']), 'Hi there 👋');
  assert.equal(ot.apply('a😀b', [1, -1, 'é', 1]), 'aéb');
  assert.equal(ot.apply('e\u0301x', [2, -1]), 'e\u0301');
  assert.throws(() => ot.apply('ab', [3]), /base length mismatch/);
  assert.throws(() => ot.apply('😀', [2]), /base length/);
});

test('fromWire canonicalises and validates', () => {
  const cases = [
    { in: [1, 2, 'a', 'b', -1, -2], want: [3, 'ab', -3] },
    { in: [-2, 'x', 3], want: ['x', -2, 3] },
    { in: [], want: [] },
  ];
  for (const c of cases) assert.deepEqual(ot.fromWire(c.in), c.want);
  for (const bad of [null, {}, [0], [''], [1.5], [-0], ['\ud83d'], [true], [2 ** 53]]) {
    assert.throws(() => ot.fromWire(bad), ot.OpError, JSON.stringify(bad));
  }
});

test('compose, transform, invert examples', () => {
  assert.deepEqual(ot.compose([1, 'x', 1], [3, 'y']), [1, 'x', 1, 'y']);
  assert.deepEqual(ot.compose(['😀'], [-1]), []);
  // Ties: the first argument's insert goes first.
  const [a1, b1] = ot.transform([1, 'A', 1], [1, 'B', 1]);
  assert.equal(ot.apply(ot.apply('xy', [1, 'A', 1]), b1), 'xABy');
  assert.equal(ot.apply(ot.apply('xy', [1, 'B', 1]), a1), 'xABy');
  assert.deepEqual(ot.invert([1, -1, 'é', 1], 'a😀b'), [1, '😀', -1, 1]);
});

test('transformIndex', () => {
  const cases = [
    { i: 2, op: [2, 'xy', 1], own: false, want: 2 },
    { i: 2, op: [2, 'xy', 1], own: true, want: 4 },
    { i: 3, op: [1, -3, 1], want: 1 },
    { i: 5, op: [1, '😀', -1, 3], want: 5 },
    { i: 0, op: ['ab', 1], want: 0 },
    { i: 1, op: ['ab', 1], want: 3 },
  ];
  for (const c of cases) assert.equal(ot.transformIndex(c.i, c.op, c.own), c.want, JSON.stringify(c));
});

test('diff never splits a pair and honours the caret', () => {
  assert.deepEqual(ot.diff('aaa', 'aaaa', 3), [2, 'a', 1]);
  assert.deepEqual(ot.diff('aaaa', 'aaa', 2), [2, -1, 1]);
  // 😀 (d83d de00) and 😁 (d83d de01) share their high surrogate.
  assert.deepEqual(ot.diff('x😀', 'x😁'), [1, '😁', -1]);
  assert.deepEqual(ot.diff('😀y', '😁y'), ['😁', -1, 1]);
  assert.deepEqual(ot.diff('abc', 'abc'), [3]);
});

const ALPHABET = ['a', 'b', 'é', 'e\u0301', '😀', '中', '\n', '👩‍👩‍👧'];
function randText(r, n) {
  let s = '';
  while (cpLength(s) < n) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return [...s].slice(0, n).join('');
}
function randOp(r, text) {
  const n = cpLength(text);
  const b = new ot.Builder();
  let left = n;
  while (left > 0) {
    const k = 1 + Math.floor(r() * Math.min(left, 4));
    const x = r();
    if (x < 0.2) b.insert(randText(r, 1 + Math.floor(r() * 3)));
    else if (x < 0.5) { b.delete(k); left -= k; }
    else { b.retain(k); left -= k; }
  }
  if (r() < 0.3) b.insert(randText(r, 2));
  return b.done();
}

test('random ops: transform converges, compose and invert agree with apply', () => {
  const r = rng(42);
  for (let i = 0; i < 2000; i++) {
    const t = randText(r, Math.floor(r() * 12));
    const a = randOp(r, t);
    const b = randOp(r, t);
    const [a1, b1] = ot.transform(a, b);
    const ta = ot.apply(t, a);
    assert.equal(ot.apply(ta, b1), ot.apply(ot.apply(t, b), a1), JSON.stringify({ t, a, b }));
    const c = randOp(r, ta);
    assert.equal(ot.apply(t, ot.compose(a, c)), ot.apply(ta, c));
    assert.equal(ot.apply(ta, ot.invert(a, t)), t);
    assert.deepEqual(ot.fromWire(a), a, 'builder output is canonical');
    const d = ot.diff(t, ta);
    assert.equal(ot.apply(t, d), ta);
  }
});
