import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpLength, cpToUtf16, utf16ToCp, sliceCp, wellFormed } from '../static/js/text.js';

test('code point length', () => {
  const cases = [['', 0], ['abc', 3], ['😀', 1], ['e\u0301', 2], ['👩‍👩‍👧', 5], ['中文', 2], ['\ud83d', 1]];
  for (const [s, n] of cases) assert.equal(cpLength(s), n, s);
});

test('UTF-16 to code points and back', () => {
  const s = 'a😀b中👩‍👧c';
  // UTF-16: a(0) 😀(1,2) b(3) 中(4) 👩(5,6) ZWJ(7) 👧(8,9) c(10)
  const pairs = [[0, 0], [1, 1], [3, 2], [4, 3], [5, 4], [7, 5], [8, 6], [10, 7], [11, 8]];
  for (const [u, c] of pairs) {
    assert.equal(utf16ToCp(s, u), c, `utf16ToCp(${u})`);
    assert.equal(cpToUtf16(s, c), u, `cpToUtf16(${c})`);
  }
  // An index inside a pair moves before the pair: the emoji is never split.
  assert.equal(utf16ToCp(s, 2), 1);
  assert.equal(utf16ToCp(s, 6), 4);
  assert.equal(cpToUtf16(s, 99), s.length);
  assert.equal(sliceCp(s, 1, 3), '😀b');
});

test('wellFormed replaces lone surrogates only', () => {
  assert.equal(wellFormed('a\ud83db'), 'a\ufffdb');
  assert.equal(wellFormed('😀\ude00'), '😀\ufffd');
  assert.equal(wellFormed('😀'), '😀');
});
