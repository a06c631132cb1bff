export class LazyText {
    /** @param {string} [text] */
    constructor(text?: string);
    /** Replaces the text. @param {string} text */
    set(text: string): void;
    /** The text's length in code points. */
    get length(): number;
    /** The text (applies the ops kept so far). */
    get value(): string;
    /**
     * apply changes the text by op; an op that does not fit its length
     * throws an OpError and changes nothing.
     * @param {Op} op
     */
    apply(op: Op): void;
    /** Makes this text a copy of other (without reading it). @param {LazyText} other */
    copy(other: LazyText): void;
    #private;
}
export type Op = import("./ot.js").Op;
