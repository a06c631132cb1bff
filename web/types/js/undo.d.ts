/** @param {Op} op */
export function changeRange(op: Op): {
    start: number;
    end: number;
};
/** @param {Op} op */
export function changeEnd(op: Op): number;
/** @typedef {import('./ot.js').Op} Op */
/** @typedef {{op: Op, closed?: boolean}} Step */
export const PAUSE_MS: 1000;
export class UndoHistory {
    get canUndo(): boolean;
    get canRedo(): boolean;
    get depth(): number;
    /**
     * record takes a local edit and the op that reverts it (on the text the
     * edit produced).
     * @param {Op} op @param {Op} inverse @param {number} now ms
     */
    record(op: Op, inverse: Op, now: number): void;
    /** close ends the current step (the caret moved away, or a pause). */
    close(): void;
    /**
     * undo pops the step to revert; the caller applies it and hands its
     * inverse to pushRedo. null when there is nothing to undo.
     * @returns {Op | null}
     */
    undo(): Op | null;
    /** @returns {Op | null} */
    redo(): Op | null;
    /** @param {Op} inverse the op reverting the undo just applied */
    pushRedo(inverse: Op): void;
    /** @param {Op} inverse the op reverting the redo just applied */
    pushUndo(inverse: Op): void;
    /**
     * transform moves both stacks over an op of someone else, applied to
     * the current text.
     * @param {Op} op
     */
    transform(op: Op): void;
    #private;
}
export type Op = import("./ot.js").Op;
export type Step = {
    op: Op;
    closed?: boolean;
};
