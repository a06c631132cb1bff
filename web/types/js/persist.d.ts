/** @typedef {import('./ot.js').Op} Op */
/** @typedef {import('./sync.js').Outbox} Outbox */
/** @typedef {import('./sync.js').ServerChange} ServerChange */
/** @typedef {import('./sync.js').SyncCore} SyncCore */
/**
 * @typedef {{v: number, ts: number, rev: number, lastSeq: number, base: number, since: Op | null,
 *   inflight: {seq: number, op: Op, count: number, confirm?: boolean} | null, buffer: {op: Op, count: number} | null}} PendingRecord
 */
export const STORE_PREFIX: "collab:pending:";
export const TEXT_PREFIX: "collab:text:";
export const STALE_MS: 15000;
export class Persistence {
    /**
     * @param {{storage: Storage | null, service: string, doc: string, now: () => number,
     *   setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (id: any) => void}} opts
     */
    constructor(opts: {
        storage: Storage | null;
        service: string;
        doc: string;
        now: () => number;
        setTimeout: (fn: () => void, ms: number) => any;
        clearTimeout: (id: any) => void;
    });
    /** @param {string} client */
    recordKey(client: string): string;
    /** @param {string} client @param {number} rev */
    textKey(client: string, rev: number): string;
    /**
     * adoptOrphan returns the client id of unsent edits saved for this
     * document by a tab that is gone, so they are resubmitted under that id.
     * @param {Set<string>} claimed client ids in use by this page
     * @returns {string | null}
     */
    adoptOrphan(claimed: Set<string>): string | null;
    /**
     * use makes client the id whose record and snapshot this writes; the
     * snapshot of a previous id is removed (its record must be gone).
     * @param {string} client
     */
    use(client: string): void;
    /**
     * load returns the saved outbox of the client and the server's text at
     * its revision, or null. What load returns becomes the base of later
     * records.
     * @returns {{box: Outbox, serverText: string} | null}
     */
    load(): {
        box: Outbox;
        serverText: string;
    } | null;
    /**
     * track follows the server's text, so that a record can name it.
     * @param {ServerChange[]} changes @param {SyncCore} core
     */
    track(changes: ServerChange[], core: SyncCore): void;
    /**
     * write brings the record up to date with the core's outbox, or removes
     * it when nothing is pending.
     * @param {SyncCore} core
     */
    write(core: SyncCore): void;
    /**
     * forget removes the record and snapshot when nothing is pending (the
     * page goes, or is hidden: it writes them again if it comes back).
     * @param {SyncCore} core
     */
    forget(core: SyncCore): void;
    stop(): void;
    #private;
}
export type Op = import("./ot.js").Op;
export type Outbox = import("./sync.js").Outbox;
export type ServerChange = import("./sync.js").ServerChange;
export type SyncCore = import("./sync.js").SyncCore;
export type PendingRecord = {
    v: number;
    ts: number;
    rev: number;
    lastSeq: number;
    base: number;
    since: Op | null;
    inflight: {
        seq: number;
        op: Op;
        count: number;
        confirm?: boolean;
    } | null;
    buffer: {
        op: Op;
        count: number;
    } | null;
};
