import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as cm from '../static/vendor/codemirror.js';
import { cappedLanguage, textFits } from '../static/js/langcap.js';

const para = ('words and more words\n'.repeat(4) + '\n');
const limits = { maxDoc: 4000, maxBlock: 400 };

function editor(text) {
  const lang = new cm.LanguageSupport(cm.markdownLanguage);
  const capped = cappedLanguage(cm, lang, text, limits);
  let state = cm.EditorState.create({ doc: text, extensions: [capped.extension] });
  const edit = (spec) => { state = state.update(spec).state; return capped.isOn(state); };
  return { on: () => capped.isOn(state), edit, length: () => state.doc.length };
}

test('textFits: the size of the document and of its runs of non-blank lines', () => {
  assert.ok(textFits(para.repeat(10), 4000, 400));
  assert.ok(!textFits(para.repeat(200), 4000, 400), 'too large');
  assert.ok(!textFits('x'.repeat(500), 4000, 400), 'one long line');
  assert.ok(!textFits('line\n'.repeat(100), 4000, 400), 'one long paragraph of short lines');
  assert.ok(textFits('line\n'.repeat(70) + '  \n' + 'line\n'.repeat(70), 4000, 400), 'a blank line of spaces ends a run');
});

test('the language is on for a small document with paragraphs and off for one long paragraph', () => {
  assert.ok(editor(para.repeat(10)).on());
  assert.ok(!editor('line\n'.repeat(100)).on());
  assert.ok(!editor(para.repeat(200)).on());
});

test('typing a paragraph past the limit turns the language off; a blank line elsewhere does not bring it back', () => {
  const e = editor(para.repeat(4));
  const mid = para.length * 2 + 3; // inside the third paragraph
  for (let i = 0; i < 5; i++) assert.ok(e.edit({ changes: { from: mid, insert: 'x'.repeat(40) } }), `typed ${i}`);
  assert.ok(!e.edit({ changes: { from: mid, insert: 'x'.repeat(300) } }), 'the paragraph is longer than 400');
  assert.ok(!e.edit({ changes: { from: 0, insert: '\n\n' } }));
});

test('an edit past the document limit turns the language off; shrinking under nine tenths turns it back on', () => {
  const e = editor(para.repeat(10));
  assert.ok(!e.edit({ changes: { from: 0, insert: para.repeat(40) } }), 'larger than 4000');
  assert.ok(!e.edit({ changes: { from: 0, to: para.length * 2 } }), 'still over 3600');
  assert.ok(e.edit({ changes: { from: 0, to: e.length() - para.length * 10 } }), 'back to 10 paragraphs');
});

test('a paste of one long paragraph, into an empty document or between paragraphs, turns it off', () => {
  assert.ok(!editor('').edit({ changes: { from: 0, insert: 'line\n'.repeat(100) } }));
  const e = editor(para.repeat(4));
  assert.ok(!e.edit({ changes: { from: para.length, insert: 'line\n'.repeat(100) } }));
  const f = editor(para.repeat(4));
  assert.ok(f.edit({ changes: { from: para.length, insert: para.repeat(3) } }), 'paragraphs of the right size keep it');
});
