// The full-window editor at "/d/{id}": a <collab-editor> for the document
// named in the path, a name field and a copy-link button.
// The query may give name, color, token, readonly and editor (textarea).

import '../collab.js';
import { mountHistory } from './history-panel.js';

const id = decodeURIComponent(location.pathname.replace(/^\/d\//, ''));
document.title = `${id} — collab`;
document.getElementById('doc-title').textContent = id;

const nameInput = document.getElementById('my-name');
let name = '';
try { name = localStorage.getItem('collab:name') || ''; } catch { /* storage disabled */ }
if (!name) {
  name = 'Guest ' + (100 + Math.floor(Math.random() * 900));
  try { localStorage.setItem('collab:name', name); } catch { /* storage disabled */ }
}
const params = new URLSearchParams(location.search);
if (params.get('name')) name = params.get('name');
nameInput.value = name;

const editor = document.createElement('collab-editor');
editor.setAttribute('server', location.origin);
editor.setAttribute('doc', id);
editor.setAttribute('name', name);
editor.setAttribute('label', `Text of ${id}`);
for (const k of ['color', 'token', 'editor']) if (params.get(k)) editor.setAttribute(k, params.get(k));
if (params.has('readonly')) editor.setAttribute('readonly', '');
document.getElementById('editor').append(editor);
mountHistory(document.getElementById('history'), { server: location.origin, doc: id, editor, token: params.get('token') });

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

const copied = document.getElementById('copy-done');
document.getElementById('copy-link').addEventListener('click', async () => {
  const url = location.origin + '/d/' + encodeURIComponent(id);
  try {
    await navigator.clipboard.writeText(url);
    copied.textContent = 'Link copied';
  } catch {
    copied.textContent = url;
  }
  setTimeout(() => { copied.textContent = ''; }, 4000);
});
