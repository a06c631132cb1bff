// @ts-check
// The CodeMirror 6 binding: an extension a page adds to its own EditorView.
//
//   import * as state from '@codemirror/state';
//   import * as view from '@codemirror/view';
//   const cm = { ...state, ...view };
//   new view.EditorView({ parent, state: state.EditorState.create({
//     doc: client.text, extensions: [history(), collab(client, cm)] }) });
//
// The CodeMirror modules are passed in (cm) so that the binding works with
// the page's own copy of CodeMirror, whichever it is: two copies of
// @codemirror/state cannot share extensions. The widget passes the bundle
// in static/vendor/codemirror.js.
//
// Local transactions become ops (UTF-16 to code points through an
// AstralIndex: no scan of the document); a remote op becomes one
// transaction, annotated so that it is not sent back and not added to the
// undo history, which therefore undoes this editor's own edits only and
// maps them through everyone else's (CodeMirror's history does that for
// changes outside it). Other editors' carets and selections are
// decorations with their name and colour; the name shows while the caret
// moves and on hover, not over the text when idle. During an IME
// composition the composed text is held back and sent when it ends, and
// remote ops are transformed over it, so other editors never see
// unfinished input.

import * as ot from './ot.js';
import { AstralIndex, opToChanges } from './astral.js';
import { safeColor, colorClass } from './color.js';

/** @typedef {import('./ot.js').Op} Op */
/** @typedef {import('./astral.js').Utf16Change} Utf16Change */
/** @typedef {import('./client.js').DocClient} DocClient */

const PRESENCE_MS = 40;

/**
 * collab returns the extension binding an EditorView to client. The view's
 * document must start as client.text.
 * @param {DocClient} client
 * @param {any} cm the exports of @codemirror/state and @codemirror/view
 * @returns {any} a CodeMirror Extension
 */
export function collab(client, cm) {
  const remote = cm.Annotation.define();
  const setCarets = cm.StateEffect.define();
  const readOnly = new cm.Compartment();

  class CaretWidget extends cm.WidgetType {
    /** @param {string} name @param {string} color @param {number} at @param {number} version */
    constructor(name, color, at, version) { super(); this.name = name; this.color = color; this.at = at; this.version = version; }
    /** @param {CaretWidget} o */
    eq(o) { return o.name === this.name && o.color === this.color && o.at === this.at && o.version === this.version; }
    toDOM() {
      const caret = document.createElement('span');
      caret.className = 'cm-collab-caret';
      caret.style.setProperty('--collab-peer', this.color);
      caret.dataset.name = this.name;
      const label = document.createElement('span');
      label.className = 'cm-collab-label';
      label.textContent = this.name || 'Someone';
      caret.append(label);
      return caret;
    }
    ignoreEvent() { return true; }
  }

  const carets = cm.StateField.define({
    create: () => cm.Decoration.none,
    /** @param {any} deco @param {any} tr */
    update(deco, tr) {
      deco = deco.map(tr.changes);
      for (const e of tr.effects) if (e.is(setCarets)) deco = e.value;
      return deco;
    },
    /** @param {any} f */
    provide: (f) => cm.EditorView.decorations.from(f),
  });

  const theme = cm.EditorView.baseTheme({
    '.cm-collab-caret': { position: 'relative', borderLeft: '2px solid var(--collab-peer)', marginLeft: '-1px', marginRight: '-1px' },
    '.cm-collab-label': {
      position: 'absolute', left: '-2px', bottom: '100%', padding: '0 .3em', borderRadius: '3px 3px 3px 0',
      background: 'var(--collab-peer)', color: '#fff', font: '600 .7rem/1.4 system-ui, sans-serif', whiteSpace: 'nowrap',
      pointerEvents: 'none', animation: 'cm-collab-fade .3s 1.5s forwards', zIndex: '10',
    },
    '.cm-collab-caret:hover .cm-collab-label': { animation: 'none', opacity: '1' },
    '@keyframes cm-collab-fade': { to: { opacity: '0' } },
    '.cm-collab-selection': { background: 'color-mix(in srgb, var(--collab-peer) 25%, transparent)' },
  });

  const plugin = cm.ViewPlugin.fromClass(class {
    /** @param {any} view */
    constructor(view) {
      this.view = view;
      // The view starts as client.text, already a string: no copy of the document.
      this.index = new AstralIndex(client.text);
      /** @type {Op | null} */ this.held = null; // local edits of a composition, not yet sent
      /** @type {any} */ this.timer = null;
      /** @type {Map<string, {at: number, version: number}>} */ this.moved = new Map();
      this.version = 0;
      // The carets as last set, which the shown decorations still are
      // until a local edit maps them: a presence report that changes no
      // caret then dispatches nothing (a transaction costs a layout).
      /** @type {string | null} */ this.shown = null;
      /** @type {boolean | null} */ this.readonly = null;
      /** @param {Event} e */
      this.onChange = (e) => { const d = /** @type {CustomEvent} */ (e).detail; if (!d.local) this.remote(d.op); };
      this.onPresence = () => this.drawCarets();
      this.onStatus = () => this.setReadOnly();
      client.addEventListener('change', this.onChange);
      client.addEventListener('presence', this.onPresence);
      client.addEventListener('status', this.onStatus);
      queueMicrotask(() => { this.setReadOnly(); this.drawCarets(); });
    }

    destroy() {
      client.removeEventListener('change', this.onChange);
      client.removeEventListener('presence', this.onPresence);
      client.removeEventListener('status', this.onStatus);
      clearTimeout(this.timer);
    }

    /** @param {any} u */
    update(u) {
      let moved = u.selectionSet;
      for (const tr of u.transactions) {
        if (!tr.docChanged || tr.annotation(remote)) continue;
        this.shown = null;
        this.local(tr.changes);
        moved = true;
      }
      if (this.held && !u.view.composing) queueMicrotask(() => this.flush());
      // Another editor's op moves our caret as it moves it for everyone.
      if (moved) this.schedulePresence();
    }

    // local turns a local ChangeSet into an op and sends it (or holds it
    // during a composition).
    /** @param {any} changes */
    local(changes) {
      const idx = this.index;
      const b = new ot.Builder();
      /** @type {Utf16Change[]} */
      const list = [];
      let pos = 0;
      changes.iterChanges((/** @type {number} */ fromA, /** @type {number} */ toA, /** @type {number} */ _fromB, /** @type {number} */ _toB, /** @type {any} */ ins) => {
        const from = idx.toCp(fromA);
        const to = idx.toCp(toA);
        const insert = ins.toString();
        b.retain(from - pos);
        b.insert(insert);
        b.delete(to - from);
        pos = to;
        list.push({ from: fromA, to: toA, insert });
      });
      b.retain(idx.length - pos);
      idx.apply(list);
      const op = b.done();
      if (ot.isNoop(op)) return;
      if (client.readonly) return; // the compartment keeps the view read-only; nothing to send
      if (this.view.composing || this.held) {
        this.held = this.held ? ot.compose(this.held, op) : op;
        return;
      }
      client.applyLocal(op);
    }

    // flush sends what a composition typed, once it ended.
    flush() {
      if (!this.held || this.view.composing) return;
      const op = this.held;
      this.held = null;
      if (!client.readonly) client.applyLocal(op);
    }

    // remote shows another editor's op (applied to the client's text) as
    // one transaction.
    /** @param {Op} op */
    remote(op) {
      if (this.held) {
        // The client's text lacks the held edits: move the op over them.
        const [r, h] = ot.transform(op, this.held);
        this.held = h;
        op = r;
      }
      const idx = this.index;
      const changes = opToChanges(op, idx);
      if (!changes.length) return;
      idx.apply(changes);
      const { deco, key } = this.caretDecorations();
      this.view.dispatch({
        changes,
        annotations: [remote.of(true), cm.Transaction.addToHistory.of(false)],
        effects: setCarets.of(deco),
      });
      this.shown = key;
    }

    drawCarets() {
      const { deco, key } = this.caretDecorations();
      if (key === this.shown) return;
      this.view.dispatch({ effects: setCarets.of(deco) });
      this.shown = key;
    }

    /** @returns {{deco: any, key: string}} the carets' decorations, and a key that names them */
    caretDecorations() {
      const idx = this.index;
      const len = idx.units;
      const ranges = [];
      const keys = [];
      for (const p of client.core.peers) {
        if (p.anchor == null || p.head == null || p.stale) continue;
        const a = Math.min(idx.toUtf16(p.anchor), len);
        const h = Math.min(idx.toUtf16(p.head), len);
        const color = safeColor(p.color);
        const name = p.name || '';
        // The label shows again whenever the caret moves.
        const last = this.moved.get(p.client);
        const version = last && last.at === h ? last.version : ++this.version;
        this.moved.set(p.client, { at: h, version });
        keys.push(JSON.stringify([a, h, version, color, name]));
        if (a !== h) {
          ranges.push(cm.Decoration.mark({
            class: `cm-collab-selection ${colorClass(color)}`, attributes: { 'data-name': name },
          }).range(Math.min(a, h), Math.max(a, h)));
        }
        ranges.push(cm.Decoration.widget({ widget: new CaretWidget(name, color, h, version), side: h === a ? 1 : (h > a ? 1 : -1) }).range(h));
      }
      return { deco: cm.Decoration.set(ranges, true), key: keys.join() };
    }

    setReadOnly() {
      const ro = client.readonly || client.fatal;
      if (ro === this.readonly) return;
      this.readonly = ro;
      // Read-only also refuses changes a script dispatches: only remote ones pass.
      const filter = cm.EditorState.changeFilter.of((/** @type {any} */ tr) => !ro || !!tr.annotation(remote));
      this.view.dispatch({ effects: readOnly.reconfigure([cm.EditorState.readOnly.of(ro), cm.EditorView.editable.of(!ro), filter]) });
    }

    schedulePresence() {
      if (this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.view.composing || this.held) return;
        const sel = this.view.state.selection.main;
        client.sendPresence(this.index.toCp(sel.anchor), this.index.toCp(sel.head));
      }, PRESENCE_MS);
    }
  }, {
    eventHandlers: {
      compositionend() { queueMicrotask(() => /** @type {any} */ (this).flush()); },
    },
  });

  return [carets, theme, readOnly.of([]), plugin, ...lineBreaks(cm)];
}

/**
 * lineBreaks keeps the editor's text the client's, code point for code
 * point: CodeMirror reads \r\n and \r as line breaks of one character
 * unless its line separator is set, which would move every position after
 * a \r\n in a document written elsewhere. With \n the only line break, a
 * \r is a character of its line; pasted and dropped text has its \r\n
 * turned into \n, as a textarea does (when this CodeMirror has
 * clipboardInputFilter).
 * @param {any} cm @returns {any[]}
 */
function lineBreaks(cm) {
  const ext = [cm.EditorState.lineSeparator.of('\n')];
  if (cm.EditorView.clipboardInputFilter) {
    ext.push(cm.EditorView.clipboardInputFilter.of((/** @type {string} */ text) => text.replace(/\r\n?/g, '\n')));
  }
  return ext;
}

/**
 * joinByWord is the history option (joinToEvent) that groups undo steps by word and
 * pause: typing joins the step until a new word starts after a space, or a
 * line break is typed.
 * @param {any} tr a Transaction @param {boolean} adjacent
 */
export function joinByWord(tr, adjacent) {
  if (!adjacent) return false;
  let newWord = false;
  tr.changes.iterChanges((/** @type {number} */ fromA, /** @type {number} */ _toA, /** @type {number} */ _fb, /** @type {number} */ _tb, /** @type {any} */ ins) => {
    const s = ins.toString();
    if (s.includes('\n')) newWord = true;
    else if (/^\S/.test(s) && fromA > 0 && /\s/.test(tr.startState.doc.sliceString(fromA - 1, fromA))) newWord = true;
  });
  return !newWord;
}
