// @ts-check
// Colours of editors. A colour goes into CSS (the --collab-peer custom
// property, used in backgrounds and borders), so only the forms the server
// accepts are used: #rgb, #rrggbb or #rrggbbaa. Anything else, such as
// url(…), could make the browser fetch a URL chosen by another editor.

const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

// isColor reports whether c is a colour the server accepts.
/** @param {unknown} c @returns {c is string} */
export function isColor(c) {
  return typeof c === 'string' && HEX_COLOR.test(c);
}

// safeColor returns c if it is a colour the server accepts, else fallback.
/** @param {unknown} c @param {string} [fallback] @returns {string} */
export function safeColor(c, fallback = '#888') {
  return isColor(c) ? c : fallback;
}

/** @type {CSSStyleSheet | null} */
let colorSheet = null;
const colorClasses = new Set();

/**
 * colorClass returns a class setting --collab-peer to color (#hex, checked
 * by safeColor), for decorations (Monaco's take class names only). The
 * rule goes in a constructed style sheet: pages whose
 * Content-Security-Policy forbids inline styles (collab's own) refuse a
 * style attribute on a decoration, not a rule added through the CSSOM.
 * @param {string} color
 */
export function colorClass(color) {
  const cls = `collab-c${color.slice(1).toLowerCase()}`;
  if (colorClasses.has(cls)) return cls;
  if (!colorSheet) {
    colorSheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, colorSheet];
  }
  colorSheet.insertRule(`.${cls} { --collab-peer: ${color}; }`);
  colorClasses.add(cls);
  return cls;
}
