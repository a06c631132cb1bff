// @ts-check
// A CodeMirror language (Markdown highlighting) kept only while parsing
// stays cheap. Lezer parses incrementally, but re-reads the whole block an
// edit falls in: in a document that is one huge paragraph every keystroke
// re-parses it, and the background parser then holds the page for up to
// 100 ms at a time. So the language is dropped when the document grows
// past maxDoc UTF-16 units, or an edit makes a run of lines without a
// blank line longer than maxBlock units; it comes back when the document
// shrinks to under nine tenths of maxDoc with every run short again.
// The checks cost the lines around each change, never a scan of the
// document while it is large.

/** UTF-16 units past which a document is shown without its language. */
export const MAX_DOC = 1 << 20;
/** UTF-16 units past which a run of non-blank lines turns the language off. */
export const MAX_BLOCK = 1 << 13;

/** @typedef {{length: number, text: string, number: number, from: number, to: number}} Line */

/** @param {Line} line */
const isBlank = (line) => line.length === 0 || (line.length < 256 && line.text.trim() === '');

/**
 * textFits reports whether a whole text may keep its language: at most
 * maxDoc units, and no run of non-blank lines longer than maxBlock.
 * @param {string} text @param {number} maxDoc @param {number} maxBlock
 */
export function textFits(text, maxDoc, maxBlock) {
  if (text.length > maxDoc) return false;
  let run = 0;
  for (let at = 0; at <= text.length;) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (text.slice(at, end).trim() === '') run = 0;
    else if ((run += end - at + 1) > maxBlock) return false;
    at = end + 1;
  }
  return true;
}

/**
 * longRunAround reports whether a run of non-blank lines touching
 * [from, to] of doc (a CodeMirror Text) is longer than max.
 * @param {any} doc @param {number} from @param {number} to @param {number} max
 */
export function longRunAround(doc, from, to, max) {
  /** @type {Line} */
  let line = doc.lineAt(from);
  let run = 0;
  // Back to the start of the run the change starts in.
  for (let l = line; !isBlank(l); l = doc.line(l.number - 1)) {
    if ((run += l.length + 1) > max) return true;
    if (l.number === 1) break;
  }
  run -= isBlank(line) ? 0 : line.length + 1;
  // Forward through the change, and to the end of the run it ends in.
  for (;;) {
    if (isBlank(line)) {
      if (line.from > to) return false;
      run = 0;
    } else if ((run += line.length + 1) > max) return true;
    if (line.number === doc.lines) return false;
    line = doc.line(line.number + 1);
  }
}

/**
 * cappedLanguage returns a CodeMirror extension holding language (e.g. a
 * LanguageSupport) while the document fits, and isOn, which tells whether
 * a state has it.
 * @param {any} cm the exports of @codemirror/state
 * @param {any} language
 * @param {string} text the document the state is created with
 * @param {{maxDoc?: number, maxBlock?: number}} [limits]
 * @returns {{extension: any, isOn: (state: any) => boolean}}
 */
export function cappedLanguage(cm, language, text, { maxDoc = MAX_DOC, maxBlock = MAX_BLOCK } = {}) {
  const slot = new cm.Compartment();
  /** @param {any} state */
  const isOn = (state) => slot.get(state) === language;
  const extender = cm.EditorState.transactionExtender.of((/** @type {any} */ tr) => {
    if (!tr.docChanged) return null;
    const doc = tr.newDoc;
    const on = isOn(tr.startState);
    let want = on;
    if (on) {
      want = doc.length <= maxDoc;
      tr.changes.iterChangedRanges((/** @type {number} */ _fa, /** @type {number} */ _ta, /** @type {number} */ from, /** @type {number} */ to) => {
        if (want && longRunAround(doc, from, to, maxBlock)) want = false;
      });
    } else if (doc.length < maxDoc * 0.9 && tr.startState.doc.length >= maxDoc * 0.9) {
      want = textFits(doc.toString(), maxDoc, maxBlock);
    }
    return want === on ? null : { effects: slot.reconfigure(want ? language : []) };
  });
  return { extension: [slot.of(textFits(text, maxDoc, maxBlock) ? language : []), extender], isOn };
}
