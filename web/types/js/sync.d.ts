export const RENEWING: "renewing access";
export class SyncCore {
    /**
     * diff, default diffOp, computes the server's change a reset rebases the
     * pending edits over (a test hands the core another client's diffs).
     * @param {{doc: string, token?: string, readonly?: boolean, renewable?: boolean,
     *   diff?: (before: string, after: string) => Op}} opts
     */
    constructor(opts: {
        doc: string;
        token?: string;
        readonly?: boolean;
        renewable?: boolean;
        diff?: (before: string, after: string) => Op;
    });
    get doc(): string;
    /** renewable: a new token can be had, so unauthorized asks for one (reauth). @param {boolean} v */
    set renewable(v: boolean);
    /** The local text. Reading it costs a scan when ops were applied since. */
    get text(): string;
    /** The local text's length in code points. */
    get length(): number;
    /** The server's text at rev. */
    get serverText(): string;
    get serverLength(): number;
    /** The last revision known from the server. */
    get rev(): number;
    get joined(): boolean;
    get readonly(): boolean;
    get publicId(): string | null;
    get lastSeq(): number;
    get inflight(): Inflight | null;
    get buffer(): Buffered | null;
    /** The local edits not yet acknowledged (each keystroke counts). */
    get pendingCount(): number;
    get hasPending(): boolean;
    /** The other editors. @returns {Peer[]} */
    get peers(): Peer[];
    /** @param {string} client */
    peer(client: string): import("./presence.js").Peer | undefined;
    /** The outbox, for persistence. @returns {Outbox} */
    outbox(): Outbox;
    /**
     * restore takes a saved outbox and the server's text at its revision
     * (before any connection). It returns false, changing nothing, when the
     * ops do not fit the text.
     * @param {Outbox} box @param {string} serverText
     */
    restore(box: Outbox, serverText: string): boolean;
    /** renewed forgets the seqs of an old client id (nothing may be pending). */
    renewed(): void;
    /**
     * receive takes one server message. An op that does not fit the state
     * makes the core start over from the server's text (a resync).
     * @param {any} msg @returns {Output}
     */
    receive(msg: any): Output;
    /**
     * disconnected: the connection is gone; edits go on and wait.
     * @returns {Output}
     */
    disconnected(): Output;
    /**
     * edit records a local edit, an op on the current local text.
     * @param {Op} op @returns {Output}
     */
    edit(op: Op): Output;
    /**
     * caret shares the local caret or selection (code points of the local
     * text), mapped back to the last server revision.
     * @param {number} anchor @param {number} head @returns {Output}
     */
    caret(anchor: number, head: number): Output;
    /** leave says goodbye to the document. @returns {Output} */
    leave(): Output;
    /**
     * reauth takes a new token: given to the open connection (auth, which
     * the server handles before what follows), and the session the server
     * ended for the old one is joined again, resuming the pending edits.
     * @param {string} token @returns {Output}
     */
    reauth(token: string): Output;
    /**
     * tooLarge: the connection closed because a message was too large (1009):
     * the op in flight is refused as doc_too_large.
     * @returns {Output}
     */
    tooLarge(): Output;
    /**
     * recreate starts the document again from the local text, after the
     * person chose to: the next connection joins the new, empty document and
     * submits the whole text.
     * @returns {Output}
     */
    recreate(): Output;
    #private;
}
export type Op = import("./ot.js").Op;
export type Peer = import("./presence.js").Peer;
/**
 * The op in flight. confirm: a reset rebased it after it was sent, so the
 * server may commit it as first sent (sequenced through another server
 * before the reset, committed after): its ack is followed by a join for
 * the text, which shows which was committed.
 */
export type Inflight = {
    seq: number;
    op: Op;
    count: number;
    confirm?: boolean;
};
export type Buffered = {
    op: Op;
    count: number;
};
/**
 * A change of the local text: op (code points) turned the previous text
 * into the current one; local when this editor made it; client and name
 * say whose it is.
 */
export type Change = {
    op: Op;
    local: boolean;
    client: string;
    name: string;
};
/**
 * A change of the server's text, for persistence: op applied to it (the
 * new revision rev), or text replaced it.
 */
export type ServerChange = {
    rev: number;
    op?: Op;
    text?: string;
};
/**
 * What one input produced, to be carried out in this order: persist
 * (the outbox must be on disk before a submit leaves), send, changes,
 * then the rest.
 */
export type Output = {
    /**
     * messages to send, in order
     */
    send: object[];
    /**
     * changes to apply to the editor, in order
     */
    changes: Change[];
    /**
     * changes of the server's text
     */
    server: ServerChange[];
    /**
     * write the outbox now (a seq is about to leave)
     */
    persist: boolean;
    /**
     * the outbox changed: write it soon
     */
    save: boolean;
    /**
     * the other editors or their carets changed
     */
    peers: boolean;
    /**
     * a submit was acknowledged (the server commits)
     */
    acked: boolean;
    /**
     * server errors about this document
     */
    errors: {
        code: string;
        message: string;
    }[];
    /**
     * edits refused for good
     * and taken out of the text: why, and the text they inserted (for the person to keep)
     */
    refused: {
        code: string;
        message: string;
        text: string;
    } | null;
    /**
     * the document was deleted (by: who, when known)
     */
    deleted: {
        by: string;
    } | null;
    /**
     * what the transport must do:
     * reconnect to the same server, move to the next after a backoff, or stop (fatal, deleted);
     * reauth: get a new token (the server ended the session for its token, or refused it)
     */
    action: "resync" | "unavailable" | "fatal" | "deleted" | "reauth" | null;
    /**
     * why, for fatal; a notice otherwise
     */
    message: string;
};
/**
 * The outbox: what a reload needs to resubmit the unsent edits.
 */
export type Outbox = {
    rev: number;
    lastSeq: number;
    inflight: Inflight | null;
    buffer: Buffered | null;
};
