// Unit tests of the comparison's workload and statistics (node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EditGen, summarize, cpLen } from './workload.mjs';

test('edits are deterministic for a seed and stay inside the text', () => {
  const run = (seed) => {
    const g = new EditGen(seed, 3, 200);
    let text = [];
    const out = [];
    for (let i = 0; i < 2000; i++) {
      const e = g.next(text.length);
      assert.ok(e.pos >= 0 && e.del >= 0 && e.pos + e.del <= text.length, `edit ${JSON.stringify(e)} outside ${text.length}`);
      text.splice(e.pos, e.del, ...Array.from(e.ins));
      out.push(e);
    }
    return { out, len: text.length };
  };
  const a = run(7);
  assert.deepEqual(run(7).out, a.out);
  assert.notDeepEqual(run(8).out, a.out);
  // Above maxLen three edits in four delete (up to 20), pastes still add up
  // to ~170: the length stays bounded, a few times maxLen at most.
  assert.ok(a.len < 1000, `text grew to ${a.len} code points with maxLen 200`);
  assert.ok(a.out.some((e) => cpLen(e.ins) !== e.ins.length), 'no astral characters (emoji) typed');
});

test('percentiles are nearest rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
  assert.deepEqual(summarize(xs), { count: 100, p50_ms: 50, p95_ms: 95, p99_ms: 99, max_ms: 100 });
  assert.deepEqual(summarize([]), { count: 0, p50_ms: 0, p95_ms: 0, p99_ms: 0, max_ms: 0 });
  assert.equal(summarize([9, 3]).p50_ms, 3);
});
