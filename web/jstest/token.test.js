// Live access in the browser client: getToken renews the token on the
// open connection before it expires, and after the server ended the
// session for its token (expired, revoked) the client gets a new one,
// rejoins and sends the edits it kept; a renewed read token makes it
// read-only at once. Without getToken the session's end is final and said
// in plain words, the unsent edits kept on the device.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, Net, onlineClient, lastSocket, type, jwt, MemStorage } from './fake.js';
import { tokenExpiry, describeStatus } from '../static/js/client.js';

const endOfTask = () => new Promise((resolve) => setImmediate(resolve));
const NOW = 1_700_000_000_000;

test('tokenExpiry reads exp from a JWT, null without one', () => {
  assert.equal(tokenExpiry(jwt(1234)), 1234000);
  assert.equal(tokenExpiry('e30.e30.x'), null);
  assert.equal(tokenExpiry('not a token'), null);
  assert.equal(tokenExpiry(''), null);
});

test('getToken is called a minute before the token expires; the new token goes in auth on the open connection', async () => {
  const net = new Net(new Server());
  let calls = 0;
  const next = jwt(NOW / 1000 + 3600);
  const c = onlineClient(net, { now: () => NOW, token: jwt(NOW / 1000 + 600), getToken: async () => { calls++; return next; } });
  net.settle();
  const renewal = c.timers.list.find((t) => t.ms === 540000);
  assert.ok(renewal, `a renewal timer at 9 minutes: ${JSON.stringify(c.timers.list.map((t) => t.ms))}`);
  const sockets = net.sockets.length;
  c.timers.clearTimeout(renewal.id);
  renewal.fn();
  await endOfTask();
  net.settle();
  assert.equal(calls, 1);
  assert.deepEqual(net.server.tokens, [next]);
  assert.equal(net.sockets.length, sockets, 'no new connection');
  assert.equal(c.state, 'synced');
  assert.ok(c.timers.list.some((t) => t.ms === 3540000), 'the next renewal is armed');
});

test('a session ended for its token: a new token, auth, a rejoin from the revision, the kept edit sent once', async () => {
  const net = new Net(new Server());
  const storage = new MemStorage();
  const c = onlineClient(net, { storage, now: () => NOW, token: jwt(NOW / 1000 + 600), getToken: async () => jwt(NOW / 1000 + 3600) });
  net.settle();
  type(c, 'one ');
  net.settle();
  const s = lastSocket(net);
  net.server.endSessions('notes');
  type(c, 'one kept'); // submitted, refused not_joined: kept
  net.settle();
  assert.equal(c.state, 'offline');
  assert.match(describeStatus(c.statusDetail()), /Renewing your access — your changes are kept/);
  assert.ok(storage.length > 0, 'the unsent edit is saved on the device');
  await endOfTask();
  net.settle();
  assert.equal(net.server.tokens.length, 1);
  assert.equal(net.server.joins, 2, 'joined again after the auth');
  assert.equal(s.readyState, 1, 'the same connection');
  assert.equal(net.server.text, 'one kept');
  assert.equal(c.state, 'synced');
});

test('a renewed token that allows reading only makes the client read-only at once', async () => {
  const net = new Net(new Server());
  const c = onlineClient(net, { now: () => NOW, token: jwt(NOW / 1000 + 600), getToken: async () => jwt(NOW / 1000 + 3600) });
  net.settle();
  net.server.authPerm = 'read';
  await c.renewToken();
  net.settle();
  assert.equal(c.readonly, true);
  assert.equal(c.state, 'readonly');
  assert.throws(() => type(c, 'x'), /read-only/);
  net.server.authPerm = 'write';
  await c.renewToken();
  net.settle();
  assert.equal(c.readonly, false);
  type(c, 'x');
  net.settle();
  assert.equal(net.server.text, 'x');
});

test('without getToken, a session ended for its token stops the client, in plain words, the edit kept', () => {
  const net = new Net(new Server());
  const c = onlineClient(net);
  net.settle();
  net.server.endSessions('notes', 'token revoked');
  type(c, 'kept');
  net.settle();
  assert.equal(c.state, 'error');
  assert.ok(c.fatal);
  assert.match(c.message, /^Your access to this document has ended; your unsent changes are kept on this device/);
  assert.match(c.message, /token revoked/);
  assert.equal(c.text, 'kept');
});
