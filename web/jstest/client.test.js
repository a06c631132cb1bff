import { test } from 'node:test';
import * as ot from '../static/js/ot.js';
import assert from 'node:assert/strict';
import { wsURL, describeStatus } from '../static/js/client.js';
import { MemStorage, FakeTimers, Server, Net, newClient, lastSocket, onlineClient, type, sent, rng } from './fake.js';

// records counts the records of unsent edits in storage.
const records = (st) => [...st.m.keys()].filter((k) => k.startsWith('collab:pending:')).length;

test('wsURL', () => {
  assert.equal(wsURL('http://h:8080'), 'ws://h:8080/ws');
  assert.equal(wsURL('https://h/base/'), 'wss://h/base/ws');
});

test('one submit in flight, later edits composed into a buffer', () => {
  const net = new Net(new Server());
  const c = newClient(net);
  const s = lastSocket(net);
  s.open();
  net.settle();
  assert.equal(c.state, 'synced');
  type(c, 'a');
  type(c, 'ab');
  type(c, 'abc');
  let subs = sent(s).filter((m) => m.type === 'submit');
  assert.deepEqual(subs, [{ type: 'submit', doc: 'notes', rev: 0, seq: 1, op: ['a'] }]);
  assert.equal(c.state, 'saving');
  assert.equal(c.pendingCount, 3);
  assert.equal(describeStatus(c.statusDetail()), 'Saving…');
  s.deliverToServer();
  s.deliverToClient(); // ack 1: the buffer goes out as seq 2
  subs = sent(s).filter((m) => m.type === 'submit');
  assert.deepEqual(subs, [{ type: 'submit', doc: 'notes', rev: 1, seq: 2, op: [1, 'bc'] }]);
  net.settle();
  assert.equal(net.server.text, 'abc');
  assert.equal(c.state, 'synced');
  assert.equal(c.serverRev, 2);
});

test('remote ops are transformed against pending edits; both sides converge', () => {
  const net = new Net(new Server());
  const a = onlineClient(net, { name: 'Ada' });
  const b = onlineClient(net, { name: 'Bo' });
  net.settle();
  type(a, 'hello');
  net.settle();
  // Both type at once: nothing delivered until both have edits pending.
  type(a, 'hello world');
  type(a, 'hello world!');
  type(b, 'Hhello');
  type(b, 'Hhello😀');
  net.settle();
  assert.equal(a.text, net.server.text);
  assert.equal(b.text, net.server.text);
  // Both inserted at the end of "hello": the op committed first goes first.
  assert.equal(net.server.text, 'Hhello world!😀');
});

test('reconnect: a lost ack is found in joined.ops and nothing is applied twice', () => {
  const net = new Net(new Server());
  const c = newClient(net);
  const s1 = lastSocket(net);
  s1.open();
  net.settle();
  type(c, 'x');
  s1.deliverToServer(); // the server commits seq 1 …
  type(c, 'xy');        // … a second edit waits in the buffer …
  s1.drop();            // … and the ack is lost with the connection.
  assert.equal(c.state, 'offline');
  assert.equal(describeStatus(c.statusDetail()), 'Offline — your changes are kept on this device');
  type(c, 'xyz'); // typing goes on while offline
  assert.equal(c.timers.list.length, 1, 'a reconnect is scheduled');
  assert.ok(c.timers.list[0].ms >= 250 && c.timers.list[0].ms <= 500, `first backoff ${c.timers.list[0].ms}`);
  c.timers.fireAll();
  const s2 = lastSocket(net);
  assert.notEqual(s2, s1);
  s2.open();
  s2.deliverToServer(); // hello with the same client id
  assert.equal(net.server.seqs.get(c.client), 1);
  s2.deliverToClient(); // welcome → join with rev
  assert.deepEqual(sent(s2)[0], { type: 'join', doc: 'notes', rev: 0 });
  net.settle();
  assert.equal(net.server.text, 'xyz');
  assert.equal(c.text, 'xyz');
  assert.equal(net.server.rev, 2, 'seq 1 applied once, the buffer once');
  assert.equal(c.state, 'synced');
});

test('reconnect: a resubmitted op keeps its seq and is acknowledged once', () => {
  const net = new Net(new Server());
  const other = onlineClient(net, { name: 'Bo' });
  const c = newClient(net);
  const s1 = lastSocket(net);
  s1.open();
  net.settle();
  type(c, 'abc');
  s1.drop(); // the submit never reached the server
  type(other, 'Z');
  net.settle();
  c.timers.fireAll();
  lastSocket(net).open();
  net.settle();
  assert.equal(net.server.text, other.text);
  assert.equal(c.text, net.server.text);
  assert.ok(net.server.text === 'Zabc' || net.server.text === 'abcZ', net.server.text);
  assert.equal(net.server.seqs.get(c.client), 1, 'resubmitted under its original seq');
});

test('reset: committed pending ops are dropped and the rest rebased on the new text', () => {
  const net = new Net(new Server());
  const c = newClient(net);
  const s1 = lastSocket(net);
  s1.open();
  net.settle();
  type(c, 'one');
  s1.deliverToServer(); // seq 1 committed, ack lost
  type(c, 'one two');
  s1.drop();
  // Others edit; the history before now is pruned, so resuming gets a reset.
  net.server.text = 'ONE' + net.server.text.slice(3) + '!';
  net.server.log.push({ op: [3, '!'], client: 'z', seq: 1 });
  net.server.prunedBelow = net.server.rev;
  c.timers.fireAll();
  lastSocket(net).open();
  net.settle();
  assert.equal(net.server.text, c.text);
  assert.ok(c.text.includes(' two'), c.text);
  assert.equal(c.text.split('two').length, 2, 'not doubled');
  assert.equal(c.state, 'synced');
});

test('reset: a pending edit between two server changes keeps its place', () => {
  const net = new Net(new Server());
  const c = newClient(net);
  const s1 = lastSocket(net);
  s1.open();
  net.settle();
  type(c, 'Title\nmiddle line\nfooter');
  net.settle();
  s1.drop();
  type(c, 'Title\nmiddle MINE line\nfooter'); // typed while offline
  // Others changed both ends; the history is pruned, so resuming is a reset.
  net.server.text = 'New title\nmiddle line\nfooter!';
  net.server.log.push({ op: ['New t', -1, 22, '!'], client: 'z', seq: 1 });
  net.server.prunedBelow = net.server.rev;
  c.timers.fireAll();
  lastSocket(net).open();
  net.settle();
  assert.equal(net.server.text, 'New title\nmiddle MINE line\nfooter!');
  assert.equal(c.text, net.server.text);
  assert.equal(c.state, 'synced');
});

test('unsent edits survive a page reload under the same client id and seqs', () => {
  const net = new Net(new Server());
  const storage = new MemStorage();
  const session = new MemStorage();
  const c = newClient(net, { storage, session });
  const s1 = lastSocket(net);
  s1.open();
  net.settle();
  type(c, 'saved');
  net.settle();
  type(c, 'saved 😀 draft');
  s1.deliverToServer(); // committed, ack lost
  type(c, 'saved 😀 draft more');
  const id = c.client;
  // The page goes away without a goodbye.
  s1.readyState = 3;
  net.server.conns.delete(s1.conn);
  c.destroy();
  // The reloaded page, same tab: same sessionStorage.
  const d = newClient(net, { storage, session });
  assert.equal(d.client, id);
  assert.equal(d.text, 'saved 😀 draft more');
  lastSocket(net).open();
  net.settle();
  assert.equal(net.server.text, 'saved 😀 draft more');
  assert.equal(d.state, 'synced');
  assert.equal(records(storage), 0, 'record removed once everything is saved');
});

test('unsent edits saved by the previous version (a JSON snapshot) survive the reload; the text is then rewritten as itself', async () => {
  const net = new Net(new Server());
  net.server.text = 'abc';
  net.server.log.push({ op: ['abc'], client: 'z', seq: 1 });
  const storage = new MemStorage();
  const session = new MemStorage();
  const c = newClient(net, { storage, session });
  const id = c.client;
  const textKey = c.store.textKey(id, 1);
  c.destroy();
  // What version 2 wrote: the snapshot as JSON, a record of version 2.
  storage.setItem(textKey, JSON.stringify({ rev: 1, text: 'abc' }));
  storage.setItem(c.storeKey(id), JSON.stringify({
    v: 2, ts: 0, rev: 1, lastSeq: 0, base: 1, since: null, inflight: null, buffer: { op: [3, '!'], count: 1 },
  }));
  const d = newClient(net, { storage, session });
  assert.equal(d.client, id);
  assert.equal(d.text, 'abc!');
  type(d, 'abc!?'); // offline: the record is written again, with a snapshot of today's form
  await endOfTask();
  const rec = JSON.parse(storage.getItem(d.storeKey(id)));
  assert.equal(rec.v, 3);
  assert.equal(storage.getItem(d.store.textKey(id, rec.base)), 'abc');
  lastSocket(net).open();
  net.settle();
  assert.equal(net.server.text, 'abc!?');
});

test('a new tab adopts the unsent edits of a tab that is gone, not of a live one', () => {
  const net = new Net(new Server());
  const storage = new MemStorage();
  let now = 1000;
  const c = newClient(net, { storage, now: () => now });
  type(c, 'offline words'); // never connected
  c.destroy();
  const live = newClient(net, { storage, now: () => now });
  assert.notEqual(live.client, c.client, 'a fresh record is not adopted');
  live.destroy();
  now += 60000;
  const d = newClient(net, { storage, now: () => now });
  assert.equal(d.client, c.client);
  assert.equal(d.text, 'offline words');
  lastSocket(net).open();
  net.settle();
  assert.equal(net.server.text, 'offline words');
});

test('presence is mapped through pending edits both ways', () => {
  const net = new Net(new Server());
  const a = onlineClient(net, { name: 'Ada' });
  const b = onlineClient(net, { name: 'Bo' });
  net.settle();
  type(a, 'abcdef');
  net.settle();
  type(b, 'XXabcdef'); // pending at b
  a.sendPresence(3, 3); // caret after "abc"
  net.settle();
  const peer = b.peers.get(a.publicId);
  assert.equal(peer.name, 'Ada');
  assert.equal(peer.head, 5, 'moved over b\'s pending insert');
  net.settle();
  // b sends its caret with a pending op: mapped back to the server revision.
  type(b, 'XXabcdefY');
  b.sendPresence(9, 9);
  const last = sent(net.sockets[1]).filter((m) => m.type === 'presence').pop();
  assert.deepEqual(last, { type: 'presence', doc: 'notes', rev: 2, anchor: 8, head: 8 });
});

test('backoff grows and is capped', () => {
  const net = new Net(new Server());
  const c = newClient(net);
  const delays = [];
  for (let i = 0; i < 12; i++) {
    lastSocket(net).drop();
    delays.push(c.timers.list[0].ms);
    c.timers.fireAll();
  }
  for (let i = 1; i < 6; i++) assert.ok(delays[i] > delays[i - 1], `delays ${delays}`);
  assert.ok(delays.at(-1) <= 30000);
});

test('random interleavings with drops converge without loss or doubling', () => {
  const r = rng(7);
  for (let round = 0; round < 30; round++) {
    const net = new Net(new Server());
    const clients = [0, 1, 2].map((i) => onlineClient(net, { name: 'p' + i }));
    net.settle();
    const typed = new Map(clients.map((c) => [c, 0]));
    for (let step = 0; step < 120; step++) {
      const c = clients[Math.floor(r() * clients.length)];
      const x = r();
      if (x < 0.4) {
        // Each client types its own marker letter at a random place.
        const cps = [...c.text];
        const at = Math.floor(r() * (cps.length + 1));
        const mark = String.fromCodePoint(0x1f600 + clients.indexOf(c));
        cps.splice(at, 0, mark);
        type(c, cps.join(''));
        typed.set(c, typed.get(c) + 1);
      } else if (x < 0.8) {
        const live = net.live();
        if (live.length) {
          const s = live[Math.floor(r() * live.length)];
          if (r() < 0.5) s.deliverToServer(); else s.deliverToClient();
        }
      } else if (x < 0.87) {
        const s = net.live().find((k) => k.url && r() < 0.5);
        if (s) s.drop();
      } else {
        for (const k of clients) if (k.timers.list.length) { k.timers.fireAll(); lastSocket(net).open(); }
      }
    }
    for (const k of clients) if (k.timers.list.length) { k.timers.fireAll(); lastSocket(net).open(); }
    net.settle();
    for (const c of clients) {
      assert.equal(c.text, net.server.text, `round ${round}: client converged`);
      const mark = String.fromCodePoint(0x1f600 + clients.indexOf(c));
      assert.equal([...net.server.text].filter((ch) => ch === mark).length, typed.get(c), `round ${round}: every keystroke once`);
    }
  }
});

// A duplicated tab copies sessionStorage and runs its own copy of the
// module (its own set of claimed ids): load a second instance of it.
async function otherTab() {
  return (await import('../static/js/client.js?tab=' + Math.random())).DocClient;
}

function copyStorage(st) {
  const c = new MemStorage();
  for (const [k, v] of st.m) c.setItem(k, v);
  return c;
}

test('duplicated tab without pending edits: the replaced tab takes a fresh id and goes on', async () => {
  const net = new Net(new Server());
  const session = new MemStorage();
  const a = onlineClient(net, { session });
  net.settle();
  type(a, 'from A. ');
  net.settle();
  const old = a.client;
  const DupClient = await otherTab();
  const timers = new FakeTimers();
  const b = new DupClient({
    server: 'http://example.test:8080', doc: 'notes', name: 'Ada (copy)', WebSocket: net.WebSocket(),
    storage: new MemStorage(), session: copyStorage(session),
    setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, setInterval: null, random: () => 0.5,
  });
  assert.equal(b.client, old, 'the copy starts with the same id');
  b.start();
  lastSocket(net).open();
  net.settle(); // B's hello replaces A's connection with 4001
  assert.notEqual(a.client, old, 'A chose a fresh id');
  assert.equal(session.getItem(a.idKey()), a.client, 'and remembers it for this tab');
  assert.equal(a.lastSeq, 0);
  assert.equal(a.state, 'connecting', 'A reconnects at once, without an error');
  lastSocket(net).open();
  net.settle();
  type(a, 'from A. again. ');
  type(b, 'from A. ' + 'B here.');
  net.settle();
  assert.equal(a.text, net.server.text);
  assert.equal(b.text, net.server.text);
  assert.equal(a.state, 'synced');
  assert.equal(b.state, 'synced');
  assert.equal(net.server.text.split('again').length, 2);
  assert.equal(net.server.text.split('B here').length, 2);
});

test('duplicated tab with pending edits: the replaced tab stops with a clear error', async () => {
  const net = new Net(new Server());
  const session = new MemStorage();
  const a = newClient(net, { session });
  const s1 = lastSocket(net);
  s1.open();
  net.settle();
  type(a, 'unsaved');
  s1.deliverToServer(); // the submit reached the server, the ack has not come back
  const DupClient = await otherTab();
  const timers = new FakeTimers();
  const b = new DupClient({
    server: 'http://example.test:8080', doc: 'notes', WebSocket: net.WebSocket(),
    storage: new MemStorage(), session: copyStorage(session),
    setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, setInterval: null, random: () => 0.5,
  });
  b.start();
  const sockets = net.sockets.length;
  const s2 = lastSocket(net);
  s2.open();
  s2.deliverToServer(); // B's hello: A is closed with 4001
  assert.equal(s1.readyState, 3);
  assert.equal(a.state, 'error');
  assert.ok(a.fatal);
  assert.match(a.message, /another tab under the same identity/);
  assert.match(a.message, /1 unsaved edit\b/);
  assert.equal(a.timers.list.length, 0, 'no reconnect scheduled');
  assert.equal(net.sockets.length, sockets, 'no new connection');
  assert.equal(a.text, 'unsaved', 'the text stays on screen to be copied');
});

test('a token refused on a reconnect (expired) stops the client with the reason, without retrying', () => {
  const net = new Net(new Server());
  const c = onlineClient(net);
  net.settle();
  type(c, 'kept');
  lastSocket(net).drop(); // offline with an edit pending
  net.server.expiredToken = true;
  c.timers.fireAll(); // the reconnect
  const s = lastSocket(net);
  s.open();
  net.settle();
  assert.equal(s.readyState, 3, 'closed after the error');
  assert.equal(c.state, 'error');
  assert.ok(c.fatal);
  assert.match(c.message, /token expired/);
  const sockets = net.sockets.length;
  assert.equal(c.timers.list.length, 0, 'no reconnect scheduled');
  c.reconnectNow(); // the browser coming back online does not retry either
  assert.equal(net.sockets.length, sockets, 'no new connection');
  assert.equal(c.text, 'kept', 'the unsent edit stays');
});

// CountingStorage counts the records written.
class CountingStorage extends MemStorage {
  constructor() { super(); this.writes = 0; }
  setItem(k, v) { this.writes++; super.setItem(k, v); }
}
// endOfTask resolves after the microtasks queued so far, as a new task would.
const endOfTask = () => new Promise((resolve) => setImmediate(resolve));

test('an ack that submits the buffered edits writes the record once', async () => {
  const net = new Net(new Server());
  const storage = new CountingStorage();
  const c = onlineClient(net, { storage });
  net.settle();
  const sock = lastSocket(net);
  type(c, 'a'); // in flight
  type(c, 'ab'); // buffered
  await endOfTask();
  sock.deliverToServer();
  const w = storage.writes;
  sock.deliverToClient(); // the ack: the buffer is submitted, its seq saved first
  await endOfTask();
  assert.equal(storage.writes - w, 1, 'one write of the record');
  net.settle();
  assert.equal(net.server.text, 'ab');
});

test('remote ops with pending edits cost no saves; a reload after the last save recovers every edit', async () => {
  const N = 50;
  const net = new Net(new Server());
  const storage = new CountingStorage();
  const session = new MemStorage();
  const a = onlineClient(net, { storage, session, name: 'Ada' });
  const sa = lastSocket(net);
  const b = onlineClient(net, { name: 'Bo' });
  const sb = lastSocket(net);
  net.settle();
  type(a, 'Ada: ');
  net.settle();

  let w = storage.writes;
  type(a, 'Ada: one'); // submitted: its seq is written before it leaves
  assert.equal(storage.writes, w + 1, 'a submit writes its seq at once');
  type(a, 'Ada: one two'); // buffered, in the same task
  type(a, 'Ada: one two three');
  await endOfTask();
  assert.equal(storage.writes, w + 2, 'edits of one task are saved once');

  // N remote ops arrive, one task each, while a's edits are pending.
  w = storage.writes;
  const marks = [];
  for (let i = 0; i < N; i++) {
    marks.unshift(`${i},`);
    type(b, `${i},` + b.text);
    sb.deliverToServer();
    sb.deliverToClient();
    assert.ok(sa.deliverToClient(), `op ${i} reaches a`);
    await endOfTask();
  }
  const want = marks.join('') + 'Ada: one two three';
  assert.equal(a.text, want);
  assert.equal(a.pendingCount, 3);
  assert.ok(storage.writes - w <= 1, `${N} remote ops caused ${storage.writes - w} saves, want O(1)`);

  // a's submit is committed, its ack lost with the page, which goes away
  // without writing anything more.
  sa.deliverToServer();
  sa.readyState = 3;
  net.server.conns.delete(sa.conn);
  w = storage.writes;
  a.destroy();
  assert.equal(storage.writes, w, 'nothing left to write when the page goes');

  const d = newClient(net, { storage, session });
  assert.equal(d.client, a.client);
  assert.equal(d.text, 'Ada: one two three', 'the saved record predates the remote ops');
  lastSocket(net).open();
  net.settle();
  assert.equal(net.server.text, want, 'every edit once: nothing lost or doubled');
  assert.equal(d.text, want);
  assert.equal(b.text, want);
  assert.equal(d.state, 'synced');
  assert.equal(records(storage), 0, 'record removed once everything is saved');
});

test('hiding the page writes the latest revision of pending edits', async () => {
  const net = new Net(new Server());
  const storage = new CountingStorage();
  const page = new EventTarget();
  page.document = { visibilityState: 'visible' };
  const a = onlineClient(net, { storage, page });
  const sa = lastSocket(net);
  const b = onlineClient(net);
  const sb = lastSocket(net);
  net.settle();
  type(a, 'mine'); // in flight, never delivered
  await endOfTask();
  type(b, 'theirs');
  sb.deliverToServer();
  sb.deliverToClient();
  sa.deliverToClient();
  await endOfTask();
  const record = () => JSON.parse(storage.getItem(a.storeKey(a.client)));
  // The server's text a reload would start from: the snapshot and the
  // changes since it.
  const saved = () => { const r = record(); const snap = storage.getItem(a.store.textKey(a.client, r.base)); return r.since ? ot.apply(snap, r.since) : snap; };
  assert.equal(record().rev, 0, 'a remote op is not saved');
  const w = storage.writes;
  page.dispatchEvent(new Event('visibilitychange'));
  assert.equal(storage.writes, w, 'still visible: nothing written');
  page.document.visibilityState = 'hidden';
  page.dispatchEvent(new Event('visibilitychange'));
  assert.deepEqual([storage.writes, record().rev, saved()], [w + 1, 1, 'theirs']);
  page.dispatchEvent(new Event('pagehide'));
  assert.equal(storage.writes, w + 2);
  a.destroy();
  page.dispatchEvent(new Event('pagehide'));
  assert.equal(storage.writes, w + 2, 'a destroyed client no longer listens');
});

test('a record costs the size of the edits, not of the document; the text is written by a timer', async () => {
  const net = new Net(new Server());
  net.server.text = 'x'.repeat(200000);
  net.server.log.push({ op: [net.server.text], client: 'z', seq: 1 });
  const storage = new CountingStorage();
  const snapshotTimers = new FakeTimers();
  const a = onlineClient(net, { storage, snapshotTimers });
  net.settle();
  assert.equal(snapshotTimers.list.length, 1, 'the join schedules a snapshot of the text');
  snapshotTimers.fireAll();
  const textKey = a.store.textKey(a.client, 1);
  assert.equal(storage.getItem(textKey), net.server.text, 'the text itself, not JSON');
  const sizes = [];
  const orig = storage.setItem.bind(storage);
  storage.setItem = (k, v) => { sizes.push([k, v.length]); orig(k, v); };
  for (let i = 0; i < 20; i++) {
    a.applyLocal([100000 + i, 'k', 100000]);
    await endOfTask();
    net.settle();
  }
  assert.equal(a.text.length, 200020);
  assert.ok(sizes.length > 0);
  for (const [k, n] of sizes) {
    assert.ok(k.startsWith('collab:pending:'), `only records written per edit, not ${k}`);
    assert.ok(n < 400, `a record of ${n} characters`);
  }
  // A reload from the last record with an edit pending recovers the text.
  a.applyLocal(['first ', 200020]);
  const s = lastSocket(net);
  s.readyState = 3;
  net.server.conns.delete(s.conn);
  a.destroy();
  const d = newClient(net, { storage, session: a.session });
  assert.equal(d.text, a.text);
  lastSocket(net).open();
  net.settle();
  assert.equal(net.server.text, d.text);
  assert.ok(net.server.text.startsWith('first xxx'));
});

test('a text too large for storage is not written again with every edit', async () => {
  const net = new Net(new Server());
  net.server.text = 'x'.repeat(100000);
  net.server.log.push({ op: [net.server.text], client: 'z', seq: 1 });
  const storage = new CountingStorage();
  storage.setItem = function (k, v) { this.writes++; if (v.length > 50000) throw new Error('QuotaExceededError'); MemStorage.prototype.setItem.call(this, k, v); };
  const snapshotTimers = new FakeTimers();
  const a = onlineClient(net, { storage, snapshotTimers });
  net.settle();
  const w = storage.writes;
  for (let i = 0; i < 10; i++) {
    a.applyLocal([50000, 'k', 50000 + i]);
    await endOfTask();
  }
  assert.ok(storage.writes - w <= 1, `${storage.writes - w} attempts to write the text for 10 edits`);
  net.settle();
  assert.equal(net.server.text, a.text, 'the edits still go through');
  // The retries do not copy a text no smaller than the one refused.
  const tries = () => { const before = storage.writes; for (let i = 0; i < 3; i++) snapshotTimers.fireAll(); return storage.writes - before; };
  a.applyLocal([100000, '!', 10]);
  await endOfTask();
  assert.equal(tries(), 0, 'no attempt while the text is as large');
  a.applyLocal([-60000, 40011]);
  await endOfTask();
  net.settle();
  a.applyLocal([1, '?', 40010]); // pending again, with a text that fits
  await endOfTask();
  assert.ok(tries() > 0, 'a smaller text is tried');
  assert.equal(storage.getItem(a.store.textKey(a.client, a.serverRev)), a.serverText, 'and written');
});
