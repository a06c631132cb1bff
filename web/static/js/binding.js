// TextareaBinding connects a <textarea> to a DocClient.
//
// Local edits are found by diffing the textarea's previous and new value on
// every `input` event (typing, paste, cut, delete, drag and drop, spelling
// fixes: whatever the browser did), never splitting a surrogate pair. During
// an IME composition nothing is sent; the composed text is diffed at
// `compositionend`, and remote ops that arrived meanwhile are applied then.
// Remote ops keep the local caret and selection on the same characters.
// Undo and redo (Ctrl/Cmd+Z, Ctrl/Cmd+Shift+Z, Ctrl+Y) revert only this
// editor's edits, transformed through everyone else's.

import * as ot from './ot.js';
import { cpToUtf16, utf16ToCp, wellFormed } from './text.js';

const GROUP_MS = 700; // edits closer than this undo together

export class TextareaBinding {
  constructor(textarea, client) {
    this.ta = textarea;
    this.client = client;
    this.prev = client.text; // the textarea's value as last synchronised
    this.composing = false;
    this.deferred = null;    // remote op applied to the client during a composition
    this.undoStack = [];     // {op, t}: ops undoing our edits, newest last
    this.redoStack = [];
    this.lastEditAt = 0;
    this.lastEditPos = null; // where the last local edit ended, in code points
    this.presenceTimer = null;
    this.ta.value = client.text;
    this.ta.readOnly = client.readonly;

    this.on(textarea, 'input', (e) => { if (!this.composing && !e.isComposing) this.readInput(); });
    this.on(textarea, 'compositionstart', () => { this.composing = true; });
    this.on(textarea, 'compositionend', () => { this.composing = false; this.readInput(); });
    this.on(textarea, 'beforeinput', (e) => this.onBeforeInput(e));
    this.on(textarea, 'keydown', (e) => this.onKeyDown(e));
    for (const ev of ['select', 'keyup', 'mouseup', 'focus']) this.on(textarea, ev, () => this.schedulePresence());
    this.on(textarea.ownerDocument, 'selectionchange', () => {
      if (textarea.ownerDocument.activeElement === textarea) this.schedulePresence();
    });
    this.on(client, 'change', (e) => { if (!e.detail.local) this.onRemote(e.detail.op); });
    this.on(client, 'status', () => { this.ta.readOnly = client.readonly || client.fatal; });
  }

  on(target, type, fn) {
    target.addEventListener(type, fn);
    (this.listeners ||= []).push(() => target.removeEventListener(type, fn));
  }

  destroy() {
    (this.listeners || []).forEach((off) => off());
    this.listeners = [];
    clearTimeout(this.presenceTimer);
  }

  // readInput turns the textarea's change since the last sync into an op.
  readInput() {
    let value = this.ta.value;
    if (value === this.prev && !this.deferred) return;
    if (this.client.readonly && value !== this.prev) value = this.ta.value = this.prev;
    const clean = wellFormed(value);
    if (clean !== value) {
      const s = this.ta.selectionStart;
      const e = this.ta.selectionEnd;
      this.ta.value = value = clean;
      this.ta.setSelectionRange(s, e);
    }
    let op = ot.diff(this.prev, value, this.ta.selectionEnd);
    if (this.deferred) {
      // Remote edits reached the client during a composition: they were
      // committed first, so the composed text moves over them.
      const sel = this.selection(value);
      const [remote, mine] = ot.transform(this.deferred, op);
      this.deferred = null;
      if (!ot.isNoop(mine)) {
        this.record(mine, this.client.text);
        this.client.applyLocal(mine);
      }
      this.prev = this.client.text;
      this.setValue(this.client.text, {
        anchor: ot.transformIndex(sel.anchor, remote), head: ot.transformIndex(sel.head, remote), dir: sel.dir,
      });
      this.schedulePresence();
      return;
    }
    if (ot.isNoop(op)) return;
    this.record(op, this.prev);
    this.prev = value;
    this.client.applyLocal(op);
    this.schedulePresence();
  }

  // record pushes the inverse of a local op (on text) to the undo stack.
  // Edits join the previous undo step when they come quickly and touch the
  // place where the previous edit ended (typing on, backspacing back);
  // an edit elsewhere starts a new step.
  record(op, text) {
    const inv = ot.invert(op, text);
    const now = Date.now();
    const top = this.undoStack[this.undoStack.length - 1];
    const { start, end } = changeRange(op);
    const adjacent = this.lastEditPos !== null && start <= this.lastEditPos && this.lastEditPos <= end;
    if (top && now - this.lastEditAt < GROUP_MS && !top.closed && adjacent) top.op = ot.compose(inv, top.op);
    else this.undoStack.push({ op: inv });
    this.lastEditAt = now;
    this.lastEditPos = changeEnd(op);
    this.redoStack = [];
  }

  onRemote(op) {
    // Our undo history moves over the others' edits.
    this.undoStack = transformStack(this.undoStack, op);
    this.redoStack = transformStack(this.redoStack, op);
    if (this.lastEditPos !== null) this.lastEditPos = ot.transformIndex(this.lastEditPos, op);
    if (this.composing) {
      // Touching the value would break the IME; catch up at compositionend.
      this.deferred = this.deferred ? ot.compose(this.deferred, op) : op;
      return;
    }
    const sel = this.selection(this.prev);
    this.prev = this.client.text;
    this.setValue(this.client.text, {
      anchor: ot.transformIndex(sel.anchor, op), head: ot.transformIndex(sel.head, op), dir: sel.dir,
    });
  }

  // selection returns the textarea's selection in code points of value.
  selection(value) {
    const s = utf16ToCp(value, this.ta.selectionStart);
    const e = utf16ToCp(value, this.ta.selectionEnd);
    const back = this.ta.selectionDirection === 'backward';
    return { anchor: back ? e : s, head: back ? s : e, dir: this.ta.selectionDirection };
  }

  // setValue replaces the textarea's value, keeping scroll and putting the
  // selection (code points) back.
  setValue(value, sel) {
    const ta = this.ta;
    const top = ta.scrollTop;
    const left = ta.scrollLeft;
    const focused = ta.ownerDocument.activeElement === ta;
    if (ta.value !== value) ta.value = value;
    if (sel && (focused || sel.force)) {
      const a = cpToUtf16(value, sel.anchor);
      const h = cpToUtf16(value, sel.head);
      ta.setSelectionRange(Math.min(a, h), Math.max(a, h), a > h ? 'backward' : (sel.dir === 'none' ? 'none' : 'forward'));
    }
    ta.scrollTop = top;
    ta.scrollLeft = left;
  }

  onBeforeInput(e) {
    if (e.inputType === 'historyUndo' || e.inputType === 'historyRedo') {
      e.preventDefault();
      if (e.inputType === 'historyUndo') this.undo(); else this.redo();
    }
  }

  onKeyDown(e) {
    const mod = e.ctrlKey || e.metaKey;
    if (!mod || e.altKey) return;
    const k = e.key.toLowerCase();
    if (k === 'z' && !e.shiftKey) { e.preventDefault(); this.undo(); }
    else if ((k === 'z' && e.shiftKey) || (k === 'y' && e.ctrlKey && !e.metaKey)) { e.preventDefault(); this.redo(); }
  }

  undo() { this.step(this.undoStack, this.redoStack); }
  redo() { this.step(this.redoStack, this.undoStack); }

  step(from, to) {
    if (this.client.readonly || this.composing) return;
    this.readInput(); // anything typed but not yet read
    const entry = from.pop();
    if (!entry) return;
    const before = this.client.text;
    to.push({ op: ot.invert(entry.op, before), closed: true });
    if (from.length) from[from.length - 1].closed = true;
    this.client.applyLocal(entry.op);
    this.prev = this.client.text;
    const at = changeEnd(entry.op);
    this.setValue(this.client.text, { anchor: at, head: at, force: true });
    this.lastEditAt = 0;
    this.schedulePresence();
  }

  schedulePresence() {
    if (this.presenceTimer) return;
    this.presenceTimer = setTimeout(() => {
      this.presenceTimer = null;
      if (this.composing || this.ta.value !== this.prev) return;
      const sel = this.selection(this.prev);
      this.client.sendPresence(sel.anchor, sel.head);
    }, 40);
  }
}

// transformStack moves a stack of ops (newest last, each applying after
// the ones above it are undone) over a remote op on the current text.
function transformStack(stack, op) {
  const out = [];
  for (let i = stack.length - 1; i >= 0; i--) {
    const [op1, e1] = ot.transform(op, stack[i].op);
    op = op1;
    if (!ot.isNoop(e1)) out.push({ ...stack[i], op: e1 });
  }
  return out.reverse();
}

// changeRange is the span [start, end] of op's base text that its changes
// touch (start == end for a pure insertion).
function changeRange(op) {
  let pos = 0;
  let start = -1;
  let end = 0;
  for (const c of op) {
    if (ot.isRetain(c)) { pos += c; continue; }
    if (start < 0) start = pos;
    if (ot.isDelete(c)) pos -= c;
    end = pos;
  }
  return { start: Math.max(start, 0), end };
}

// changeEnd is the position after the last change of op in its result.
function changeEnd(op) {
  let pos = 0;
  let end = 0;
  for (const c of op) {
    if (ot.isRetain(c)) pos += c;
    else if (ot.isInsert(c)) { pos += [...c].length; end = pos; } else end = pos;
  }
  return end;
}
