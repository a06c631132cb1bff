// Failures the person must be told of, and recover from: large edits,
// refused edits, a deleted document, an origin the server refuses, a dead
// connection, carets of editors we can no longer see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ot from '../static/js/ot.js';
import { split, budgetFor, resolveLimits, DEFAULT_LIMITS } from '../static/js/split.js';
import { describeStatus } from '../static/js/client.js';
import { MemStorage, FakeTimers, Server, Net, newClient, lastSocket, onlineClient, type, sent, rng } from './fake.js';

const records = (st) => [...st.m.keys()].filter((k) => k.startsWith('collab:pending:')).length;
const bytes = (v) => Buffer.byteLength(JSON.stringify(v));

function reconnect(net, c) {
  c.timers.fireAll();
  const s = lastSocket(net);
  s.open();
  return s;
}

// randomBigOp makes an op on a text of n code points with many components
// and long inserts of mixed scripts and escapes.
function randomBigOp(r, n) {
  const b = new ot.Builder();
  const alphabet = ['a', 'é', '<', '"', '\n', '字', '😀', ' '];
  let left = n;
  while (left > 0 || r() < 0.3) {
    const k = r();
    if (k < 0.35 && left > 0) { const m = 1 + Math.floor(r() * Math.min(left, 50)); b.retain(m); left -= m; } else if (k < 0.6 && left > 0) {
      const m = 1 + Math.floor(r() * Math.min(left, 50)); b.delete(m); left -= m;
    } else {
      let s = '';
      const len = Math.floor(r() * 3000);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
      b.insert(s);
    }
    if (left === 0 && r() < 0.7) break;
  }
  return b.done();
}

test('split: pieces fit the budget and compose to the edit', () => {
  const r = rng(3);
  const limits = { frame: 4096, doc: 1 << 20, op: 4096, components: 64 };
  const budget = budgetFor(limits, 'notes');
  for (let round = 0; round < 50; round++) {
    const n = Math.floor(r() * 2000);
    const text = 'x'.repeat(n);
    const op = randomBigOp(r, n);
    let rest = op;
    let composed = null;
    let pieces = 0;
    for (;;) {
      const p = split(budget, rest);
      const first = p ? p[0] : rest;
      assert.ok(bytes(first) <= budget.bytes, `round ${round}: a piece of ${bytes(first)} bytes over ${budget.bytes}`);
      assert.ok(first.length <= budget.items, `round ${round}: ${first.length} components`);
      composed = composed ? ot.compose(composed, first) : first;
      pieces++;
      if (!p) break;
      rest = p[1];
      assert.ok(pieces < 10000, 'progress');
    }
    assert.equal(ot.apply(text, composed), ot.apply(text, op), `round ${round}: pieces compose to the edit`);
  }
});

test('split: a replacement goes deletes first; limits left out are the defaults', () => {
  const budget = budgetFor({ ...DEFAULT_LIMITS, frame: 2048, op: 2048 }, 'notes');
  const op = [-3000, 'y'.repeat(3000)];
  const p = split(budget, op);
  assert.deepEqual(p[0], [-3000]);
  assert.deepEqual(resolveLimits({ frame: 10 }), { ...DEFAULT_LIMITS, frame: 10 });
  assert.deepEqual(resolveLimits(undefined), DEFAULT_LIMITS);
});

test('a large paste is sent in pieces that each fit a frame, and reaches the others', () => {
  const server = new Server();
  server.limits = { frame: 4096, doc: 1 << 20, op: 4096, components: 1000 };
  const net = new Net(server);
  const a = onlineClient(net, { name: 'a' });
  const b = onlineClient(net, { name: 'b' });
  net.settle();
  const paste = 'paste 😀 '.repeat(3000);
  type(a, paste);
  net.settle();
  assert.ok(server.submits.length > 5, `${server.submits.length} submits`);
  for (const m of server.submits) assert.ok(bytes(m) <= 4096);
  assert.equal(server.text, paste);
  assert.equal(b.text, paste);
  assert.equal(a.state, 'synced');
});

test('an edit over the document limit is refused once, before sending, and leaves nothing to resend', () => {
  const server = new Server();
  server.limits = { frame: 4096, doc: 10000, op: 4096, components: 1000 };
  const net = new Net(server);
  const storage = new MemStorage();
  const a = onlineClient(net, { storage });
  net.settle();
  type(a, 'kept');
  net.settle();
  const refused = [];
  a.addEventListener('refused', (e) => refused.push(e.detail));
  const big = 'z'.repeat(20000);
  type(a, 'kept' + big);
  net.settle();
  assert.equal(refused.length, 1);
  assert.equal(refused[0].code, 'doc_too_large');
  assert.equal(refused[0].text, big);
  assert.equal(a.text, 'kept', 'the refused edit left the text');
  assert.equal(server.submits.length, 1, 'nothing of it was sent');
  assert.equal(records(storage), 0, 'nothing left in the outbox');
  assert.equal(a.state, 'synced');
});

test('an edit the server refuses for good leaves the text and is never resent, also after reconnecting', () => {
  for (const code of ['doc_too_large', 'invalid_op', 'read_only']) {
    const server = new Server();
    const net = new Net(server);
    const storage = new MemStorage();
    const a = onlineClient(net, { storage });
    net.settle();
    const refused = [];
    a.addEventListener('refused', (e) => refused.push(e.detail));
    server.refuseSubmits = code;
    type(a, 'nope');
    net.settle();
    assert.deepEqual(refused.map((r) => [r.code, r.text]), [[code, 'nope']], code);
    assert.equal(a.text, '', code);
    assert.equal(records(storage), 0, `${code}: the outbox is empty`);
    lastSocket(net).drop();
    reconnect(net, a);
    net.settle();
    assert.equal(server.submits.length, 1, `${code}: never resent`);
  }
});

test('a refused op in flight leaves later edits pending and sent', () => {
  const server = new Server();
  const net = new Net(server);
  const a = onlineClient(net);
  net.settle();
  const s = lastSocket(net);
  type(a, 'bad');
  a.applyLocal([3, ', good']);
  server.refuseSubmits = 'invalid_op';
  s.deliverToServer();
  server.refuseSubmits = '';
  net.settle();
  assert.equal(a.text, ', good');
  assert.equal(server.text, ', good');
});

test('the server closing with 1009 refuses the op in flight instead of resending it', () => {
  const server = new Server();
  server.limits = { frame: 100000, doc: 1 << 20, op: 100000, components: 1000 };
  const net = new Net(server);
  const a = onlineClient(net);
  net.settle();
  server.limits.frame = 200; // a server that takes less than it said
  const refused = [];
  a.addEventListener('refused', (e) => refused.push(e.detail.code));
  type(a, 'w'.repeat(500));
  net.settle();
  assert.deepEqual(refused, ['doc_too_large']);
  reconnect(net, a);
  net.settle();
  assert.equal(server.submits.length, 1);
  assert.equal(a.text, '');
});

test('a document deleted while open: told, text kept, nothing recreated unless chosen', () => {
  const server = new Server();
  const net = new Net(server);
  const a = onlineClient(net);
  net.settle();
  type(a, 'my text');
  net.settle();
  const deleted = [];
  a.addEventListener('deleted', (e) => deleted.push(e.detail));
  server.deleteDoc('notes', 'Bo');
  net.settle();
  assert.deepEqual(deleted, [{ by: 'Bo' }]);
  assert.equal(a.state, 'deleted');
  assert.equal(describeStatus(a.statusDetail()), 'This document was deleted');
  assert.equal(a.text, 'my text');
  a.timers.fireAll();
  net.settle();
  assert.equal(server.joins, 1, 'no join after the deletion');
  assert.equal(server.text, '');

  a.recreate();
  lastSocket(net).open();
  net.settle();
  assert.equal(server.text, 'my text');
  assert.equal(a.state, 'synced');
});

test('a resume at a revision lower than ours means the document was deleted: nothing is resubmitted', () => {
  const server = new Server();
  const net = new Net(server);
  const a = onlineClient(net);
  net.settle();
  type(a, 'one two');
  net.settle();
  lastSocket(net).drop();
  type(a, 'one two three');
  server.text = ''; server.log = []; server.seqs = new Map(); // deleted while a was away
  const deleted = [];
  a.addEventListener('deleted', (e) => deleted.push(e.detail));
  reconnect(net, a);
  net.settle();
  assert.equal(deleted.length, 1);
  assert.equal(server.text, '');
  assert.equal(a.text, 'one two three');
});

test('an origin the server refuses: the client asks /api/origin-check and says what to set', async () => {
  const net = new Net(new Server());
  const asked = [];
  let answered;
  const done = new Promise((r) => { answered = r; });
  const fetch = async (url) => {
    asked.push(url);
    answered();
    return { ok: true, json: async () => ({ allowed: false, origin: 'https://blog.example', setting: '-allowed-origins' }) };
  };
  const c = newClient(net, { fetch });
  lastSocket(net).refuse();
  await done;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(asked, ['http://example.test:8080/api/origin-check']);
  assert.equal(c.state, 'error');
  assert.match(describeStatus(c.statusDetail()), /https:\/\/blog\.example.*not allowed.*-allowed-origins/);
  assert.equal(c.timers.list.length, 0, 'no more attempts');
});

test('an origin refusal is found also when the server could not be asked at the first failure', async () => {
  const net = new Net(new Server());
  const asked = [];
  let answer = null; // null: the server is unreachable
  const fetch = async (url) => {
    asked.push(url);
    if (!answer) throw new TypeError('Failed to fetch');
    return { ok: true, json: async () => answer };
  };
  const settle = () => new Promise((r) => setImmediate(r));
  const c = newClient(net, { fetch });
  lastSocket(net).refuse(); // the server is down as the page loads
  await settle();
  assert.equal(asked.length, 1);
  assert.equal(c.state, 'offline');
  answer = { allowed: false, origin: 'https://blog.example', setting: '-allowed-origins' };
  c.timers.fireAll();
  lastSocket(net).refuse(); // it is up now, and refuses this origin
  await settle();
  assert.equal(asked.length, 2, 'asked again: the first question got no answer');
  assert.equal(c.state, 'error');
  assert.match(describeStatus(c.statusDetail()), /https:\/\/blog\.example.*not allowed.*-allowed-origins/);
});

test('once the server answered that the origin is allowed, failed attempts do not ask again until a connection opens', async () => {
  const net = new Net(new Server());
  const asked = [];
  const fetch = async (url) => { asked.push(url); return { ok: true, json: async () => ({ allowed: true, origin: 'https://blog.example' }) }; };
  const settle = () => new Promise((r) => setImmediate(r));
  const c = newClient(net, { fetch });
  for (let i = 0; i < 3; i++) {
    lastSocket(net).refuse();
    await settle();
    c.timers.fireAll();
  }
  assert.equal(asked.length, 1);
  lastSocket(net).open();
  net.settle();
  lastSocket(net).drop(); // a connection that opened, then a failure to reconnect
  c.timers.fireAll();
  lastSocket(net).refuse();
  await settle();
  assert.equal(asked.length, 2);
  assert.equal(c.state, 'offline');
});

test('a submit left unanswered gives the connection up; online and visible reconnect at once', () => {
  const net = new Net(new Server());
  const watchdog = new FakeTimers();
  const page = new EventTarget();
  page.document = { visibilityState: 'visible' };
  const c = newClient(net, { watchdog, page });
  const s = lastSocket(net);
  s.open();
  net.settle();
  type(c, 'x');
  assert.equal(watchdog.list.filter((t) => t.ms === 8000).length, 1, 'an answer is awaited');
  watchdog.fireAll(); // the server said nothing for too long
  assert.equal(c.state, 'offline');
  assert.equal(describeStatus(c.statusDetail()), 'Offline — your changes are kept on this device');
  assert.ok(c.timers.list[0].ms <= 4000, 'a short backoff while visible');
  const before = net.sockets.length;
  page.dispatchEvent(new Event('online'));
  assert.equal(net.sockets.length, before + 1, 'online reconnects at once');
  lastSocket(net).open();
  net.settle();
  assert.equal(c.state, 'synced');

  page.dispatchEvent(new Event('offline'));
  assert.equal(c.state, 'offline', 'offline gives the socket up at once');
  const n = net.sockets.length;
  page.dispatchEvent(new Event('visibilitychange'));
  assert.equal(net.sockets.length, n + 1, 'becoming visible reconnects at once');
  c.destroy();
});

test('the backoff stays at most 4 s while the page is visible, and grows to 30 s while hidden', () => {
  const page = new EventTarget();
  page.document = { visibilityState: 'visible' };
  const net = new Net(new Server());
  const c = newClient(net, { page });
  const delays = () => {
    const out = [];
    for (let i = 0; i < 10; i++) {
      lastSocket(net).refuse();
      out.push(c.timers.list[0].ms);
      c.timers.fireAll();
    }
    return out;
  };
  const visible = delays();
  assert.ok(visible.every((ms) => ms <= 4000), `visible: ${visible}`);
  assert.equal(visible[9], 3000, 'capped, not shrunk: 4 s with half of it random');
  page.document.visibilityState = 'hidden';
  const hidden = delays();
  assert.ok(hidden.some((ms) => ms > 4000), `hidden: ${hidden}`);
  assert.equal(hidden[9], 22500, 'up to 30 s with half of it random');
  c.destroy();
});

test('other editors are stale as soon as our connection drops, and gone when they leave', () => {
  const server = new Server();
  const net = new Net(server);
  const a = onlineClient(net, { name: 'a' });
  const b = onlineClient(net, { name: 'b' });
  net.settle();
  b.sendPresence(0, 0);
  net.settle();
  assert.equal(a.core.peers.length, 1);
  assert.ok(!a.core.peers[0].stale);
  const socketA = net.sockets[0];
  socketA.drop();
  assert.equal(a.core.peers.length, 1);
  assert.ok(a.core.peers[0].stale, 'stale while disconnected');
  assert.deepEqual(sent(lastSocket(net)).filter((m) => m.type === 'leave'), []);

  // Back online: the server lists the editors again; one it no longer
  // lists (b left meanwhile) is gone, not kept stale.
  const socketA2 = reconnect(net, a);
  net.settle();
  assert.deepEqual(a.core.peers, [], 'an editor the server no longer lists is gone');
  const say = (m) => socketA2.onmessage({ data: JSON.stringify({ doc: 'notes', ...m }) });
  say({ type: 'editor', client: 'pub-b', name: 'b', event: 'join' });
  say({ type: 'presence', client: 'pub-b', name: 'b', rev: a.serverRev, anchor: 0, head: 0 });
  assert.equal(a.core.peers.length, 1);
  assert.ok(!a.core.peers[0].stale, 'listed again: not stale');
  say({ type: 'editor', client: 'pub-b', name: 'b', event: 'leave' });
  assert.deepEqual(a.core.peers, [], 'gone when the server says they left');
});

test('split: the pieces of the shared vectors, as the Go client cuts them', async () => {
  const { readFile } = await import('node:fs/promises');
  const vs = JSON.parse(await readFile(new URL('../../testdata/split-vectors.json', import.meta.url), 'utf8'));
  assert.ok(vs.length > 0);
  vs.forEach((v, i) => {
    const b = budgetFor(resolveLimits(v.limits), v.doc);
    const pieces = [];
    let op = ot.fromWire(v.op);
    for (;;) {
      const p = split(b, op);
      pieces.push(p ? p[0] : op);
      if (!p) break;
      op = p[1];
    }
    assert.deepEqual(pieces, v.pieces.map(ot.fromWire), `vector ${i}`);
  });
});

test('a silent connection is pinged, kept when the server answers and given up when it does not', () => {
  const net = new Net(new Server());
  const watchdog = new FakeTimers();
  const c = newClient(net, { watchdog });
  const s = lastSocket(net);
  s.open();
  net.settle();
  assert.equal(c.state, 'synced');
  const quiet = () => watchdog.list.filter((t) => t.ms === 10000);
  assert.equal(quiet().length, 1, 'the silence is timed');
  const fire = (t) => { watchdog.clearTimeout(t.id); t.fn(); };
  fire(quiet()[0]);
  const pings = () => sent(s).filter((m) => m.type === 'ping').length;
  assert.equal(pings(), 1, 'a ping after the silence');
  net.settle(); // the server answers pong
  assert.equal(c.state, 'synced');
  assert.equal(watchdog.list.filter((t) => t.ms === 8000).length, 0, 'the answer came: nothing awaited');
  assert.equal(quiet().length, 1, 'the next silence is timed');

  const before = pings();
  fire(quiet()[0]); // silence again, and this time the server says nothing
  assert.equal(pings(), before + 1, 'a ping after the next silence');
  const answer = watchdog.list.find((t) => t.ms === 8000);
  assert.ok(answer, 'the ping awaits an answer');
  fire(answer);
  assert.equal(c.state, 'offline', 'an unanswered ping gives the connection up');
});
