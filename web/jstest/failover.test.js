// The client with several servers (nodes of one service) and with a store
// that is unavailable for a while.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServers, describeStatus } from '../static/js/client.js';
import { MemStorage, Server, Net, newClient, lastSocket, type, sent, rng } from './fake.js';

const A = 'http://a.test:8080';
const B = 'http://b.test:8080';
const C = 'http://c.test:8080';
const ws = (u) => u.replace(/^http/, 'ws') + '/ws';
// ownSeqs lists the seqs of the ops the client got committed, in order.
const ownSeqs = (server, c) => server.log.filter((r) => r.client === c.client).map((r) => r.seq);
// reconnect fires the client's backoff timer and opens the new socket.
function reconnect(net, c) {
  assert.equal(c.timers.list.length, 1, 'one reconnect scheduled');
  c.timers.fireAll();
  const s = lastSocket(net);
  s.open();
  return s;
}

test('parseServers', () => {
  const cases = [
    [A, [A]],
    [A + '/', [A]],
    [[A, B + '/'], [A, B]],
    [`${A} ${B}`, [A, B]],
    [` ${A},${B} ,\n ${C}/ `, [A, B, C]],
    [`${A}, ${A}/`, [A]],
  ];
  for (const [in_, want] of cases) assert.deepEqual(parseServers(in_), want, JSON.stringify(in_));
  for (const bad of ['', ' , ', [], undefined]) assert.throws(() => parseServers(bad), /no server URL/, JSON.stringify(bad));
});

test('records and the client id belong to the service, whatever the order of its URLs', () => {
  const net = new Net(new Server());
  const session = new MemStorage();
  const one = newClient(net, { server: A + '/', session });
  assert.equal(one.storeKey('c-1'), `collab:pending:${A}|notes|c-1`, 'one server: the key of earlier versions');
  assert.equal(one.idKey(), `collab:client:${A}|notes`);
  one.destroy();
  const ab = newClient(net, { server: [A, B], session });
  const ba = newClient(net, { server: `${B}, ${A}` });
  assert.equal(ab.storeKey('c-1'), ba.storeKey('c-1'));
  assert.equal(ab.idKey(), ba.idKey());
  assert.notEqual(ab.idKey(), one.idKey());
});

test('failover: a dropped connection resumes on the next server with the same id, seqs and edits', () => {
  const server = new Server(); // one document served by every node, as a cluster does
  const net = new Net(server);
  const bo = newClient(net, { server: B, name: 'Bo' });
  lastSocket(net).open();
  const c = newClient(net, { server: [A, B] });
  const s1 = lastSocket(net);
  assert.equal(s1.url, ws(A), 'the first URL first');
  s1.open();
  net.settle();
  type(c, 'one');
  net.settle();
  type(c, 'one two');
  s1.deliverToServer(); // committed as seq 2 …
  type(c, 'one two three'); // … the next edit waits in the buffer …
  s1.drop(); // … and node A dies with the ack.
  assert.equal(c.state, 'offline');
  assert.equal(c.server, B, 'the next attempt goes to the next server');
  type(c, 'one two three four'); // typing goes on while offline
  type(bo, bo.text + ' [Bo]');
  net.settle();

  const s2 = reconnect(net, c);
  assert.equal(s2.url, ws(B));
  const hello = sent(s2)[0];
  assert.deepEqual([hello.type, hello.client], ['hello', c.client], 'the same client id');
  net.settle();
  assert.equal(c.text, server.text);
  assert.equal(bo.text, server.text);
  for (const part of ['one', ' two', ' three four', ' [Bo]']) {
    assert.equal(server.text.split(part).length, 2, `${JSON.stringify(part)} once in ${JSON.stringify(server.text)}`);
  }
  assert.deepEqual(ownSeqs(server, c), [1, 2, 3], 'seq 2 applied once; the buffer went on as seq 3');
  assert.equal(c.state, 'synced');
  assert.equal(c.server, B, 'stays on the server that works');
});

test('each failed attempt tries the next server, round the list, with a growing backoff', () => {
  const net = new Net(new Server());
  const c = newClient(net, { server: `${A} ${B},${C}` });
  type(c, 'typed offline');
  const urls = [];
  const delays = [];
  for (let i = 0; i < 7; i++) {
    const s = lastSocket(net);
    urls.push(s.url);
    s.refuse();
    delays.push(c.timers.list[0].ms);
    c.timers.fireAll();
  }
  assert.deepEqual(urls, [A, B, C, A, B, C, A].map(ws));
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i] > delays[i - 1], `delays ${delays}`);
  assert.equal(lastSocket(net).url, ws(B));
  lastSocket(net).open();
  net.settle();
  assert.equal(net.server.text, 'typed offline');
  assert.equal(c.state, 'synced');
  assert.equal(c.attempt, 0, 'a join resets the backoff');
});

test('a resync the client asks for stays on the same server', () => {
  const net = new Net(new Server());
  const c = newClient(net, { server: [A, B] });
  const s1 = lastSocket(net);
  s1.open();
  net.settle();
  for (const code of ['rev_too_old', 'internal']) {
    const s = lastSocket(net);
    s.toClient.push(JSON.stringify({ type: 'error', code, message: 'x', doc: 'notes' }));
    s.deliverToClient();
    assert.equal(s.readyState, 3, `${code}: the client closed to resync`);
    reconnect(net, c);
    assert.equal(lastSocket(net).url, ws(A), `${code}: same server`);
    net.settle();
    assert.equal(c.state, 'synced');
  }
});

test('unavailable: edits stay pending, retries back off until an ack, and go through once the store is back', () => {
  const server = new Server();
  const net = new Net(server);
  const c = newClient(net, { server: [A, B] });
  lastSocket(net).open();
  net.settle();
  const errors = [];
  c.addEventListener('error', (e) => errors.push(e.detail.code));
  type(c, 'kept.');
  net.settle();
  assert.equal(c.state, 'synced');

  // The store fails: the submit is refused, nothing changes on the server.
  server.failCommits = true;
  const parts = ['kept.', ' one'];
  type(c, parts.join(''));
  net.settle();
  assert.deepEqual(errors, ['unavailable']);
  assert.equal(c.state, 'offline');
  assert.equal(c.message, 'server unavailable');
  assert.equal(describeStatus(c.statusDetail()), 'The server cannot save right now — your changes are kept on this device');
  assert.equal(c.text, 'kept. one');
  assert.equal(server.text, 'kept.');

  // Joins succeed or fail, commits keep failing; typing goes on. Every
  // round moves to the other server and waits longer than the last.
  const delays = [c.timers.list[0].ms];
  const urls = [];
  for (let round = 0; round < 6; round++) {
    server.failJoins = round % 2 === 1;
    parts.push(` r${round}`);
    type(c, parts.join(''));
    const s = reconnect(net, c);
    urls.push(s.url);
    net.settle();
    assert.equal(c.state, 'offline', `round ${round}`);
    assert.equal(c.message, 'server unavailable');
    assert.equal(server.text, 'kept.', 'nothing committed while the store fails');
    delays.push(c.timers.list[0].ms);
  }
  assert.deepEqual(urls, [B, A, B, A, B, A].map(ws));
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i] > delays[i - 1], `backoff grows across joins: ${delays}`);
  assert.ok(server.joins >= 3, 'some rounds joined and resubmitted');
  assert.equal(c.text, parts.join(''));
  assert.equal(c.pendingCount, 7);

  // The store is back: the next attempt commits everything, once.
  server.failCommits = false;
  server.failJoins = false;
  reconnect(net, c);
  net.settle();
  assert.equal(server.text, parts.join(''));
  assert.equal(c.text, server.text);
  assert.equal(c.state, 'synced');
  assert.equal(c.message, '');
  assert.equal(c.attempt, 0, 'an ack ends the backoff');
  assert.deepEqual(ownSeqs(server, c), [1, 2, 3], 'the refused seq resubmitted unchanged, the buffer after it');
  assert.equal(describeStatus(c.statusDetail()), 'Saved');
});

test('unavailable while a node stops: the client moves on and loses nothing', () => {
  const server = new Server();
  const net = new Net(server);
  const c = newClient(net, { server: [A, B] });
  const s1 = lastSocket(net);
  s1.open();
  net.settle();
  type(c, 'before the stop');
  // The node answers the submit unavailable (shutting down), then closes 1001.
  s1.toClient.push(JSON.stringify({ type: 'error', code: 'unavailable', message: 'collab: server shutting down', doc: 'notes', seq: 1 }));
  s1.toServer = [];
  s1.deliverToClient();
  assert.equal(s1.readyState, 3);
  assert.equal(server.text, '');
  const s2 = reconnect(net, c);
  assert.equal(s2.url, ws(B));
  net.settle();
  assert.equal(server.text, 'before the stop');
  assert.deepEqual(ownSeqs(server, c), [1]);
  assert.equal(c.state, 'synced');
});

test('random drops, node switches and store failures converge without loss or doubling', () => {
  const r = rng(11);
  for (let round = 0; round < 30; round++) {
    const server = new Server();
    const net = new Net(server);
    const lists = [[A, B, C], [B, C, A], [C, A]];
    const clients = lists.map((l, i) => newClient(net, { server: l, name: 'p' + i }));
    net.sockets.forEach((s) => s.open());
    net.settle();
    const typed = new Map(clients.map((c) => [c, 0]));
    for (let step = 0; step < 150; step++) {
      const i = Math.floor(r() * clients.length);
      const c = clients[i];
      const x = r();
      if (x < 0.35) {
        const cps = [...c.text];
        const at = Math.floor(r() * (cps.length + 1));
        cps.splice(at, 0, String.fromCodePoint(0x1f600 + i));
        type(c, cps.join(''));
        typed.set(c, typed.get(c) + 1);
      } else if (x < 0.75) {
        const live = net.live();
        if (live.length) {
          const s = live[Math.floor(r() * live.length)];
          if (r() < 0.5) s.deliverToServer(); else s.deliverToClient();
        }
      } else if (x < 0.8) {
        const live = net.live();
        if (live.length) live[Math.floor(r() * live.length)].drop();
      } else if (x < 0.85) {
        server.failCommits = r() < 0.5;
        server.failJoins = r() < 0.3;
      } else if (c.timers.list.length) {
        c.timers.fireAll();
        if (r() < 0.3) lastSocket(net).refuse(); else lastSocket(net).open();
      }
    }
    server.failCommits = false;
    server.failJoins = false;
    for (let k = 0; k < 3; k++) {
      for (const c of clients) if (c.timers.list.length) { c.timers.fireAll(); lastSocket(net).open(); }
      net.settle();
    }
    for (const [i, c] of clients.entries()) {
      assert.equal(c.text, server.text, `round ${round}: client ${i} converged`);
      assert.equal(c.state, 'synced', `round ${round}: client ${i} synced`);
      const mark = String.fromCodePoint(0x1f600 + i);
      assert.equal([...server.text].filter((ch) => ch === mark).length, typed.get(c), `round ${round}: every keystroke of ${i} once`);
      const seqs = ownSeqs(server, c);
      assert.deepEqual(seqs, seqs.map((_, k) => k + 1), `round ${round}: seqs of ${i} committed once, in order`);
    }
  }
});

test('too_many_loaded: the client keeps its edits and retries on the next server after a backoff', () => {
  const net = new Net(new Server());
  const c = newClient(net, { server: [A, B] });
  lastSocket(net).open();
  net.settle();
  type(c, 'kept');
  const s = lastSocket(net);
  s.toClient.push(JSON.stringify({ type: 'error', code: 'too_many_loaded', message: 'busy', doc: 'notes' }));
  s.deliverToClient();
  assert.equal(s.readyState, 3, 'the client closed');
  assert.equal(c.state, 'offline');
  assert.equal(c.message, 'server unavailable');
  const next = reconnect(net, c);
  assert.equal(next.url, ws(B), 'the next server');
  net.settle();
  assert.equal(net.server.text, 'kept');
  assert.equal(c.state, 'synced');
});

for (const code of ['rate_limited', 'quota_exceeded']) {
  test(`${code}: the refused edit stays pending and is resubmitted after a backoff`, () => {
    const server = new Server();
    const net = new Net(server);
    const c = newClient(net, { server: A });
    lastSocket(net).open();
    net.settle();
    const errors = [];
    c.addEventListener('error', (e) => errors.push(e.detail.code));
    server.refuseSubmits = code;
    type(c, 'big paste');
    net.settle();
    assert.deepEqual(errors, [code]);
    assert.equal(c.state, 'offline');
    assert.equal(c.message, 'too many changes at once');
    assert.equal(describeStatus(c.statusDetail()), 'Too many changes at once, saving shortly — your changes are kept on this device');
    assert.equal(c.text, 'big paste');
    assert.equal(server.text, '');
    const first = c.timers.list[0].ms;
    reconnect(net, c);
    net.settle();
    assert.ok(c.timers.list[0].ms > first, 'the backoff grows while refused');

    server.refuseSubmits = '';
    reconnect(net, c);
    net.settle();
    assert.equal(server.text, 'big paste');
    assert.equal(c.state, 'synced');
    assert.equal(c.message, '');
    assert.deepEqual(ownSeqs(server, c), [1], 'the refused seq resubmitted unchanged, once');
  });
}
