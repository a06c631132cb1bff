// The sync core passes the client vectors shared with the Go client
// (testdata/client-vectors.json, described in its "about").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runVector } from './vector-steps.js';

const V = JSON.parse(readFileSync(new URL('../../testdata/client-vectors.json', import.meta.url), 'utf8'));

test('client vectors: version and public id', () => {
  assert.equal(V.version, 1);
  assert.ok(V.vectors.length >= 10);
});

for (const v of V.vectors) {
  test(`client vectors: ${v.name}`, () => runVector(V, v));
}
