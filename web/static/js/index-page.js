// @ts-check
// The document list at "/": lists GET /api/docs and opens or creates a
// document by name.

import { byId } from './dom.js';

const ID = /^[A-Za-z0-9._-]{1,128}$/;

const form = byId('new-doc', HTMLFormElement);
const input = byId('doc-name', HTMLInputElement);
const error = byId('doc-name-error', HTMLElement);
const list = byId('doc-list', HTMLElement);
const status = byId('list-status', HTMLElement);
const more = byId('more', HTMLElement);
const sort = byId('sort', HTMLSelectElement);
let next = '';
let generation = 0; // a new sort order drops the answers of the previous one

sort.value = new URLSearchParams(location.search).get('sort') === 'updated' ? 'updated' : 'id';
sort.addEventListener('change', () => {
  const url = new URL(location.href);
  if (sort.value === 'updated') url.searchParams.set('sort', 'updated');
  else url.searchParams.delete('sort');
  history.replaceState(null, '', url);
  generation++;
  list.replaceChildren();
  next = '';
  more.hidden = true;
  status.textContent = 'Loading…';
  load();
});

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const id = input.value.trim();
  if (!ID.test(id)) {
    error.textContent = 'Use 1 to 128 letters, digits, “-”, “_” or “.” (no spaces).';
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  location.assign('/d/' + encodeURIComponent(id));
});
input.addEventListener('input', () => {
  if (!error.hidden && ID.test(input.value.trim())) {
    error.hidden = true;
    input.removeAttribute('aria-invalid');
  }
});

/** @param {string} iso */
function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) || d.getFullYear() < 2000 ? '' : d.toLocaleString();
}

async function load() {
  const gen = generation;
  try {
    const url = '/api/docs?limit=100&sort=' + sort.value + (next ? '&after=' + encodeURIComponent(next) : '');
    const res = await fetch(url, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    const body = await res.json();
    if (gen !== generation) return;
    const docs = Array.isArray(body) ? body : body.docs || [];
    for (const d of docs) {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = '/d/' + encodeURIComponent(d.id);
      a.textContent = d.id;
      const meta = document.createElement('span');
      meta.className = 'meta';
      const updated = when(d.updated);
      meta.textContent = `${d.length ?? 0} characters · revision ${d.rev ?? 0}${updated ? ' · ' + updated : ''}`;
      li.append(a, meta);
      list.append(li);
    }
    next = body.next || '';
    more.hidden = !next;
    status.textContent = list.children.length ? `${list.children.length} document${list.children.length === 1 ? '' : 's'}` : 'No documents yet: create one above.';
  } catch (err) {
    if (gen !== generation) return;
    status.textContent = `Could not load the documents (${err instanceof Error ? err.message : err}).`;
  }
}
more.addEventListener('click', load);
load();
