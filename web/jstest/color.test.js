import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isColor, safeColor } from '../static/js/color.js';
import { Server, Net, onlineClient, lastSocket, sent } from './fake.js';

test('isColor accepts #rgb, #rrggbb and #rrggbbaa only', () => {
  for (const c of ['#d33', '#D33', '#1a7f37', '#1a7f3780']) assert.ok(isColor(c), c);
  for (const c of ['', 'red', '#12', '#1234', '#12345g', 'url(//attacker.example/leak)', '#d33;background:url(x)',
    'var(--x)', ' #d33', '#d33 ', null, undefined, 123]) {
    assert.ok(!isColor(c), String(c));
  }
  assert.equal(safeColor('url(//x)'), '#888');
  assert.equal(safeColor('#abc'), '#abc');
});

test('an invalid own colour is not sent; a peer\'s invalid colour is not kept', () => {
  const net = new Net(new Server());
  const c = onlineClient(net, { color: 'url(//attacker.example/leak)' });
  const s = lastSocket(net);
  const hello = sent(s).find((m) => m.type === 'hello');
  assert.equal(hello.color, undefined);
  net.settle();
  const peer = (color, event = 'join') => ({ type: 'editor', doc: 'notes', client: 'pub-x', name: 'X', color, event });
  s.toClient.push(JSON.stringify(peer('#36c')));
  s.toClient.push(JSON.stringify(peer('url(//attacker.example/leak)')));
  net.settle();
  assert.equal(c.peers.get('pub-x').color, '#36c', 'the last valid colour stays');
  s.toClient.push(JSON.stringify({ type: 'presence', doc: 'notes', client: 'pub-y', name: 'Y', color: 'red', rev: c.serverRev, anchor: 0, head: 0 }));
  net.settle();
  assert.equal(c.peers.get('pub-y').color, '');
});
