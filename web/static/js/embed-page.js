// @ts-check
// The bare page at "/embed/{id}" for an <iframe>: one <collab-editor>,
// configured from the query (name, color, token, readonly, history).

import '../collab.js';

const id = decodeURIComponent(location.pathname.replace(/^\/embed\//, ''));
document.title = `${id} — collab`;
const params = new URLSearchParams(location.search);
const editor = document.createElement('collab-editor');
editor.setAttribute('server', location.origin);
editor.setAttribute('doc', id);
for (const k of ['name', 'color', 'token', 'editor']) {
  const v = params.get(k);
  if (v) editor.setAttribute(k, v);
}
if (params.has('readonly') && params.get('readonly') !== 'false') editor.setAttribute('readonly', '');
if (params.has('history') && params.get('history') !== 'false') editor.setAttribute('history', '');
document.body.append(editor);
