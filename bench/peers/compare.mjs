// Runs one editing workload through ShareDB, collabd and (optionally)
// y-websocket, each with its own JavaScript client in this node process,
// and prints the results and their ratios to the first system. See
// docs/benchmarks.md ("Peer comparison").
//
//   node bench/peers/compare.mjs [--docs 20] [--editors 4] [--rate 0]
//        [--duration 10] [--seed 1] [--systems sharedb,collabd,yjs] [--json]
//
// --rate R: edits per second per editor; 0: as fast as acks allow (the next
// edit is made when the last is acknowledged). Both clients keep one submit
// in flight per document and compose later edits.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { EditGen, summarize } from './workload.mjs';
import * as systems from './systems.mjs';

const { values: a } = parseArgs({
  options: {
    docs: { type: 'string', default: '20' },
    editors: { type: 'string', default: '4' },
    rate: { type: 'string', default: '0' },
    duration: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    'max-len': { type: 'string', default: '2000' },
    drain: { type: 'string', default: '30' },
    systems: { type: 'string', default: 'sharedb,collabd' },
    // ShareDB limits neither messages per connection nor new connections
    // per IP: lift collabd's (200 msg/s, 10 connections/s).
    'collabd-flags': { type: 'string', default: '-rate 1000000 -burst 1000000 -conn-rate 0 -max-conns-per-ip 0 -log-level warn' },
    json: { type: 'boolean', default: false },
  },
});
const opts = {
  docs: +a.docs, editors: +a.editors, rate: +a.rate, duration: +a.duration * 1000,
  seed: +a.seed, maxLen: +a['max-len'], drain: +a.drain * 1000,
  collabdFlags: a['collabd-flags'].split(/\s+/).filter(Boolean),
};
const log = (...x) => console.error(...x);

function procUsage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (+f[11] + +f[12]) / 100; // seconds (USER_HZ = 100)
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu, rssMB: m ? +m[1] / 1024 : 0 };
}

async function runSystem(sys) {
  const srv = await sys.start(opts);
  try {
    return await drive(sys, srv);
  } finally {
    await srv.stop();
  }
}

async function drive(sys, srv) {
  const runID = Math.random().toString(16).slice(2, 8);
  const others = opts.editors - 1;
  const c = { edits: 0, acks: 0, deliveries: 0, errors: 0 };
  const ackLat = [];
  const delLat = [];
  let open = 0; // revisions missing their ack or an arrival
  const docs = [];

  // Connect: each document's editors in order (ShareDB's first creates it),
  // documents in parallel batches.
  const connStart = performance.now();
  for (let b = 0; b < opts.docs; b += 50) {
    const batch = [];
    for (let i = b; i < Math.min(opts.docs, b + 50); i++) {
      batch.push((async () => {
        const d = { id: `peer-${runID}-${i}`, revs: new Map(), editors: [] };
        docs[i] = d;
        for (let j = 0; j < opts.editors; j++) d.editors.push(await openEditor(d, i, j));
      })());
    }
    await Promise.all(batch);
  }
  log(`${sys.short}: ${opts.docs * opts.editors} connections in ${((performance.now() - connStart) / 1000).toFixed(1)} s`);

  function entry(d, key) {
    let e = d.revs.get(key);
    if (!e) { e = { sent: 0, known: false, early: [], arrived: 0 }; d.revs.set(key, e); open++; }
    return e;
  }
  function settle(d, key, e) {
    if (e.known && e.arrived >= others) { d.revs.delete(key); open--; }
  }

  async function openEditor(d, i, j) {
    const ed = { gen: new EditGen(opts.seed, i * opts.editors + j, opts.maxLen), sent: new Map(), seen: new Set(), typing: false, api: null };
    const hooks = {
      submit(seq) { ed.sent.set(seq, performance.now()); },
      ack(seq, key) {
        const now = performance.now();
        const t = ed.sent.get(seq);
        if (t === undefined) return; // a duplicate ack after a resubmit
        ed.sent.delete(seq);
        c.acks++;
        ackLat.push(now - t);
        if (others > 0) {
          const e = entry(d, key);
          e.sent = t; e.known = true;
          for (const x of e.early) delLat.push(x - t);
          e.arrived += e.early.length; e.early = [];
          settle(d, key, e);
        }
        if (ed.typing && opts.rate === 0) setImmediate(() => { if (ed.typing && !ed.api.pending()) edit(ed); });
      },
      op(key) {
        if (ed.seen.has(key)) return; // ShareDB may send a missed op twice
        ed.seen.add(key);
        const now = performance.now();
        c.deliveries++;
        const e = entry(d, key);
        if (!e.known) { e.early.push(now); return; }
        delLat.push(now - e.sent);
        e.arrived++;
        settle(d, key, e);
      },
      // sent: a system without acks (Yjs) reports when an update left.
      sent(key) {
        if (others === 0) return;
        const e = entry(d, key);
        e.sent = performance.now(); e.known = true;
        for (const x of e.early) delLat.push(x - e.sent);
        e.arrived += e.early.length; e.early = [];
        settle(d, key, e);
      },
      // delivered: an op that arrived but cannot be timed (see systems.mjs).
      delivered() { c.deliveries++; },
      error() { c.errors++; },
    };
    ed.api = await sys.open(srv, d.id, j, hooks);
    return ed;
  }

  function edit(ed) {
    const { pos, del, ins } = ed.gen.next(ed.api.len());
    ed.api.apply(pos, del, ins);
    c.edits++;
  }

  const u0 = procUsage(srv.pid);
  const self0 = process.cpuUsage();
  let rssMax = u0.rssMB;
  const t0 = performance.now();
  const timers = [];
  for (const d of docs) {
    for (const ed of d.editors) {
      ed.typing = true;
      if (opts.rate > 0) {
        const every = 1000 / opts.rate;
        timers.push(setTimeout(() => {
          edit(ed);
          timers.push(setInterval(() => edit(ed), every));
        }, Math.random() * every));
      } else {
        edit(ed);
      }
    }
  }
  let last = { ...c };
  const prog = setInterval(() => {
    rssMax = Math.max(rssMax, procUsage(srv.pid).rssMB);
    log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${sys.short}: acks ${c.acks - last.acks}/s  deliveries ${c.deliveries - last.deliveries}/s  errors ${c.errors}`);
    last = { ...c };
  }, 1000);
  await new Promise((r) => setTimeout(r, opts.duration));
  const window = (performance.now() - t0) / 1000;
  const atEnd = { ...c };
  const u1 = procUsage(srv.pid);
  const self1 = process.cpuUsage(self0);
  for (const d of docs) for (const ed of d.editors) ed.typing = false;
  for (const t of timers) { clearTimeout(t); clearInterval(t); }
  clearInterval(prog);

  // Drain: every edit acknowledged, every op delivered.
  const busy = () => docs.some((d) => d.editors.some((ed) => ed.api.pending()));
  const drainStart = performance.now();
  while ((busy() || open > 0) && performance.now() - drainStart < opts.drain) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const drained = !busy() && open === 0;

  let diverged = 0;
  let first = '';
  for (const d of docs) {
    const want = await sys.serverText(srv, d.id);
    const bad = d.editors.findIndex((ed) => ed.api.text() !== want);
    if (bad >= 0) { diverged++; if (!first) first = `${d.id}: editor ${bad} differs from the server`; }
  }
  for (const d of docs) for (const ed of d.editors) ed.api.close();

  return {
    system: sys.name,
    docs: opts.docs, editors: opts.editors, rate: opts.rate, seed: opts.seed, duration_s: +window.toFixed(3),
    edits: atEnd.edits, acks_per_s: +(atEnd.acks / window).toFixed(1), deliveries_per_s: +(atEnd.deliveries / window).toFixed(1),
    submit_to_ack: summarize(ackLat), submit_to_others: summarize(delLat),
    errors: c.errors,
    server_cpu_percent: +(((u1.cpu - u0.cpu) / window) * 100).toFixed(1),
    server_rss_max_mb: +rssMax.toFixed(1),
    loadgen_cpu_percent: +(((self1.user + self1.system) / 1e6 / window) * 100).toFixed(1),
    drained, converged: diverged === 0,
    convergence: diverged === 0 ? `all ${opts.docs} documents equal the server's` : `${diverged} documents diverged; first: ${first}`,
  };
}

function table(results) {
  const rows = [
    ['acks/s', (r) => r.acks_per_s],
    ['deliveries/s', (r) => r.deliveries_per_s],
    ['submit→ack p50 ms', (r) => r.submit_to_ack.p50_ms],
    ['submit→ack p99 ms', (r) => r.submit_to_ack.p99_ms],
    ['submit→others p50 ms', (r) => r.submit_to_others.p50_ms],
    ['submit→others p99 ms', (r) => r.submit_to_others.p99_ms],
    ['server CPU %', (r) => r.server_cpu_percent],
    ['server RSS max MB', (r) => r.server_rss_max_mb],
    ['load generator CPU %', (r) => r.loadgen_cpu_percent],
    ['errors', (r) => r.errors],
    ['converged', (r) => r.converged],
  ];
  const names = results.map((r) => r.system.split(' ')[0]);
  // Ratios of every other system to the first one.
  const head = ['', ...names, ...names.slice(1).map((n) => `${n}/${names[0]}`)];
  const out = [head];
  for (const [label, f] of rows) {
    const vals = results.map(f);
    const row = [label, ...vals.map(String)];
    for (const v of vals.slice(1)) row.push(typeof vals[0] === 'number' && vals[0] && typeof v === 'number' ? (v / vals[0]).toFixed(2) : '');
    out.push(row);
  }
  const w = head.map((_, i) => Math.max(...out.map((r) => r[i].length)));
  return out.map((r) => r.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ')).join('\n');
}

const results = [];
for (const name of a.systems.split(',')) {
  const sys = systems[name];
  if (!sys) throw new Error(`unknown system ${name}: want sharedb, collabd or yjs`);
  if (sys.noAcks && opts.rate === 0) {
    log(`${sys.name}: skipped, "as fast as acks allow" needs acks (use --rate R)`);
    continue;
  }
  log(`${sys.name}: ${opts.docs} docs × ${opts.editors} editors, ${opts.rate ? opts.rate + ' edits/s each' : 'as fast as acks allow'}, ${opts.duration / 1000} s`);
  results.push(await runSystem(sys));
}
if (a.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log(`${opts.docs} documents × ${opts.editors} editors, ${opts.rate ? opts.rate + ' edits/s per editor' : 'as fast as acks allow'}, ${opts.duration / 1000} s, seed ${opts.seed}`);
  console.log(table(results));
  for (const r of results) console.log(`${r.system}: ${r.convergence}${r.drained ? '' : ' (NOT DRAINED)'}`);
}
const failed = results.some((r) => !r.converged || !r.drained);
process.exitCode = failed ? 1 : 0;
