// @ts-check
// The Monaco binding: MonacoAdapter (the editor adapter of editor.js for
// a Monaco editor) and MonacoBinding, which connects an editor to a
// DocClient with it.
//
//   const editor = monaco.editor.create(parent, { value: client.text });
//   const binding = new MonacoBinding(client, editor, monaco);
//
// The monaco namespace is passed in, so that the binding works with the
// page's own copy of monaco-editor, whichever it is; collab does not ship
// Monaco.
//
// Local changes come from the model's content events (UTF-16 offsets of
// the text before them); what they deleted, which undo needs, is read from
// a second, hidden model that follows the editor's, so nothing scans the
// document. Remote ops and undo steps are applied with model.applyEdits as
// one edit each and are not sent back. Monaco's own undo stack cannot undo
// through edits applied that way (it would revert them at stale offsets),
// so Ctrl/Cmd+Z, Ctrl/Cmd+Shift+Z and Ctrl/Cmd+Y run the binding's
// history, which undoes this editor's own edits only, through everyone
// else's. Other editors' selections are decorations titled with their
// names; their carets are content widgets with a name label. During an
// IME composition nothing is sent and remote ops wait; the composed text
// is sent once the composition ends.
//
// The model's line breaks must be the document's. Monaco normalises them
// to one kind, so a document mixing \n and \r\n (or a remote edit
// bringing the other kind) cannot be shown: the editor then turns
// read-only for good and says why in a banner over it (and a
// `collab-problem` event for the page), rather than send edits at
// offsets that no longer match the document.

import { EditorBinding } from './editor.js';
import { colorClass, safeColor } from './color.js';

/** @typedef {import('./astral.js').Utf16Change} Utf16Change */
/** @typedef {import('./editor.js').RemoteCaret} RemoteCaret */
/** @typedef {import('./client.js').DocClient} DocClient */
/** @typedef {Utf16Change & {deleted: string}} LocalChange */

const STYLE = `
.collab-monaco-selection { background: color-mix(in srgb, var(--collab-peer) 25%, transparent); }
.collab-monaco-caret { width: 2px; margin-left: -1px; background: var(--collab-peer); pointer-events: none; }
.collab-monaco-label { position: absolute; left: 0; bottom: 100%; padding: 0 .3em; border-radius: 3px 3px 3px 0;
  background: var(--collab-peer); color: #fff; font: 600 11px/1.4 system-ui, sans-serif; white-space: nowrap;
  animation: collab-monaco-fade .3s 1.5s forwards; }
@keyframes collab-monaco-fade { to { opacity: 0; } }
.collab-monaco-problem { margin: 4px; padding: .4em .6em; max-width: 36em; border-radius: 4px;
  background: #fff4e5; color: #5c3b00; border: 1px solid #e0a040; font: 13px/1.4 system-ui, sans-serif; }
`;

/** What the editor shows when it cannot show the document's line breaks. */
export const MIXED_BREAKS_MESSAGE = 'This document mixes two kinds of line breaks (Unix and Windows), ' +
  'which this editor cannot show, so editing here is turned off to keep the text intact. ' +
  'Others can go on editing; open the document in another editor (CodeMirror or the plain one) to edit it.';

/** @type {CSSStyleSheet | null} */
let sheet = null;

function addStyle() {
  if (sheet) return;
  sheet = new CSSStyleSheet();
  sheet.replaceSync(STYLE);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}

export class MonacoAdapter {
  #editor;
  #monaco;
  #model;
  #shadow; // the text before the editor's latest change, for what it deleted
  /** @type {EditorBinding | null} */ #binding = null;
  #applying = false; // the model is changed by apply or a revert: not a local edit
  #readonly = false;
  #broken = false; // the model could not take the document's line breaks
  /** @type {{lo: number, hi: number, delta: number} | null} */
  #composed = null; // the span a composition changed: [lo, hi) now, hi - delta before it
  /** @type {Map<string, {widget: any, node: HTMLElement, at: number}>} */ #carets = new Map();
  #selections;
  composing = false;
  /** @type {{dispose(): void}[]} */ #off = [];

  /**
   * @param {any} editor a monaco.editor.IStandaloneCodeEditor with a model
   * @param {any} monaco the monaco-editor namespace
   * @param {string} text the document's text, shown at once
   */
  constructor(editor, monaco, text) {
    this.#editor = editor;
    this.#monaco = monaco;
    this.#model = editor.getModel();
    if (!text.includes('\r')) this.#model.setEOL(monaco.editor.EndOfLineSequence.LF);
    if (this.#model.getValue() !== text) this.#model.setValue(text);
    if (this.#model.getValueLength() !== text.length) this.#break();
    this.#shadow = monaco.editor.createModel(text, 'plaintext');
    this.#shadow.setEOL(this.#model.getEOL() === '\n' ? monaco.editor.EndOfLineSequence.LF : monaco.editor.EndOfLineSequence.CRLF);
    this.#selections = editor.createDecorationsCollection([]);
    addStyle();
    const { KeyMod, KeyCode } = monaco;
    this.#off.push(
      this.#model.onDidChangeContent((/** @type {any} */ e) => this.#changed(e)),
      editor.onDidChangeCursorSelection(() => this.#binding?.selected()),
      editor.onDidCompositionStart(() => { this.composing = true; this.#composed = null; }),
      editor.onDidCompositionEnd(() => queueMicrotask(() => this.#compositionEnded())),
      editor.addAction({ id: 'collab.undo', label: 'Undo', keybindings: [KeyMod.CtrlCmd | KeyCode.KeyZ], run: () => this.#binding?.undo() }),
      editor.addAction({
        id: 'collab.redo', label: 'Redo',
        keybindings: [KeyMod.CtrlCmd | KeyMod.Shift | KeyCode.KeyZ, KeyMod.CtrlCmd | KeyCode.KeyY],
        run: () => this.#binding?.redo(),
      }),
    );
  }

  /** @param {EditorBinding} b */
  bind(b) { this.#binding = b; }

  /** @returns {number} */
  get units() { return this.#model.getValueLength(); }

  /** @param {number} from @param {number} to @returns {string} */
  read(from, to) { return this.#model.getValueInRange(this.#range(this.#model, from, to)); }

  /** @returns {{anchor: number, head: number}} */
  selection() {
    const s = this.#editor.getSelection();
    if (!s) return { anchor: 0, head: 0 };
    const m = this.#model;
    return {
      anchor: m.getOffsetAt({ lineNumber: s.selectionStartLineNumber, column: s.selectionStartColumn }),
      head: m.getOffsetAt({ lineNumber: s.positionLineNumber, column: s.positionColumn }),
    };
  }

  /**
   * @param {Utf16Change[]} changes
   * @param {{anchor: number, head: number}} [selection]
   */
  apply(changes, selection) {
    const edits = changes.map((c) => ({ range: this.#range(this.#model, c.from, c.to), text: c.insert }));
    const units = changes.reduce((n, c) => n + c.insert.length - (c.to - c.from), this.#model.getValueLength());
    this.#applying = true;
    try {
      this.#model.applyEdits(edits);
    } finally {
      this.#applying = false;
    }
    this.#shadow.applyEdits(edits);
    if (this.#model.getValueLength() !== units) this.#break();
    if (selection) {
      const a = this.#model.getPositionAt(selection.anchor);
      const h = this.#model.getPositionAt(selection.head);
      this.#editor.setSelection(new this.#monaco.Selection(a.lineNumber, a.column, h.lineNumber, h.column));
      this.#editor.revealPosition(h);
    }
  }

  /** @param {RemoteCaret[]} carets */
  drawCarets(carets) {
    const m = this.#model;
    const decorations = [];
    for (const c of carets) {
      if (c.anchor === c.head) continue;
      const color = colorClass(safeColor(c.color));
      decorations.push({
        range: this.#range(m, Math.min(c.anchor, c.head), Math.max(c.anchor, c.head)),
        options: { className: `collab-monaco-selection ${color}`, hoverMessage: { value: c.name || 'Someone' }, stickiness: 1 },
      });
    }
    this.#selections.set(decorations);
    const live = new Set(carets.map((c) => c.client));
    for (const [client, w] of this.#carets) {
      if (live.has(client)) continue;
      this.#editor.removeContentWidget(w.widget);
      this.#carets.delete(client);
    }
    for (const c of carets) this.#drawCaret(c);
  }

  /** @param {RemoteCaret} c */
  #drawCaret(c) {
    let w = this.#carets.get(c.client);
    if (!w) {
      const node = document.createElement('div');
      node.className = 'collab-monaco-caret';
      const id = 'collab.caret.' + c.client;
      /** @type {any} */
      const widget = {
        position: null,
        getId: () => id,
        getDomNode: () => node,
        getPosition: () => widget.position,
        allowEditorOverflow: false,
        suppressMouseDown: true,
      };
      w = { widget, node, at: -1 };
      this.#carets.set(c.client, w);
      this.#editor.addContentWidget(widget);
    }
    const { node, widget } = w;
    node.style.setProperty('--collab-peer', safeColor(c.color));
    node.style.height = `${this.#editor.getOption(this.#monaco.editor.EditorOption.lineHeight)}px`;
    if (w.at !== c.head || node.dataset.name !== c.name) {
      // A new label: it shows again whenever the caret moves.
      const label = document.createElement('span');
      label.className = 'collab-monaco-label';
      label.textContent = c.name || 'Someone';
      node.replaceChildren(label);
      node.dataset.name = c.name;
    }
    w.at = c.head;
    widget.position = { position: this.#model.getPositionAt(c.head), preference: [this.#monaco.editor.ContentWidgetPositionPreference.EXACT] };
    this.#editor.layoutContentWidget(widget);
  }

  /** @param {boolean} readonly */
  setReadOnly(readonly) {
    this.#readonly = readonly || this.#broken;
    this.#editor.updateOptions({ readOnly: this.#readonly });
  }

  /** True once the model could not take the document's line breaks. */
  get broken() { return this.#broken; }

  #break() {
    if (this.#broken) return;
    this.#broken = true;
    this.setReadOnly(true);
    console.error('collab: the document mixes \\n and \\r\\n line breaks, which Monaco cannot show; the editor is read-only');
    this.#showProblem(MIXED_BREAKS_MESSAGE);
  }

  /**
   * Tells the person in the editor, in a banner over it, and the page, with
   * a `collab-problem` event on the editor's DOM node ({detail: {message}}).
   * @param {string} message
   */
  #showProblem(message) {
    const node = document.createElement('div');
    node.className = 'collab-monaco-problem';
    node.setAttribute('role', 'alert');
    node.textContent = message;
    this.#editor.addOverlayWidget({
      getId: () => 'collab.problem',
      getDomNode: () => node,
      getPosition: () => ({ preference: this.#monaco.editor.OverlayWidgetPositionPreference.TOP_CENTER }),
    });
    this.#editor.getContainerDomNode().dispatchEvent(new CustomEvent('collab-problem', { bubbles: true, detail: { message } }));
  }

  destroy() {
    this.#off.forEach((d) => d.dispose());
    this.#off = [];
    for (const w of this.#carets.values()) this.#editor.removeContentWidget(w.widget);
    this.#carets.clear();
    this.#selections.clear();
    this.#shadow.dispose();
  }

  /** @param {any} model @param {number} from @param {number} to */
  #range(model, from, to) {
    const a = model.getPositionAt(from);
    const b = model.getPositionAt(to);
    return new this.#monaco.Range(a.lineNumber, a.column, b.lineNumber, b.column);
  }

  // changed takes a change of the model's content.
  /** @param {any} e */
  #changed(e) {
    if (this.#applying) return;
    // Monaco lists the changes from the end of the text; each range is in
    // the text before all of them.
    const raw = [...e.changes].reverse();
    if (this.composing) { this.#grow(raw); return; }
    /** @type {LocalChange[]} */
    const changes = raw.map((c) => ({
      from: c.rangeOffset, to: c.rangeOffset + c.rangeLength, insert: c.text,
      deleted: this.#shadow.getValueInRange(c.range),
    }));
    if (this.#readonly) { this.#revert(changes); return; }
    this.#shadow.applyEdits(raw.map((c) => ({ range: c.range, text: c.text })));
    this.#binding?.local(changes);
  }

  // grow widens the composition's span over changes (ascending, in the
  // text before them).
  /** @param {any[]} raw */
  #grow(raw) {
    let shift = 0;
    for (const c of raw) {
      const from = c.rangeOffset + shift;
      const to = from + c.rangeLength;
      const d = c.text.length - c.rangeLength;
      const s = this.#composed;
      if (!s) this.#composed = { lo: from, hi: to + d, delta: d };
      else {
        s.lo = Math.min(s.lo, from);
        s.hi = (s.hi >= to ? s.hi : to) + d;
        s.delta += d;
      }
      shift += d;
    }
  }

  #compositionEnded() {
    if (!this.composing) return;
    this.composing = false;
    const s = this.#composed;
    this.#composed = null;
    /** @type {LocalChange[]} */
    const changes = [];
    if (s) {
      const range = this.#range(this.#shadow, s.lo, s.hi - s.delta);
      const change = {
        from: s.lo, to: s.hi - s.delta,
        insert: this.#model.getValueInRange(this.#range(this.#model, s.lo, s.hi)),
        deleted: this.#shadow.getValueInRange(range),
      };
      if (this.#readonly) { this.#revert([change]); change.insert = change.deleted; }
      this.#shadow.applyEdits([{ range, text: change.insert }]);
      if (change.insert !== change.deleted) changes.push(change);
    }
    this.#binding?.compositionEnded(changes);
  }

  // revert undoes changes the model took while read-only.
  /** @param {LocalChange[]} changes ascending, in the text before them */
  #revert(changes) {
    let shift = 0;
    const edits = changes.map((c) => {
      const from = c.from + shift;
      shift += c.insert.length - (c.to - c.from);
      return { range: this.#range(this.#model, from, from + c.insert.length), text: c.deleted };
    });
    this.#applying = true;
    try {
      this.#model.applyEdits(edits);
    } finally {
      this.#applying = false;
    }
  }
}

// MonacoBinding connects a Monaco editor to a DocClient: the editor's
// model is set to the client's text.
export class MonacoBinding {
  /**
   * @param {DocClient} client
   * @param {any} editor a monaco.editor.IStandaloneCodeEditor with a model
   * @param {any} monaco the monaco-editor namespace
   */
  constructor(client, editor, monaco) {
    this.adapter = new MonacoAdapter(editor, monaco, client.text);
    this.binding = new EditorBinding(client, this.adapter);
    this.adapter.bind(this.binding);
  }

  undo() { this.binding.undo(); }
  redo() { this.binding.redo(); }

  destroy() {
    this.binding.destroy();
    this.adapter.destroy();
  }
}
