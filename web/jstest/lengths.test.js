// The client keeps the code point lengths of its texts, takes the server's
// text from the local one when nothing is pending, and applies ops to its
// texts only when they are read (LazyText), so that an op costs no scan. These tests check that what it
// keeps is what a scan would find, after every step of random traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ot from '../static/js/ot.js';
import { advance, cpLength } from '../static/js/text.js';
import { Server, Net, lastSocket, onlineClient, type, rng } from './fake.js';

test('apply with the text length given equals apply without it', () => {
  const t = 'a😀bé👩‍💻c';
  const n = cpLength(t);
  for (const op of [[n, 'x'], ['x', n], [2, -1, 'é', n - 3], [-n], [1, '😀', n - 1]]) {
    assert.equal(ot.apply(t, op, n), ot.apply(t, op), JSON.stringify(op));
  }
  // An op that does not fit the length given is refused as one that does
  // not fit the text (the length must be the text's).
  assert.throws(() => ot.apply(t, [n + 1], n), (e) => e.kind === 'past_end');
  assert.throws(() => ot.apply(t, [n - 1], n), (e) => e.kind === 'base_length');
  assert.throws(() => ot.apply('ab', [-3]), (e) => e.kind === 'past_end');
  assert.throws(() => ot.apply('abc', [-2]), (e) => e.kind === 'base_length');
});

function checkClient(c, where) {
  assert.equal(c.textLen, cpLength(c.text), `${where}: textLen`);
  assert.equal(c.serverLen, cpLength(c.serverText), `${where}: serverLen`);
  let t = c.serverText;
  if (c.inflight) t = ot.apply(t, c.inflight.op);
  if (c.buffer) t = ot.apply(t, c.buffer.op);
  assert.equal(t, c.text, `${where}: the local text is the server's with the pending edits`);
}

test('random traffic keeps the lengths and the server text exact, with no resync', () => {
  const r = rng(11);
  for (let round = 0; round < 20; round++) {
    const net = new Net(new Server());
    const clients = [0, 1, 2].map((i) => onlineClient(net, { name: 'p' + i }));
    const resyncs = [];
    for (const c of clients) {
      const resync = c.transport.resync.bind(c.transport);
      c.transport.resync = () => { resyncs.push(c.message); resync(); };
    }
    net.settle();
    for (let step = 0; step < 150; step++) {
      const c = clients[Math.floor(r() * clients.length)];
      if (r() < 0.45) {
        const cps = [...c.text];
        const at = Math.floor(r() * (cps.length + 1));
        const del = r() < 0.3 ? Math.floor(r() * 3) : 0;
        cps.splice(at, del, r() < 0.5 ? '😀' : 'ab');
        type(c, cps.join(''));
      } else {
        const live = net.live();
        if (live.length) {
          const s = live[Math.floor(r() * live.length)];
          if (r() < 0.5) s.deliverToServer(); else s.deliverToClient();
        }
      }
      // The server text is read at random times: ops kept for it pile up.
      for (const k of clients) if (r() < 0.2) checkClient(k, `round ${round} step ${step}`);
      for (const k of clients) assert.equal(k.textLen, cpLength(k.text));
    }
    net.settle();
    for (const c of clients) {
      checkClient(c, `round ${round} settled`);
      assert.equal(c.text, net.server.text, `round ${round}: converged`);
    }
    assert.deepEqual(resyncs, [], `round ${round}: no op failed to apply`);
  }
});

test('the server text kept while an edit is in flight follows every remote op', () => {
  const net = new Net(new Server());
  const a = onlineClient(net, { name: 'a' });
  const sa = lastSocket(net);
  const b = onlineClient(net, { name: 'b' });
  const sb = lastSocket(net);
  net.settle();
  type(a, 'A😀'); // its submit waits in sa
  for (let i = 0; i < 150; i++) {
    type(b, (i % 3 ? 'é' : '👍') + [...b.text].slice(i % 2).join(''));
    while (sb.deliverToServer());
    while (sb.deliverToClient());
    while (sa.deliverToClient());
  }
  checkClient(a, 'before the ack');
  net.settle();
  checkClient(a, 'after the ack');
  assert.equal(a.text, net.server.text);
  assert.equal(b.text, net.server.text);
});

test('advance counts as a loop over the code units does, from any index', () => {
  const loop = (s, i, n) => {
    for (; n > 0; n--) {
      if (i >= s.length) return -1;
      const c = s.charCodeAt(i);
      const d = s.charCodeAt(i + 1);
      i += c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
    }
    return i;
  };
  const units = ['a', 'é', '😀', '\ud83d', '\ude00', '日', '\n'];
  const r = rng(5);
  for (let k = 0; k < 300; k++) {
    let s = '';
    const len = Math.floor(r() * 700);
    for (let j = 0; j < len; j++) s += units[Math.floor(r() * units.length)];
    for (let m = 0; m < 20; m++) {
      const i = Math.floor(r() * (s.length + 1)); // may fall inside a pair
      const n = Math.floor(r() * (s.length - i + 2));
      const want = loop(s, i, n);
      let got;
      try { got = advance(s, i, n); } catch (e) { assert.ok(e instanceof RangeError); got = -1; }
      assert.equal(got, want, JSON.stringify({ s, i, n }));
    }
  }
});
