// The editor side: UTF-16 / code point conversion without scans, the
// textarea's change finder, undo grouping and the binding's conversions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ot from '../static/js/ot.js';
import { AstralIndex } from '../static/js/astral.js';
import { cpToUtf16, utf16ToCp } from '../static/js/text.js';
import { findChange } from '../static/js/binding.js';
import { UndoHistory, PAUSE_MS } from '../static/js/undo.js';
import { EditorBinding } from '../static/js/editor.js';
import { Server, Net, onlineClient, rng } from './fake.js';

const pieces = ['a', 'é', '😀', '日', '\n', '👩‍💻', 'x̃'];

function randomText(r, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)];
  return s;
}

test('AstralIndex converts as a scan does, through random changes', () => {
  const r = rng(3);
  let text = randomText(r, 200);
  const idx = new AstralIndex(text);
  for (let step = 0; step < 300; step++) {
    // A change on pair boundaries, as editors and the binding make them.
    const cps = [...text];
    const a = Math.floor(r() * (cps.length + 1));
    const b = Math.min(cps.length, a + Math.floor(r() * 4));
    const from = cpToUtf16(text, a);
    const to = cpToUtf16(text, b);
    const insert = r() < 0.6 ? randomText(r, Math.floor(r() * 4)) : '';
    idx.apply([{ from, to, insert }]);
    text = text.slice(0, from) + insert + text.slice(to);
    assert.equal(idx.units, text.length);
    assert.equal(idx.length, [...text].length);
    for (let k = 0; k < 10; k++) {
      const cp = Math.floor(r() * (idx.length + 1));
      assert.equal(idx.toUtf16(cp), cpToUtf16(text, cp), `toUtf16(${cp})`);
      const u = Math.floor(r() * (text.length + 1));
      assert.equal(idx.toCp(u), utf16ToCp(text, u), `toCp(${u})`);
    }
  }
});

test('AstralIndex: several changes at once, in the coordinates before them', () => {
  const text = '😀ab😀cd😀';
  const idx = new AstralIndex(text);
  const changes = [{ from: 2, to: 3, insert: '🎉🎉' }, { from: 6, to: 8, insert: '' }];
  idx.apply(changes);
  const want = '😀' + '🎉🎉' + 'b😀' + 'cd😀'.slice(2);
  assert.equal(idx.units, want.length);
  for (let cp = 0; cp <= [...want].length; cp++) assert.equal(idx.toUtf16(cp), cpToUtf16(want, cp));
});

test('AstralIndex without astral characters converts by identity', () => {
  const idx = new AstralIndex('x'.repeat(1000));
  assert.equal(idx.astral, 0);
  assert.equal(idx.toUtf16(500), 500);
  assert.equal(idx.toCp(999), 999);
});

test('findChange finds the edit from the selection hints, and without them', () => {
  const cases = [
    ['abc', 'abXc', 2, 3, { from: 2, to: 2, insert: 'X', deleted: '' }],
    ['abc', 'ac', 1, 1, { from: 1, to: 2, insert: '', deleted: 'b' }],
    ['aa', 'aaa', 1, 2, { from: 1, to: 1, insert: 'a', deleted: '' }],
    ['a😀b', 'a😃b', 1, 3, { from: 1, to: 3, insert: '😃', deleted: '😀' }],
    // Wrong hints: a longer comparison, still the smallest change.
    ['hello world', 'hello brave world', 0, 0, { from: 5, to: 5, insert: ' brave', deleted: '' }],
    ['hello world', 'hello brave world', 99, 99, { from: 5, to: 5, insert: ' brave', deleted: '' }],
  ];
  for (const [prev, value, start, end, want] of cases) {
    assert.deepEqual(findChange(prev, value, start, end), want, `${prev} -> ${value}`);
  }
});

test('undo groups by word and pause, not by a time window', () => {
  const h = new UndoHistory();
  let text = '';
  let t = 0;
  const type = (s, gap = 100) => {
    for (const ch of s) {
      const op = ot.diff(text, text + ch, text.length + ch.length);
      h.record(op, ot.invert(op, text), (t += gap));
      text += ch;
    }
  };
  type('one two  three');
  assert.equal(h.depth, 3, 'a step per word and the spaces after it');
  type('\nfour');
  assert.equal(h.depth, 5, 'a line break starts a step');
  type('five', PAUSE_MS + 1);
  assert.equal(h.depth, 9, 'after a pause each key is a step');
  // Undo reverts the last word only.
  let op = h.undo();
  text = ot.apply(text, op);
  assert.equal(text, 'one two  three\nfourfiv');
});

// FakeAdapter is an editor holding its text as a string.
class FakeAdapter {
  constructor(text) { this.text = text; this.composing = false; this.sel = { anchor: 0, head: 0 }; this.carets = []; this.applied = []; }
  get units() { return this.text.length; }
  read(from, to) { return this.text.slice(from, to); }
  apply(changes, selection) {
    for (let i = changes.length - 1; i >= 0; i--) {
      const c = changes[i];
      this.text = this.text.slice(0, c.from) + c.insert + this.text.slice(c.to);
    }
    this.applied.push(changes);
    if (selection) this.sel = selection;
  }
  selection() { return this.sel; }
  drawCarets(c) { this.carets = c; }
  setReadOnly() {}
  destroy() {}
  // type makes a local edit the way an editor reports it.
  type(binding, from, to, insert) {
    const deleted = this.text.slice(from, to);
    this.text = this.text.slice(0, from) + insert + this.text.slice(to);
    binding.local([{ from, to, insert, deleted }]);
  }
}

test('binding: remote ops arrive as UTF-16 ranges; undo reverts own edits only, through remote ones', () => {
  const net = new Net(new Server());
  const a = onlineClient(net, { name: 'Ada' });
  const b = onlineClient(net, { name: 'Bo' });
  net.settle();
  const ea = new FakeAdapter(a.text);
  const ba = new EditorBinding(a, ea);
  ea.type(ba, 0, 0, '😀 one ');
  net.settle();
  b.applyLocal(['👩‍💻', ot.targetLen(ot.fromWire(['😀 one ']))]); // Bo inserts at the start
  net.settle();
  assert.equal(ea.text, '👩‍💻😀 one ');
  assert.deepEqual(ea.applied.at(-1), [{ from: 0, to: 0, insert: '👩‍💻' }]);
  ea.type(ba, ea.text.length, ea.text.length, 'two');
  net.settle();
  ba.undo();
  net.settle();
  assert.equal(ea.text, '👩‍💻😀 one ');
  ba.undo();
  net.settle();
  assert.equal(ea.text, '👩‍💻', 'Bo\'s emoji stays through both undos');
  assert.equal(b.text, '👩‍💻');
  ba.redo();
  ba.redo();
  net.settle();
  assert.equal(ea.text, '👩‍💻😀 one two');
  assert.equal(b.text, ea.text);
  ba.destroy();
});

test('binding: remote carets reach the adapter in UTF-16 offsets', () => {
  const net = new Net(new Server());
  const a = onlineClient(net, { name: 'Ada' });
  const b = onlineClient(net, { name: 'Bo' });
  net.settle();
  a.applyLocal(['😀😀ab']);
  net.settle();
  const eb = new FakeAdapter(b.text);
  const bb = new EditorBinding(b, eb);
  a.sendPresence(3, 3); // after "😀😀a"
  net.settle();
  assert.deepEqual(eb.carets.map((c) => [c.name, c.anchor, c.head]), [['Ada', 5, 5]]);
  bb.destroy();
});
