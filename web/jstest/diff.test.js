import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ot from '../static/js/ot.js';
import { diffOp } from '../static/js/diff.js';

const cps = (s) => [...s].length;

// retained counts the code points an op keeps.
function retained(op) {
  return op.filter(ot.isRetain).reduce((a, b) => a + b, 0);
}

// lcs is the textbook dynamic program, for checking minimality.
function lcs(a, b) {
  const x = [...a];
  const y = [...b];
  let prev = new Array(y.length + 1).fill(0);
  for (let i = 1; i <= x.length; i++) {
    const cur = new Array(y.length + 1).fill(0);
    for (let j = 1; j <= y.length; j++) cur[j] = x[i - 1] === y[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    prev = cur;
  }
  return prev[y.length];
}

test('diffOp turns a into b and keeps a longest common subsequence', () => {
  const cases = [
    ['', ''], ['', 'abc'], ['abc', ''], ['abc', 'abc'],
    ['abcdef', 'aXcdeYf'], ['the cat sat', 'a cat sat down'],
    ['😀a😀b', 'a😀😀b'], ['👩‍👩‍👧 x', 'x 👩‍👩‍👧'], ['\ud83d lone', 'lone \ud83d'],
    ['kitten', 'sitting'], ['aaaa', 'aa'], ['ab', 'ba'],
  ];
  for (const [a, b] of cases) {
    const op = diffOp(a, b);
    assert.equal(ot.apply(a, op), b, `diffOp(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
    assert.equal(retained(op), lcs(a, b), `retains an LCS of ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
    assert.equal(ot.baseLen(op), cps(a));
  }
});

test('diffOp on random texts: applies, minimal, never splits a surrogate pair', () => {
  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const alphabet = ['a', 'b', 'c', '😀', '中', '\n', 'é'];
  const word = (n) => Array.from({ length: n }, () => alphabet[rnd(alphabet.length)]).join('');
  for (let i = 0; i < 400; i++) {
    const a = word(rnd(30));
    let b = [...a];
    for (let e = rnd(6); e > 0; e--) {
      const at = rnd(b.length + 1);
      if (rnd(2)) b.splice(at, rnd(3), ...word(rnd(3)));
      else b.splice(at, rnd(4));
    }
    b = b.join('');
    const op = diffOp(a, b);
    assert.equal(ot.apply(a, op), b);
    assert.equal(retained(op), lcs(a, b), `${JSON.stringify(a)} → ${JSON.stringify(b)}`);
    for (const c of op) if (ot.isInsert(c)) assert.equal(c.toWellFormed(), c, 'no lone surrogate in an insert');
  }
});

test('diffOp past its cost bound falls back to one correct replacement', () => {
  const a = 'x' + 'ab'.repeat(200) + 'y';
  const b = 'x' + 'ba'.repeat(200) + 'y';
  const op = diffOp(a, b, { maxCost: 10 });
  assert.equal(ot.apply(a, op), b);
  assert.deepEqual(op, [1, 'ba'.repeat(200), -400, 1]);
});

test('a pending edit between two server changes keeps its place (prefix/suffix would move it)', () => {
  // The server's text changed at both ends while we were away; our pending
  // edit sits in the untouched middle.
  const known = 'Title\nmiddle line\nfooter';
  const fresh = 'New title\nmiddle line\nfooter!';
  const pending = ot.diff(known, 'Title\nmiddle MINE line\nfooter');
  const change = diffOp(known, fresh);
  const [, mine] = ot.transform(change, pending);
  assert.equal(ot.apply(fresh, mine), 'New title\nmiddle MINE line\nfooter!');
  // With the single-change diff, the middle is deleted and re-inserted by
  // the server's change, and our insert lands before it.
  const coarse = ot.diff(known, fresh);
  const [, lost] = ot.transform(coarse, pending);
  assert.notEqual(ot.apply(fresh, lost), 'New title\nmiddle MINE line\nfooter!');
});

test('a pending insert stays with the word it was typed after when the diff could place a change on either side', () => {
  // We typed "X" after the first word of "to do"; meanwhile someone typed
  // "to go " at the start. The prefix "to " of both texts ends inside the
  // other editor's insert: placed there ("to |go to |do"), our "X" would
  // stick to their "to" instead of ours.
  const known = 'to do';
  const fresh = 'to go to do';
  const pending = [2, 'X', 3];
  const change = diffOp(known, fresh);
  assert.deepEqual(change, ['to go ', 5]);
  const [, mine] = ot.transform(change, pending);
  assert.equal(ot.apply(fresh, mine), 'to go toX do');
});

test('diffOp of long texts: the op of the changed region with its context, plus retains', () => {
  // diffOp looks only at the differing middle and some context around it:
  // the op must be the one a whole-text diff gives, i.e. the short texts'
  // op with the long shared ends as retains.
  let seed = 11;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const words = ['the', 'cat', ' ', ' ', '\n', '😀', 'é', '.', 'a'];
  const text = (n) => Array.from({ length: n }, () => words[rnd(words.length)]).join('');
  for (let i = 0; i < 60; i++) {
    const head = text(3000);
    const tail = text(3000);
    const m1 = text(rnd(20));
    const m2 = text(rnd(20));
    // Context longer than any word alignment's slide on both sides.
    const c1 = text(400);
    const c2 = text(400);
    const short = diffOp(c1 + m1 + c2, c1 + m2 + c2);
    const long = diffOp(head + c1 + m1 + c2 + tail, head + c1 + m2 + c2 + tail);
    assert.equal(ot.apply(head + c1 + m1 + c2 + tail, long), head + c1 + m2 + c2 + tail);
    const b = new ot.Builder();
    b.retain(cps(head));
    for (const c of short) {
      if (ot.isRetain(c)) b.retain(c); else if (ot.isInsert(c)) b.insert(c); else b.delete(-c);
    }
    b.retain(cps(tail));
    assert.deepEqual(long, b.done(), `${JSON.stringify(m1)} → ${JSON.stringify(m2)}`);
  }
  assert.deepEqual(diffOp('', 'x😀'.repeat(5000)), ['x😀'.repeat(5000)]);
  assert.deepEqual(diffOp('x😀'.repeat(5000), ''), [-10000]);
});
