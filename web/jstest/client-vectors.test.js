// The sync core passes the client vectors shared with the Go client
// (testdata/client-vectors.json, described in its "about").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SyncCore } from '../static/js/sync.js';

const V = JSON.parse(readFileSync(new URL('../../testdata/client-vectors.json', import.meta.url), 'utf8'));

test('client vectors: version and public id', () => {
  assert.equal(V.version, 1);
  assert.ok(V.vectors.length >= 10);
});

for (const v of V.vectors) {
  test(`client vectors: ${v.name}`, () => {
    const core = new SyncCore({ doc: V.doc });
    const welcome = { type: 'welcome', version: 1, client: V.public };
    v.steps.forEach((s, i) => {
      let out;
      if (s.connect) out = core.receive(welcome);
      else if (s.reconnect) { core.disconnected(); out = core.receive(welcome); }
      else if (s.recv) out = core.receive(s.recv);
      else if (s.edit) out = core.edit(s.edit);
      else assert.fail(`step ${i}: no input`);
      const where = `step ${i} (${JSON.stringify(s.recv || s.edit || (s.connect ? 'connect' : 'reconnect'))})`;
      assert.equal(out.action, null, `${where}: no resync`);
      assert.deepEqual(out.send, s.send, `${where}: sent`);
      assert.equal(core.text, s.text, `${where}: text`);
      if (s.rev !== undefined) assert.equal(core.rev, s.rev, `${where}: rev`);
    });
  });
}
