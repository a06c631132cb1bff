// SyncCore's options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncCore } from '../static/js/sync.js';

test('a reset rebases pending edits over the op of the diff option', () => {
  const calls = [];
  const replaceAll = (before, after) => {
    calls.push([before, after]);
    return [after, -[...before].length];
  };
  const core = new SyncCore({ doc: 'doc', diff: replaceAll });
  core.receive({ type: 'welcome', version: 1, client: 'pub-me' });
  core.receive({ type: 'joined', doc: 'doc', rev: 3, seq: 0, text: 'abc def' });
  assert.deepEqual(core.edit([4, 'X', 3]).send, [{ type: 'submit', doc: 'doc', rev: 3, seq: 1, op: [4, 'X', 3] }]);
  core.disconnected();
  core.receive({ type: 'welcome', version: 1, client: 'pub-me' });
  const out = core.receive({ type: 'joined', doc: 'doc', rev: 10, seq: 0, text: 'abc DEF', reset: true });
  // diffOp would keep "abc " and the insert before "DEF"; the whole
  // replacement puts it after.
  assert.deepEqual(out.send, [{ type: 'submit', doc: 'doc', rev: 10, seq: 1, op: [7, 'X'] }]);
  assert.equal(core.text, 'abc DEFX');
  assert.deepEqual(calls.at(-1), ['abc def', 'abc DEF']); // the first join's reports the change only
});
