// @ts-check
// The step runner of the client vectors (the format is in the "about" of
// testdata/client-vectors.json): it feeds a vector's steps through a fresh
// SyncCore and checks, after each input, what the core sent, its text and
// its revision. The client vectors' test and the replayer of the protocol
// simulation's transcripts (sim-replay.js) share it.
import assert from 'node:assert/strict';
import { SyncCore } from '../static/js/sync.js';
import { diffOp } from '../static/js/diff.js';

/**
 * runVector runs vector v of the vectors file V. It throws an
 * AssertionError at the first step the core does not follow. before, if
 * given, sees the core and each step before the step's input goes in;
 * onDiff learns, of each diff the step recorded and the core asked for,
 * whether the core's own diff is the same.
 * @param {any} V @param {any} v
 * @param {{before?: (core: SyncCore, step: any) => void, onDiff?: (same: boolean) => void}} [hooks]
 */
export function runVector(V, v, { before, onDiff } = {}) {
  /** @type {any} */
  let step = null;
  // A step's diffs are the recording client's: the core asking for the
  // same one gets the same op (the clients' diffs may differ).
  const diff = (/** @type {string} */ a, /** @type {string} */ b) => {
    const d = (step.diffs || []).find((/** @type {any} */ x) => x.before === a && x.after === b);
    if (!d) return diffOp(a, b);
    if (onDiff) onDiff(JSON.stringify(diffOp(a, b)) === JSON.stringify(d.op));
    return d.op;
  };
  const core = new SyncCore({ doc: v.doc ?? V.doc, diff });
  let welcome = { type: 'welcome', version: 1, client: v.public ?? V.public };
  v.steps.forEach((/** @type {any} */ s, /** @type {number} */ i) => {
    const where = `step ${i}${s.at === undefined ? '' : ` (simulation step ${s.at})`} ${describe(s)}`;
    step = s;
    if (before) before(core, s);
    if (s.welcome) welcome = s.welcome;
    const out = input(core, s, welcome, where);
    assert.equal(out.action, s.action ?? null, `${where}: action`);
    let sent = out.send;
    let want = s.send;
    if (out.action === 'resync') {
      // The transport closes the connection and joins on a new one, where
      // the Go client leaves and joins on the same one, for the whole text
      // unless the server said not_joined: the leave and the join's rev are
      // not compared.
      core.disconnected();
      sent = [...sent, ...core.receive(welcome).send].map(withoutJoinRev);
      want = want.filter((/** @type {any} */ m) => m.type !== 'leave').map(withoutJoinRev);
    }
    assert.deepEqual(sent, want, `${where}: sent`);
    assert.equal(core.text, s.text, `${where}: text`);
    if (s.rev !== undefined) assert.equal(core.rev, s.rev, `${where}: rev`);
  });
}

/** @param {SyncCore} core @param {any} s @param {object} welcome @param {string} where */
function input(core, s, welcome, where) {
  if (s.connect) return core.receive(welcome);
  if (s.reconnect) {
    core.disconnected();
    return core.receive(welcome);
  }
  if (s.disconnect) return core.disconnected();
  if (s.recv) return core.receive(s.recv);
  if (s.edit) return core.edit(s.edit);
  return assert.fail(`${where}: no input`);
}

/** @param {any} s */
function describe(s) {
  if (s.recv || s.edit) return JSON.stringify(s.recv || s.edit);
  return s.connect ? 'connect' : s.reconnect ? 'reconnect' : 'disconnect';
}

/** @param {any} m */
function withoutJoinRev(m) {
  if (m.type !== 'join') return m;
  const { rev, ...rest } = m;
  return rest;
}
