/**
 * @typedef {object} Timers
 * @property {(fn: () => void, ms: number) => any} setTimeout
 * @property {(id: any) => void} clearTimeout
 */
/**
 * statusLine returns the function that shows a status in el (its text, and
 * data-status for the colour of its dot), with the Retry button shown only
 * while offline. Going from saved to saving shows only after
 * SAVING_DELAY_MS, unless the save finished meanwhile; every other change
 * shows at once.
 * @param {HTMLElement} el @param {HTMLElement} retry @param {Timers} [timers]
 * @returns {(d: StatusDetail) => void}
 */
export function statusLine(el: HTMLElement, retry: HTMLElement, timers?: Timers): (d: StatusDetail) => void;
/**
 * @typedef {object} Person
 * @property {string} name
 * @property {string} [color]
 * @property {boolean} [stale] not seen since the connection dropped
 */
/**
 * peopleList returns the function that shows, in the list el, me and the
 * other editors: one item each, in the editor's colour, marked while
 * stale. The list is rebuilt only when a name, colour or staleness changed.
 * @param {HTMLElement} el
 * @returns {(me: Person, peers: Person[]) => void}
 */
export function peopleList(el: HTMLElement): (me: Person, peers: Person[]) => void;
/** @typedef {import('./client.js').StatusDetail} StatusDetail */
export const SAVING_DELAY_MS: 600;
export type Timers = {
    setTimeout: (fn: () => void, ms: number) => any;
    clearTimeout: (id: any) => void;
};
export type Person = {
    name: string;
    color?: string | undefined;
    /**
     * not seen since the connection dropped
     */
    stale?: boolean | undefined;
};
export type StatusDetail = import("./client.js").StatusDetail;
