/** resolveLimits fills the limits a server left out with the defaults. @param {any} l @returns {Limits} */
export function resolveLimits(l: any): Limits;
/** @typedef {{bytes: number, items: number}} Budget */
/**
 * budgetFor bounds one submit's op for a document id (valid ids need no
 * escapes; the factor covers invalid ones).
 * @param {Limits} l @param {string} doc @returns {Budget}
 */
export function budgetFor(l: Limits, doc: string): Budget;
/** utf8Bytes is the length of s in UTF-8. @param {string} s */
export function utf8Bytes(s: string): number;
/**
 * split cuts op into first, which fits the budget, and rest, applying
 * after it (compose(first, rest) equals op); null when op fits whole.
 * @param {Budget} b @param {Op} op @returns {[Op, Op] | null}
 */
export function split(b: Budget, op: Op): [Op, Op] | null;
/** insertedText is the text op inserts, its pieces joined. @param {Op} op */
export function insertedText(op: Op): string;
/** @typedef {import('./ot.js').Op} Op */
/** @typedef {{frame: number, doc: number, op: number, components: number}} Limits */
/** collabd's defaults, for a server that advertises no limits. @type {Limits} */
export const DEFAULT_LIMITS: Limits;
export type Budget = {
    bytes: number;
    items: number;
};
export type Op = import("./ot.js").Op;
export type Limits = {
    frame: number;
    doc: number;
    op: number;
    components: number;
};
