/** @param {unknown} c @returns {c is string} */
export function isColor(c: unknown): c is string;
/** @param {unknown} c @param {string} [fallback] @returns {string} */
export function safeColor(c: unknown, fallback?: string): string;
