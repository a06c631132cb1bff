// The core sends its own caret only when the server would hold another:
// not after one's own typing, nor after another editor's op, which move it
// for the server and every editor alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncCore } from '../static/js/sync.js';

/** @param {import('../static/js/sync.js').Output} out */
const carets = (out) => out.send.filter((m) => m.type === 'presence');

function joined(text = 'hello') {
  const core = new SyncCore({ doc: 'doc' });
  core.receive({ type: 'welcome', version: 1, client: 'pub-me' });
  core.receive({ type: 'joined', doc: 'doc', rev: 1, seq: 0, text });
  return core;
}

test('a caret typing moved is not sent again, before or after the ack', () => {
  const core = joined();
  assert.deepEqual(carets(core.caret(5, 5)), [{ type: 'presence', doc: 'doc', rev: 1, anchor: 5, head: 5 }]);
  core.edit([5, '!']);
  assert.deepEqual(carets(core.caret(6, 6)), [], 'in flight: the server moves it over the insert');
  core.receive({ type: 'ack', doc: 'doc', seq: 1, rev: 2 });
  assert.deepEqual(carets(core.caret(6, 6)), []);
  core.edit([6, '?']);
  assert.deepEqual(carets(core.caret(7, 7)), []);
  assert.deepEqual(carets(core.caret(0, 7)), [{ type: 'presence', doc: 'doc', rev: 2, anchor: 0, head: 6 }], 'a selection the typing did not make');
});

test('a caret another editor\'s op moved is not sent again', () => {
  const core = joined();
  core.caret(2, 2);
  core.receive({ type: 'op', doc: 'doc', rev: 2, client: 'pub-b', op: ['ab', 5] });
  assert.deepEqual(carets(core.caret(4, 4)), []);
  core.receive({ type: 'op', doc: 'doc', rev: 3, client: 'pub-b', op: [4, 'c', 3] });
  assert.deepEqual(carets(core.caret(4, 4)), [], 'an insert at the caret stays after it, for everyone');
  assert.deepEqual(carets(core.caret(5, 5)), [{ type: 'presence', doc: 'doc', rev: 3, anchor: 5, head: 5 }]);
});

test('a caret is sent again after an op concurrent with our edits', () => {
  const core = joined();
  core.caret(5, 5);
  core.edit([5, 'x']);
  core.receive({ type: 'op', doc: 'doc', rev: 2, client: 'pub-b', op: ['y', 5] });
  // The server holds 6, where we are; but an editor that applied the two
  // ops in the other order may put it elsewhere on a tie.
  assert.deepEqual(carets(core.caret(7, 7)), [{ type: 'presence', doc: 'doc', rev: 2, anchor: 6, head: 6 }]);
  core.receive({ type: 'ack', doc: 'doc', seq: 1, rev: 3 });
  assert.deepEqual(carets(core.caret(7, 7)), []);
});

test('a caret is sent again in a new session', () => {
  const core = joined();
  core.caret(3, 3);
  core.disconnected();
  core.receive({ type: 'welcome', version: 1, client: 'pub-me' });
  const out = core.receive({ type: 'joined', doc: 'doc', rev: 1, seq: 0, ops: [] });
  assert.deepEqual(carets(out), [{ type: 'presence', doc: 'doc', rev: 1, anchor: 3, head: 3 }]);
  assert.deepEqual(carets(core.caret(3, 3)), []);
});

test('an op of ours the core did not send moves the caret as the server moves it', () => {
  // Committed from an earlier connection, say: the server puts our caret
  // after its insert, the editor leaves it before.
  const core = joined();
  core.caret(5, 5);
  core.receive({ type: 'op', doc: 'doc', rev: 2, client: 'pub-me', seq: 9, op: [5, 'z'] });
  assert.deepEqual(carets(core.caret(5, 5)), [{ type: 'presence', doc: 'doc', rev: 2, anchor: 5, head: 5 }]);
  assert.deepEqual(carets(core.caret(5, 5)), []);
});
