/**
 * tokenExpiry reads the exp claim of a JWT, in milliseconds, without
 * checking it (the server does); null if it has none.
 * @param {string} token @returns {number | null}
 */
export function tokenExpiry(token: string): number | null;
export function randomId(): string;
/** @param {StatusDetail} d @returns {string} */
export function describeStatus(d: StatusDetail): string;
/**
 * @typedef {object} DocClientOptions
 * @property {string | string[]} server http(s) URL of the service, or several (see parseServers)
 * @property {string} doc
 * @property {string} [name]
 * @property {string} [color]
 * @property {string} [token]
 * @property {(() => Promise<string> | string) | null} [getToken] gives a new token: called before the
 *   token expires and when the server ends the session for it (expired, revoked); the connection
 *   keeps going and the unsent edits wait
 * @property {boolean} [readonly]
 * For tests:
 * @property {any} [WebSocket]
 * @property {Storage | null} [storage] unsent edits (default localStorage)
 * @property {Storage | null} [session] the tab's client id (default sessionStorage)
 * @property {() => number} [random]
 * @property {(fn: () => void, ms: number) => any} [setTimeout]
 * @property {(id: any) => void} [clearTimeout]
 * @property {((fn: () => void, ms: number) => any) | null} [setInterval] null: no heartbeat
 * @property {(id: any) => void} [clearInterval]
 * @property {() => number} [now]
 * @property {(fn: () => void) => void} [schedule] runs a function after the current task
 * @property {any} [page] the window whose pagehide and visibilitychange save the record (null: none)
 * @property {number} [maxBackoff] the longest wait between attempts while hidden
 * @property {{setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (id: any) => void} | null} [watchdog]
 *   the timers that give up a connection leaving a submit unanswered (default setTimeout; null: none)
 * @property {(url: string) => Promise<any>} [fetch] for /api/origin-check (default fetch)
 * @property {{setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (id: any) => void}} [snapshotTimers]
 *   the timers that write snapshots of the text (default setTimeout and clearTimeout)
 */
export class DocClient extends EventTarget {
    /** @param {DocClientOptions} opts */
    constructor(opts: DocClientOptions);
    service: string;
    doc: string;
    name: string;
    color: string;
    token: string;
    session: Storage | null;
    setInterval: ((fn: () => void, ms: number) => any) | typeof setInterval | null;
    clearInterval: typeof clearInterval;
    now: () => number;
    schedule: (fn: () => void) => void;
    page: any;
    setTimeout: ((fn: () => void, ms: number) => any) | typeof setTimeout;
    clearTimeout: typeof clearTimeout;
    watchdog: {
        setTimeout: ((fn: () => void, ms: number) => any) | typeof setTimeout;
        clearTimeout: typeof clearTimeout;
    } | null;
    fetch: ((url: string) => Promise<any>) | typeof fetch | null;
    /** @type {(() => Promise<string> | string) | null} */ getToken: (() => Promise<string> | string) | null;
    core: SyncCore;
    store: Persistence;
    transport: Transport;
    state: string;
    message: string;
    closed: boolean;
    fatal: boolean;
    unavailable: string;
    /** @type {any} */ heartbeat: any;
    dirty: boolean;
    saveQueued: boolean;
    lastEmitted: string;
    joinedBefore: boolean;
    /** @type {any} */ answerTimer: any;
    /** @type {any} */ quietTimer: any;
    checkingOrigin: boolean;
    /** @type {Set<string>} */ originAnswered: Set<string>;
    /** @type {{by: string} | null} */ deleted: {
        by: string;
    } | null;
    /** @type {any} */ renewTimer: any;
    renewing: boolean;
    /** @param {Event} e */
    onPageHide: (e: Event) => void;
    onOnline: () => void;
    onOffline: () => void;
    client: string;
    start(): this;
    /**
     * setTokenSource gives the client a getToken after it started (the
     * widget's property may be set after the element connected).
     * @param {(() => Promise<string> | string) | null} getToken
     */
    setTokenSource(getToken: (() => Promise<string> | string) | null): void;
    scheduleRenewal(): void;
    renewToken(): Promise<void>;
    /** The local text (the server's with the pending edits). */
    get text(): string;
    /** Its length in code points. */
    get textLen(): number;
    get serverText(): string;
    get serverLen(): number;
    get serverRev(): number;
    get readonly(): boolean;
    get joined(): boolean;
    get publicId(): string | null;
    get lastSeq(): number;
    get inflight(): import("./sync.js").Inflight | null;
    get buffer(): import("./sync.js").Buffered | null;
    get pendingCount(): number;
    /** The other editors, by public id. @returns {Map<string, Peer>} */
    get peers(): Map<string, Peer>;
    /** The URL connected to, or to be tried next. */
    get server(): string;
    get servers(): string[];
    get attempt(): number;
    /** applyLocal records a local edit, an op on the current local text. @param {Op} op */
    applyLocal(op: Op): void;
    /** replaceText records the local edit turning the text into s. @param {string} s */
    replaceText(s: string): void;
    /**
     * sendPresence shares the local caret or selection (code points of the
     * local text).
     * @param {number} anchor @param {number} head
     */
    sendPresence(anchor: number, head: number): void;
    emitPeers(): void;
    recovered(): void;
    /** @param {string} client */
    storeKey(client: string): string;
    idKey(): string;
    pickClientId(): string;
    renewClientId(): void;
    save(): void;
    persist(): void;
    startHeartbeat(): void;
    stopHeartbeat(): void;
    connect(): void;
    /** maxBackoff is short while the person is looking. @param {number} hidden */
    maxBackoff(hidden: number): number;
    checkOrigin(): Promise<void>;
    recreate(): void;
    offlineMessage(): string;
    reconnectNow(): void;
    /** fail stops for good after an error reconnecting cannot fix. @param {string} message */
    fail(message: string): void;
    destroy(): void;
    updateState(): void;
    /** @param {string} state @param {string} [message] */
    setState(state: string, message?: string): void;
    /** @param {string} [message] @returns {StatusDetail} */
    statusDetail(message?: string): StatusDetail;
    #private;
}
export type Op = import("./ot.js").Op;
export type Output = import("./sync.js").Output;
export type Peer = import("./presence.js").Peer;
export type StatusDetail = {
    state: string;
    pending: number;
    rev: number;
    message: string;
};
export type DocClientOptions = {
    /**
     * http(s) URL of the service, or several (see parseServers)
     */
    server: string | string[];
    doc: string;
    name?: string | undefined;
    color?: string | undefined;
    token?: string | undefined;
    /**
     * gives a new token: called before the
     * token expires and when the server ends the session for it (expired, revoked); the connection
     * keeps going and the unsent edits wait
     */
    getToken?: (() => Promise<string> | string) | null | undefined;
    /**
     * For tests:
     */
    readonly?: boolean | undefined;
    WebSocket?: any;
    /**
     * unsent edits (default localStorage)
     */
    storage?: Storage | null | undefined;
    /**
     * the tab's client id (default sessionStorage)
     */
    session?: Storage | null | undefined;
    random?: (() => number) | undefined;
    setTimeout?: ((fn: () => void, ms: number) => any) | undefined;
    clearTimeout?: ((id: any) => void) | undefined;
    /**
     * null: no heartbeat
     */
    setInterval?: ((fn: () => void, ms: number) => any) | null | undefined;
    clearInterval?: ((id: any) => void) | undefined;
    now?: (() => number) | undefined;
    /**
     * runs a function after the current task
     */
    schedule?: ((fn: () => void) => void) | undefined;
    /**
     * the window whose pagehide and visibilitychange save the record (null: none)
     */
    page?: any;
    /**
     * the longest wait between attempts while hidden
     */
    maxBackoff?: number | undefined;
    /**
     * the timers that give up a connection leaving a submit unanswered (default setTimeout; null: none)
     */
    watchdog?: {
        setTimeout: (fn: () => void, ms: number) => any;
        clearTimeout: (id: any) => void;
    } | null | undefined;
    /**
     * for /api/origin-check (default fetch)
     */
    fetch?: ((url: string) => Promise<any>) | undefined;
    /**
     * the timers that write snapshots of the text (default setTimeout and clearTimeout)
     */
    snapshotTimers?: {
        setTimeout: (fn: () => void, ms: number) => any;
        clearTimeout: (id: any) => void;
    } | undefined;
};
import { parseServers } from './transport.js';
import { wsURL } from './transport.js';
import { SyncCore } from './sync.js';
import { Persistence } from './persist.js';
import { Transport } from './transport.js';
export { parseServers, wsURL };
