// @ts-check
// sim-replay feeds the transcripts of the protocol simulation's Go clients
// (collab/internal/sim, TestSimJavaScriptCore) through the browser's sync
// core, which must send and hold what the Go client did after every step:
//
//	node web/jstest/sim-replay.js seed-1.json seed-2.json …
//
// A transcript is a file of client vectors (testdata/client-vectors.json's
// format, with the simulation's fields described in its "about"), one
// vector per client of a seed. It prints a line for each transcript the
// core does not follow (with the step and the difference for the first
// few), then, as JSON, how many steps of each kind it fed
// the core, and exits 1 if any did not follow.
import { readFileSync } from 'node:fs';
import { runVector } from './vector-steps.js';

/** @type {Record<string, number>} */
const counts = {};
/** @param {string} kind */
const count = (kind) => { counts[kind] = (counts[kind] || 0) + 1; };

/**
 * kinds names what a step is to a core in this state: the cases the
 * simulation is meant to reach.
 * @param {import('../static/js/sync.js').SyncCore} core @param {any} s
 */
function tally(core, s) {
  if (s.action) count(`action ${s.action}`);
  for (const m of s.send) {
    if (m.type === 'submit' && m.seq <= core.lastSeq) count('submit under a seq sent before');
  }
  if (s.edit) return count('edit');
  if (!s.recv) return count(s.connect ? 'connect' : 'disconnect');
  const m = s.recv;
  const pending = core.hasPending ? ', pending ops' : '';
  const inflight = core.inflight;
  switch (m.type) {
    case 'joined':
      if (typeof m.text !== 'string') {
        count(`joined ops${pending}`);
        if (inflight && (m.ops || []).some((/** @type {any} */ r) => r.client === core.publicId && r.seq === inflight.seq)) {
          count('joined ops hold the lost ack');
        }
      } else if (core.joined || core.rev > 0 || core.hasPending) {
        count(`joined ${m.reset ? 'reset' : 'text'} on a known text${pending}`);
        if (inflight && inflight.seq <= m.seq) count('joined text: the op in flight is committed');
      } else {
        count('joined first');
      }
      return;
    case 'ack':
      return count(inflight && inflight.seq === m.seq ? 'ack' : 'ack of no op in flight (duplicate)');
    case 'op':
      return count(inflight && m.client === core.publicId && m.seq === inflight.seq ? 'op echoing the op in flight' : 'op');
    case 'error':
      return count(`error ${m.code}`);
    default:
      return count(m.type);
  }
}

// Past the first few, a failure is named without its details.
const DETAILED = 5;
let failed = 0;
for (const file of process.argv.slice(2)) {
  const V = JSON.parse(readFileSync(file, 'utf8'));
  for (const v of V.vectors) {
    try {
      runVector(V, v, { before: tally, onDiff: (same) => count(same ? 'reset diff: the same in both clients' : 'reset diff: the Go client\'s differs, used') });
    } catch (e) {
      failed++;
      const why = failed <= DETAILED ? `: ${e instanceof Error ? e.message : e}` : '';
      console.log(`FAIL seed=${V.seed} ${v.name} (${file})${why}`);
    }
  }
}
console.log(JSON.stringify(counts));
process.exit(failed ? 1 : 0);
