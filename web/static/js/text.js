// @ts-check
// Conversion between JavaScript strings (UTF-16 code units) and the code
// point positions used on the wire. Nothing here ever splits a surrogate pair.

const isHigh = (/** @type {number} */ c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (/** @type {number} */ c) => c >= 0xdc00 && c <= 0xdfff;

// cpLength returns the number of code points of s. A lone surrogate counts
// as one.
/** @param {string} s @returns {number} */
export function cpLength(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    if (isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i++;
  }
  return n;
}

// Skips of many code points by the regular expression engine, which counts
// them faster than a loop of charCodeAt: in a pattern with the u flag,
// [\s\S] is one code point, a pair or a lone surrogate, as in cpLength.
const SKIP_LONG = /[\s\S]{256}/uy;
const SKIP_SHORT = /[\s\S]{32}/uy;

// advance returns the UTF-16 index n code points after UTF-16 index i of s.
// It throws a RangeError past the end.
/** @param {string} s @param {number} i @param {number} n @returns {number} */
export function advance(s, i, n) {
  while (n >= 256) {
    SKIP_LONG.lastIndex = i;
    if (!SKIP_LONG.test(s)) break;
    i = SKIP_LONG.lastIndex;
    n -= 256;
  }
  while (n >= 32) {
    SKIP_SHORT.lastIndex = i;
    if (!SKIP_SHORT.test(s)) break;
    i = SKIP_SHORT.lastIndex;
    n -= 32;
  }
  for (; n > 0; n--) {
    if (i >= s.length) throw new RangeError('ot: retain or delete past the end of the document');
    if (isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i += 2;
    else i += 1;
  }
  return i;
}

// cpToUtf16 converts a code point index of s to a UTF-16 index, clamped to
// the end of s.
/** @param {string} s @param {number} cp @returns {number} */
export function cpToUtf16(s, cp) {
  let i = 0;
  for (; cp > 0 && i < s.length; cp--) {
    i += isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
  }
  return i;
}

// utf16ToCp converts a UTF-16 index of s to a code point index. An index
// between the two halves of a pair is moved back before the pair.
/** @param {string} s @param {number} i @returns {number} */
export function utf16ToCp(s, i) {
  if (i > s.length) i = s.length;
  if (i < 0) i = 0;
  i = snapBack(s, i);
  let n = 0;
  for (let j = 0; j < i; j++, n++) {
    if (isHigh(s.charCodeAt(j)) && j + 1 < s.length && isLow(s.charCodeAt(j + 1))) j++;
  }
  return n;
}

// snapBack moves a UTF-16 index that falls inside a surrogate pair to the
// pair's start.
/** @param {string} s @param {number} i @returns {number} */
export function snapBack(s, i) {
  if (i > 0 && i < s.length && isLow(s.charCodeAt(i)) && isHigh(s.charCodeAt(i - 1))) return i - 1;
  return i;
}

// sliceCp returns the code points [from, to) of s.
/** @param {string} s @param {number} from @param {number} [to] @returns {string} */
export function sliceCp(s, from, to) {
  const a = advance(s, 0, from);
  return s.slice(a, to === undefined ? s.length : advance(s, a, to - from));
}

// wellFormed replaces every lone surrogate of s with U+FFFD, as the server
// refuses them.
/** @param {string} s @returns {string} */
export function wellFormed(s) {
  if (typeof s.toWellFormed === 'function') return s.toWellFormed();
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isHigh(c) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) { i++; continue; }
    if (isHigh(c) || isLow(c)) { out += s.slice(last, i) + '\ufffd'; last = i + 1; }
  }
  return last === 0 ? s : out + s.slice(last);
}
