/**
 * unmapIndex carries a position of the text op produced back to the text
 * op applies to: a position inside inserted text goes to where it was
 * inserted. It needs neither text, so sending a caret costs no scan of the
 * document.
 * @param {number} index @param {Op} op @returns {number}
 */
export function unmapIndex(index: number, op: Op): number;
/** @typedef {import('./ot.js').Op} Op */
/**
 * A remote editor: its public id, name, colour, and caret or selection
 * (null until it sent one); stale while our connection is down (it may
 * have left meanwhile).
 * @typedef {{client: string, name: string, color: string, anchor: number | null, head: number | null, stale?: boolean}} Peer
 */
export class Peers {
    /** The editors present, in arrival order. @returns {Peer[]} */
    list(): Peer[];
    /** @param {string} client @returns {Peer | undefined} */
    get(client: string): Peer | undefined;
    clear(): void;
    /** stale marks every editor stale and reports whether there was one. */
    stale(): boolean;
    /**
     * editor records an arrival or a departure.
     * @param {{client: string, name?: string, color?: string, event: string}} msg
     */
    editor(msg: {
        client: string;
        name?: string;
        color?: string;
        event: string;
    }): void;
    /**
     * caret sets an editor's caret, already in local positions, clamped to
     * the text's length.
     * @param {{client: string, name?: string, color?: string}} msg
     * @param {number} anchor @param {number} head @param {number} len
     */
    caret(msg: {
        client: string;
        name?: string;
        color?: string;
    }, anchor: number, head: number, len: number): void;
    /**
     * move carries every caret through op, applied to the local text; a
     * caret of the op's author moves after the text it inserted.
     * @param {Op} op @param {string | null} author
     */
    move(op: Op, author: string | null): void;
    #private;
}
export type Op = import("./ot.js").Op;
/**
 * A remote editor: its public id, name, colour, and caret or selection
 * (null until it sent one); stale while our connection is down (it may
 * have left meanwhile).
 */
export type Peer = {
    client: string;
    name: string;
    color: string;
    anchor: number | null;
    head: number | null;
    stale?: boolean;
};
