// @ts-check
// The full-window editor at "/d/{id}": a <collab-editor> for the document
// named in the path, a name field and a copy-link button.
// The query may give name, color, token, readonly and editor (textarea).

import { CollabEditor } from '../collab.js';
import { mountHistory } from './history-panel.js';
import { byId } from './dom.js';

const id = decodeURIComponent(location.pathname.replace(/^\/d\//, ''));
document.title = `${id} — collab`;
byId('doc-title', HTMLElement).textContent = id;

const nameInput = byId('my-name', HTMLInputElement);
let name = '';
try { name = localStorage.getItem('collab:name') || ''; } catch { /* storage disabled */ }
if (!name) {
  name = 'Guest ' + (100 + Math.floor(Math.random() * 900));
  try { localStorage.setItem('collab:name', name); } catch { /* storage disabled */ }
}
const params = new URLSearchParams(location.search);
name = params.get('name') || name;
nameInput.value = name;

const editor = /** @type {CollabEditor} */ (document.createElement('collab-editor'));
editor.setAttribute('server', location.origin);
editor.setAttribute('doc', id);
editor.setAttribute('name', name);
editor.setAttribute('label', `Text of ${id}`);
for (const k of ['color', 'token', 'editor']) {
  const v = params.get(k);
  if (v) editor.setAttribute(k, v);
}
if (params.has('readonly')) editor.setAttribute('readonly', '');
byId('editor', HTMLElement).append(editor);
mountHistory(byId('history', HTMLElement), { server: location.origin, doc: id, editor, token: params.get('token') || '' });

// Leaving a deleted document goes back to the list.
editor.addEventListener('collab-leave', () => { location.href = '/'; });

// A new name applies from the next connection: reconnect with it.
nameInput.addEventListener('change', () => {
  const v = nameInput.value.trim().slice(0, 40);
  if (!v) return;
  try { localStorage.setItem('collab:name', v); } catch { /* storage disabled */ }
  editor.setAttribute('name', v);
  editor.destroy();
  editor.setup();
});

const copied = byId('copy-done', HTMLElement);
byId('copy-link', HTMLElement).addEventListener('click', async () => {
  const url = location.origin + '/d/' + encodeURIComponent(id);
  try {
    await navigator.clipboard.writeText(url);
    copied.textContent = 'Link copied';
  } catch {
    copied.textContent = url;
  }
  setTimeout(() => { copied.textContent = ''; }, 4000);
});
