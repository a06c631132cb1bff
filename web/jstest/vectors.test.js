// The JavaScript OT passes the same language-neutral vectors as the Go
// package ot (ot/testdata/vectors.json; see its README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ot from '../static/js/ot.js';
import { diffOp } from '../static/js/diff.js';

const url = new URL('../../ot/testdata/vectors.json', import.meta.url);
const V = JSON.parse(readFileSync(url, 'utf8'));

test('vectors: version', () => assert.equal(V.version, 1));

const sections = {
  decode: (v) => assert.deepEqual(ot.parse(v.op), v.canonical),
  apply: (v) => assert.equal(ot.apply(v.doc, ot.fromWire(v.op)), v.result),
  compose: (v) => {
    const got = ot.compose(v.a, v.b);
    assert.deepEqual(got, v.result);
    assert.equal(ot.apply(v.doc, got), v.text);
    assert.equal(ot.apply(ot.apply(v.doc, v.a), v.b), v.text);
  },
  transform: (v) => {
    const [a1, b1] = ot.transform(v.a, v.b);
    assert.deepEqual(a1, v.aPrime, 'aPrime');
    assert.deepEqual(b1, v.bPrime, 'bPrime');
    assert.equal(ot.apply(ot.apply(v.doc, v.a), b1), v.text);
    assert.equal(ot.apply(ot.apply(v.doc, v.b), a1), v.text);
  },
  invert: (v) => assert.deepEqual(ot.invert(v.op, v.doc), v.result),
  cursor: (v) => assert.equal(ot.transformIndex(v.index, v.op, v.own), v.result),
  diff: (v) => assert.deepEqual(diffOp(v.before, v.after), v.op),
  invalid: (v) => {
    const kind = (fn) => {
      try { fn(); } catch (e) { assert.ok(e instanceof ot.OpError, `${e}`); return e.kind; }
      return 'no error';
    };
    if (v.doc === undefined) assert.equal(kind(() => ot.parse(v.op)), v.error);
    else assert.equal(kind(() => ot.apply(v.doc, ot.parse(v.op))), v.error);
  },
};

for (const [name, check] of Object.entries(sections)) {
  test(`vectors: ${name}`, async (t) => {
    assert.ok(Array.isArray(V[name]) && V[name].length > 0, `section ${name} present`);
    for (const v of V[name]) await t.test(v.name, () => check(v));
  });
}
