/** @param {any} w @returns {Op} */
export function fromWire(w: any): Op;
/** @param {string} text @returns {Op} */
export function parse(text: string): Op;
/** @param {Op} op @returns {Op} */
export function toWire(op: Op): Op;
/** @param {Op} op @returns {number} */
export function baseLen(op: Op): number;
/** @param {Op} op @returns {number} */
export function targetLen(op: Op): number;
/** @param {Op} op */
export function isNoop(op: Op): boolean;
/** @param {number} n @returns {Op} */
export function noop(n: number): Op;
/** @param {Op} op @param {number} n */
export function checkBase(op: Op, n: number): void;
/** @param {string} text @param {Op} op @param {number} [n] @returns {string} */
export function apply(text: string, op: Op, n?: number): string;
/** @param {Op} a @param {Op} b @returns {Op} */
export function compose(a: Op, b: Op): Op;
/** @param {Op} a @param {Op} b @returns {[Op, Op]} */
export function transform(a: Op, b: Op): [Op, Op];
/** @param {Op} op @param {string} text @returns {Op} */
export function invert(op: Op, text: string): Op;
/** @param {number} index @param {Op} op @param {boolean} [own] @returns {number} */
export function transformIndex(index: number, op: Op, own?: boolean): number;
/** @param {string} a @param {string} b @param {number} [caret] @returns {Op} */
export function diff(a: string, b: string, caret?: number): Op;
/** @type {(c: number | string) => c is number} */
export const isRetain: (c: number | string) => c is number;
/** @type {(c: number | string) => c is string} */
export const isInsert: (c: number | string) => c is string;
/** @type {(c: number | string) => c is number} */
export const isDelete: (c: number | string) => c is number;
export class Builder {
    /** @type {Op} */
    ops: Op;
    /** @param {number} n */
    retain(n: number): this;
    /** @param {string} s */
    insert(s: string): this;
    /** @param {number} n */
    delete(n: number): this;
    done(): Op;
}
export class OpError extends Error {
    /** @param {string} message @param {string} [kind] */
    constructor(message: string, kind?: string);
    kind: string;
}
export type Comp = {
    k: string;
    n: number;
    s: string;
};
/**
 * An op in wire form: retain n (> 0), insert (string), delete n (< 0).
 */
export type Op = (number | string)[];
