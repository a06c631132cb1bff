/**
 * @typedef {object} TransportOptions
 * @property {string[]} servers http(s) URLs of the service, in the order to try
 * @property {typeof WebSocket} WebSocket
 * @property {(fn: () => void, ms: number) => any} setTimeout
 * @property {(id: any) => void} clearTimeout
 * @property {() => number} random
 * @property {() => number} maxBackoff the longest wait between attempts now, ms
 * @property {() => void} onopen the socket opened
 * @property {(msg: any) => void} onmessage a message arrived (parsed)
 * @property {(code: number, reason: string, opened: boolean) => void} onclose the socket closed (not by
 *   close()); opened: it had opened
 * @property {() => void} onwait a reconnect is scheduled
 */
/** @param {string | string[] | undefined} server @returns {string[]} */
export function parseServers(server: string | string[] | undefined): string[];
/** @param {string} server @returns {string} */
export function wsURL(server: string): string;
export class Transport {
    /** @param {TransportOptions} opts */
    constructor(opts: TransportOptions);
    /** Failed attempts since the last success (the backoff's exponent). */
    attempt: number;
    /** The URL connected to, or to be tried next. */
    get server(): string;
    get servers(): string[];
    /** A socket is open or opening. */
    get connected(): boolean;
    get waiting(): boolean;
    connect(): void;
    /** send reports whether msg went out (false when not connected). @param {object} msg */
    send(msg: object): boolean;
    reconnect(): void;
    /** resync closes the connection to rejoin on the same server. */
    resync(): void;
    /** drop closes the connection so that the next attempt goes to the next server. @param {string} reason */
    drop(reason: string): void;
    /**
     * abandon gives up a connection that seems dead (no answer, or the browser
     * went offline) at once: a closing handshake on a dead network could take
     * minutes to end.
     * @param {string} reason
     */
    abandon(reason: string): void;
    /** now skips the backoff wait (the browser came back online). */
    now(): void;
    /** stop closes the socket without telling onclose. */
    stop(): void;
    /** destroy stops for good. */
    destroy(): void;
    #private;
}
export type TransportOptions = {
    /**
     * http(s) URLs of the service, in the order to try
     */
    servers: string[];
    WebSocket: typeof WebSocket;
    setTimeout: (fn: () => void, ms: number) => any;
    clearTimeout: (id: any) => void;
    random: () => number;
    /**
     * the longest wait between attempts now, ms
     */
    maxBackoff: () => number;
    /**
     * the socket opened
     */
    onopen: () => void;
    /**
     * a message arrived (parsed)
     */
    onmessage: (msg: any) => void;
    /**
     * the socket closed (not by
     * close()); opened: it had opened
     */
    onclose: (code: number, reason: string, opened: boolean) => void;
    /**
     * a reconnect is scheduled
     */
    onwait: () => void;
};
