/**
 * opToChanges turns an op (code points, on the text idx indexes) into
 * UTF-16 changes of that text, in its offsets, ascending.
 * @param {import('./ot.js').Op} op @param {AstralIndex} idx @returns {Utf16Change[]}
 */
export function opToChanges(op: import("./ot.js").Op, idx: AstralIndex): Utf16Change[];
export class AstralIndex {
    /** @param {string} text */
    constructor(text: string);
    /** reset indexes a whole new text (one scan). @param {string} text */
    reset(text: string): void;
    /** The text's length in UTF-16 units. */
    get units(): number;
    /** The text's length in code points. */
    get length(): number;
    /** The number of surrogate pairs (0: conversions are identities). */
    get astral(): number;
    /** toUtf16 converts a code point offset (clamped to the text). @param {number} cp */
    toUtf16(cp: number): number;
    /**
     * toCp converts a UTF-16 offset; one between the two units of a pair
     * goes to the pair's start.
     * @param {number} u
     */
    toCp(u: number): number;
    /**
     * apply updates the index for changes, in UTF-16 offsets of the text
     * before them, ascending and not overlapping (as CodeMirror's ChangeSet
     * and Monaco's edits give them).
     * @param {Utf16Change[]} changes
     */
    apply(changes: Utf16Change[]): void;
    #private;
}
/**
 * A change of a text: UTF-16 offsets in the text before it.
 */
export type Utf16Change = {
    from: number;
    to: number;
    insert: string;
};
