// @ts-check
// UndoHistory keeps the undo and redo steps of one editor's own edits, as
// ops (code points) that revert them, transformed through everyone else's
// edits so that undo never touches another's text.
//
// Steps group as in word processors: typing on joins the step until a word
// ends (the first character of a new word after a space, and any line
// break, starts a new step), a pause of PAUSE_MS starts one, and so does
// switching between typing and deleting, or an edit anywhere else.

import * as ot from './ot.js';

/** @typedef {import('./ot.js').Op} Op */
/** @typedef {{op: Op, closed?: boolean}} Step */

export const PAUSE_MS = 1000;

/** 'insert' | 'delete' | 'other', and whether an insert is blank. @param {Op} op */
function kindOf(op) {
  let ins = '';
  let del = 0;
  let pieces = 0;
  for (const c of op) {
    if (typeof c === 'string') { ins += c; pieces++; } else if (c < 0) { del -= c; pieces++; }
  }
  if (pieces !== 1) return { kind: 'other', text: ins };
  return { kind: ins ? 'insert' : 'delete', text: ins };
}

export class UndoHistory {
  /** @type {Step[]} */ #undo = [];
  /** @type {Step[]} */ #redo = [];
  #lastAt = 0;
  /** @type {number | null} */ #lastPos = null; // where the last edit ended, code points
  #lastKind = '';
  #lastText = '';

  get canUndo() { return this.#undo.length > 0; }
  get canRedo() { return this.#redo.length > 0; }
  get depth() { return this.#undo.length; }

  /**
   * record takes a local edit and the op that reverts it (on the text the
   * edit produced).
   * @param {Op} op @param {Op} inverse @param {number} now ms
   */
  record(op, inverse, now) {
    const top = this.#undo[this.#undo.length - 1];
    const { start, end } = changeRange(op);
    const { kind, text } = kindOf(op);
    const adjacent = this.#lastPos !== null && start <= this.#lastPos && this.#lastPos <= end;
    const newWord = kind === 'insert' && (/\n/.test(text) || (/^\S/.test(text) && /\s$/.test(this.#lastText)));
    const join = top && !top.closed && adjacent && now - this.#lastAt < PAUSE_MS &&
      kind !== 'other' && kind === this.#lastKind && !newWord;
    if (join) top.op = ot.compose(inverse, top.op);
    else this.#undo.push({ op: inverse });
    this.#lastAt = now;
    this.#lastPos = changeEnd(op);
    this.#lastKind = kind;
    this.#lastText = text;
    this.#redo = [];
  }

  /** close ends the current step (the caret moved away, or a pause). */
  close() {
    const top = this.#undo[this.#undo.length - 1];
    if (top) top.closed = true;
  }

  /**
   * undo pops the step to revert; the caller applies it and hands its
   * inverse to pushRedo. null when there is nothing to undo.
   * @returns {Op | null}
   */
  undo() { return this.#pop(this.#undo); }

  /** @returns {Op | null} */
  redo() { return this.#pop(this.#redo); }

  /** @param {Op} inverse the op reverting the undo just applied */
  pushRedo(inverse) { this.#redo.push({ op: inverse, closed: true }); }

  /** @param {Op} inverse the op reverting the redo just applied */
  pushUndo(inverse) { this.#undo.push({ op: inverse, closed: true }); }

  /** @param {Step[]} stack */
  #pop(stack) {
    const s = stack.pop();
    if (!s) return null;
    this.close();
    this.#lastAt = 0;
    this.#lastPos = null;
    return s.op;
  }

  /**
   * transform moves both stacks over an op of someone else, applied to
   * the current text.
   * @param {Op} op
   */
  transform(op) {
    this.#undo = transformStack(this.#undo, op);
    this.#redo = transformStack(this.#redo, op);
    if (this.#lastPos !== null) this.#lastPos = ot.transformIndex(this.#lastPos, op);
  }
}

// transformStack moves a stack of ops (newest last, each applying after
// the ones above it are undone) over a remote op on the current text.
/** @param {Step[]} stack @param {Op} op */
function transformStack(stack, op) {
  /** @type {Step[]} */
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
/** @param {Op} op */
export function changeRange(op) {
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
/** @param {Op} op */
export function changeEnd(op) {
  let pos = 0;
  let end = 0;
  for (const c of op) {
    if (ot.isRetain(c)) pos += c;
    else if (ot.isInsert(c)) { pos += [...c].length; end = pos; } else end = pos;
  }
  return end;
}
