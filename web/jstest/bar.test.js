import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusLine, peopleList, SAVING_DELAY_MS } from '../static/js/bar.js';
import { FakeTimers } from './fake.js';

// A stand-in for an element that counts the writes the bar makes to it.
class Element {
  constructor() {
    this.writes = 0; this.dataset = {}; this.children = []; this.style = { setProperty: () => {} };
    this.classList = { add: () => {} };
    let text = ''; let hidden = false;
    Object.defineProperty(this, 'textContent', { get: () => text, set: (v) => { this.writes++; text = v; } });
    Object.defineProperty(this, 'hidden', { get: () => hidden, set: (v) => { this.writes++; hidden = v; } });
    this.ownerDocument = { createElement: () => new Element() };
  }
  replaceChildren(...c) { this.writes++; this.children = c; }
}

const status = (state, rev = 1) => ({ state, pending: state === 'saving' ? 1 : 0, rev, message: '' });

test('a save that ends within the delay never shows Saving…, and a new revision writes nothing', () => {
  const el = new Element(); const retry = new Element(); const timers = new FakeTimers();
  const show = statusLine(el, retry, timers);
  show(status('synced'));
  assert.equal(el.textContent, 'Saved');
  const writes = el.writes + retry.writes;
  for (let rev = 2; rev < 10; rev++) {
    show(status('saving', rev));
    show(status('synced', rev));
  }
  assert.equal(el.textContent, 'Saved');
  assert.equal(el.writes + retry.writes, writes, 'no write while the text stays');
  assert.equal(timers.list.length, 0, 'the delayed Saving… is cancelled');
});

test('a slow save shows Saving… after the delay, even while more edits are made', () => {
  const el = new Element(); const retry = new Element(); const timers = new FakeTimers();
  const show = statusLine(el, retry, timers);
  show(status('synced'));
  show(status('saving', 2));
  show(status('saving', 3));
  assert.equal(timers.list.length, 1, 'one timer, not restarted by each edit');
  assert.equal(timers.list[0].ms, SAVING_DELAY_MS);
  timers.fireAll();
  assert.equal(el.textContent, 'Saving…');
  assert.equal(el.dataset.status, 'saving');
  show(status('synced', 4));
  assert.equal(el.textContent, 'Saved');
});

test('offline shows at once with Retry now, and cancels a delayed Saving…', () => {
  const el = new Element(); const retry = new Element(); const timers = new FakeTimers();
  const show = statusLine(el, retry, timers);
  show(status('synced'));
  assert.equal(retry.hidden, true);
  show(status('saving', 2));
  show({ state: 'offline', pending: 1, rev: 2, message: '' });
  assert.match(el.textContent, /^Offline/);
  assert.equal(retry.hidden, false);
  assert.equal(timers.list.length, 0);
});

test('the people list is rebuilt only when someone, a name, a colour or staleness changes', () => {
  const el = new Element();
  const show = peopleList(el);
  const me = { name: 'Ada', color: '#d33' };
  show(me, [{ name: 'Bo', color: '#36c' }]);
  assert.deepEqual(el.children.map((li) => li.textContent), ['Ada (you)', 'Bo']);
  const writes = el.writes;
  for (let i = 0; i < 5; i++) show(me, [{ name: 'Bo', color: '#36c', caret: i }]);
  assert.equal(el.writes, writes, 'caret moves rebuild nothing');
  show(me, [{ name: 'Bo', color: '#36c', stale: true }]);
  assert.equal(el.writes, writes + 1);
  show(me, [{ name: 'Bo', color: '#36c', stale: true }, { name: '', color: 'url(//x)' }]);
  assert.deepEqual(el.children.map((li) => li.textContent), ['Ada (you)', 'Bo', 'Someone']);
});
