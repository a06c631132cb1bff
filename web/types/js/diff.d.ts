export function diffOp(a: any, b: any, { maxCost }?: {
    maxCost?: number | undefined;
}): import("./ot.js").Op;
