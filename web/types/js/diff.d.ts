/**
 * @param {string} a @param {string} b @param {{maxCost?: number}} [opts]
 * @returns {import('./ot.js').Op}
 */
export function diffOp(a: string, b: string, { maxCost }?: {
    maxCost?: number;
}): import("./ot.js").Op;
/**
 * A run of an edit script: retain, delete or insert n code points (an insert's from y[from]).
 */
export type Run = {
    k: "r" | "d" | "i";
    n: number;
    from: number;
};
