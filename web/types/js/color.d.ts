/** @param {unknown} c @returns {c is string} */
export function isColor(c: unknown): c is string;
/** @param {unknown} c @param {string} [fallback] @returns {string} */
export function safeColor(c: unknown, fallback?: string): string;
/**
 * colorClass returns a class setting --collab-peer to color (#hex, checked
 * by safeColor), for decorations (Monaco's take class names only). The
 * rule goes in a constructed style sheet: pages whose
 * Content-Security-Policy forbids inline styles (collab's own) refuse a
 * style attribute on a decoration, not a rule added through the CSSOM.
 * @param {string} color
 */
export function colorClass(color: string): string;
