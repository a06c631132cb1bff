/** @param {string} s @returns {number} */
export function cpLength(s: string): number;
/** @param {string} s @param {number} i @param {number} n @returns {number} */
export function advance(s: string, i: number, n: number): number;
/** @param {string} s @param {number} cp @returns {number} */
export function cpToUtf16(s: string, cp: number): number;
/** @param {string} s @param {number} i @returns {number} */
export function utf16ToCp(s: string, i: number): number;
/** @param {string} s @param {number} i @returns {number} */
export function snapBack(s: string, i: number): number;
/** @param {string} s @param {number} from @param {number} [to] @returns {string} */
export function sliceCp(s: string, from: number, to?: number): string;
/** @param {string} s @returns {string} */
export function wellFormed(s: string): string;
