// @ts-check
// Notices of <collab-editor>: what went wrong, in plain words, with the way
// out as buttons. Each returns an element for the widget's notice area.

/**
 * @param {string} tag @param {Record<string, string>} attrs @param {(Node | string)[]} children
 * @returns {HTMLElement}
 */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** @param {string} label @param {() => void} onClick */
function button(label, onClick) {
  const b = /** @type {HTMLButtonElement} */ (el('button', { type: 'button' }, label));
  b.addEventListener('click', onClick);
  return b;
}

/** @param {Record<string, string>} attrs @param {(Node | string)[]} children */
function notice(attrs, ...children) {
  return el('div', { class: 'collab-notice', role: 'alert', ...attrs }, ...children);
}

// Why an edit was refused, for people.
/** @type {Record<string, string>} */
const REASONS = {
  doc_too_large: 'the document would be larger than the server allows',
  invalid_op: 'the server could not apply it',
  read_only: 'you may only read this document',
};

/**
 * refusedNotice tells that an edit was refused and taken out of the text,
 * and offers its text to copy or download.
 * @param {{code: string, message: string, text: string}} r @param {string} doc @param {() => void} close
 */
export function refusedNotice(r, doc, close) {
  const n = [...r.text].length;
  const what = n > 0 ? `Your edit of ${n.toLocaleString('en')} characters was not saved` : 'Your edit was not saved';
  const why = REASONS[r.code] || r.message || r.code;
  const status = el('span', { class: 'collab-notice-done', role: 'status' });
  const parts = [
    el('p', {}, `${what}: ${why}. It has been taken out of the text.`),
  ];
  const actions = el('p', { class: 'collab-notice-actions' });
  if (n > 0) {
    actions.append(
      button('Copy the refused text', async () => {
        try {
          await navigator.clipboard.writeText(r.text);
          status.textContent = 'Copied';
        } catch {
          status.textContent = 'Copying is not allowed here: use Download';
        }
      }),
      button('Download it', () => download(r.text, `${doc}-not-saved.txt`)),
    );
  }
  actions.append(button('Dismiss', close), status);
  return notice({ 'data-kind': 'refused', 'data-code': r.code }, ...parts, actions);
}

/**
 * deletedNotice tells that the document was deleted while open, and lets
 * the person recreate it from the text still shown, or leave.
 * @param {{by: string}} d @param {() => void} recreate @param {() => void} leave
 */
export function deletedNotice(d, recreate, leave) {
  const who = d.by ? ` by ${d.by}` : '';
  return notice({ 'data-kind': 'deleted' },
    el('p', {}, `This document was deleted${who}. Your text is still shown here, and nothing is saved unless you recreate the document.`),
    el('p', { class: 'collab-notice-actions' },
      button('Recreate it from my text', recreate),
      button('Leave', leave)));
}

/** @param {string} text @param {string} name */
function download(text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = /** @type {HTMLAnchorElement} */ (el('a', { href: url, download: name }));
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
