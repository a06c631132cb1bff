// The history panel of "/d/{id}": a slider over the document's revisions
// that shows the text at the chosen one coloured by author, with what it
// has that the revision shown before lacked underlined, the named
// versions, and buttons to name the chosen revision or restore it. It asks
// the server for one revision at a time (text and authorship), never for
// the whole history.

import { diffOp } from './diff.js';

const api = (server, doc) => `${server}/api/docs/${encodeURIComponent(doc)}`;

// el builds an element with attributes and children.
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

// hue gives each public client id a stable colour.
function hue(client) {
  let h = 0;
  for (const c of client) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

// mountHistory puts the panel into container for document doc on server;
// editor is the page's <collab-editor>, token an optional bearer token.
export function mountHistory(container, { server, doc, editor, token }) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const call = async (method, path, body) => {
    const res = await fetch(api(server, doc) + path, {
      method, headers: body ? { ...headers, 'Content-Type': 'application/json' } : headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = res.status === 204 ? null : await res.json();
    if (!res.ok) throw new Error(data && data.message ? data.message : `HTTP ${res.status}`);
    return data;
  };

  const slider = el('input', { type: 'range', id: 'history-rev', min: '0', max: '0', value: '0', list: 'history-marks' });
  const revOut = el('output', { id: 'history-rev-out', for: 'history-rev' });
  const marks = el('datalist', { id: 'history-marks' });
  const versions = el('ul', { id: 'history-versions', class: 'history-versions' });
  const text = el('pre', { id: 'history-text', class: 'history-text', tabindex: '0', 'aria-label': 'Text at the chosen revision' });
  const nameInput = el('input', { id: 'history-name', maxlength: '200', placeholder: 'Version name', 'aria-label': 'Version name' });
  const nameBtn = el('button', { id: 'history-name-btn', type: 'button', class: 'secondary' }, 'Name this version');
  const restoreBtn = el('button', { id: 'history-restore', type: 'button' }, 'Restore this version');
  const status = el('p', { id: 'history-status', class: 'history-status', role: 'status', 'aria-live': 'polite' });
  const panel = el('details', { id: 'history-panel', class: 'history-panel' },
    el('summary', {}, 'History'),
    el('div', { class: 'history-body' },
      el('label', { for: 'history-rev' }, 'Revision ', revOut), slider, marks,
      versions, text,
      el('div', { class: 'row history-actions' }, nameInput, nameBtn, restoreBtn), status));
  container.append(panel);

  // shown is the revision on display. One revision is asked for at a
  // time: when it is done, the slider's position is fetched if it moved.
  let shown = -1, busy = false;
  const show = async () => {
    const rev = Number(slider.value);
    revOut.textContent = String(rev);
    if (busy || rev === shown) return;
    busy = true;
    try {
      // Authorship is optional: a store without it answers unavailable.
      const [t, spans] = await Promise.all([
        call('GET', `/text?rev=${rev}`),
        call('GET', `/authors?rev=${rev}`).then((a) => a.spans, (e) => { status.textContent = e.message; return null; }),
      ]);
      render(t.text, spans);
      shown = rev;
      panel.dataset.rev = String(rev);
    } catch (e) {
      status.textContent = e.message;
    } finally {
      busy = false;
    }
    // A revision that failed is not asked for again until the slider moves.
    if (Number(slider.value) !== rev) show();
  };

  // render shows text, each author's spans in their colour titled with
  // the name, and marks what prev lacked (spans count code points).
  let prev = null;
  const render = (s, spans) => {
    const cps = Array.from(s);
    spans = spans || [{ start: 0, length: cps.length, client: '', name: '' }];
    const added = prev === null ? [] : insertedRanges(diffOp(prev, s, { maxCost: 1e6 }));
    prev = s;
    text.replaceChildren();
    const cuts = [...new Set([0, cps.length, ...spans.flatMap((sp) => [sp.start, sp.start + sp.length]), ...added.flat()])]
      .filter((x) => x >= 0 && x <= cps.length).sort((x, y) => x - y);
    let si = 0, ai = 0;
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [from, to] = [cuts[i], cuts[i + 1]];
      while (si + 1 < spans.length && spans[si].start + spans[si].length <= from) si++;
      while (ai < added.length && added[ai][1] <= from) ai++;
      const sp = spans[si];
      const part = el('span', { class: 'history-span', title: sp.name || 'unknown' }, cps.slice(from, to).join(''));
      if (sp.client || sp.name) part.style.background = `hsl(${hue(sp.client + sp.name)} 80% 88%)`;
      if (ai < added.length && added[ai][0] <= from) part.classList.add('history-new');
      text.append(part);
    }
  };

  const loadVersions = async () => {
    try {
      const list = (await call('GET', '/versions')).versions;
      marks.replaceChildren(...list.map((v) => el('option', { value: String(v.rev), label: v.name })));
      versions.replaceChildren(...list.map((v) => {
        const b = el('button', { type: 'button', class: 'link' }, `${v.name} (revision ${v.rev})`);
        b.addEventListener('click', () => { slider.value = String(v.rev); show(); });
        return el('li', {}, b);
      }));
    } catch (e) {
      status.textContent = e.message;
    }
  };

  const setHead = (rev) => {
    const atHead = Number(slider.value) === Number(slider.max);
    slider.max = String(rev);
    if (atHead) slider.value = String(rev);
  };

  slider.addEventListener('input', show);
  panel.addEventListener('toggle', async () => {
    if (!panel.open) return;
    setHead(editor.client ? editor.client.serverRev : 0);
    slider.value = slider.max;
    await loadVersions();
    show();
  });
  editor.addEventListener('collab-change', () => { if (editor.client) setHead(editor.client.serverRev); });

  nameBtn.addEventListener('click', async () => {
    const name = nameInput.value.trim();
    if (!name) { status.textContent = 'Give the version a name first.'; return; }
    try {
      const v = await call('POST', '/versions', { name, rev: Number(slider.value) });
      status.textContent = `Named revision ${v.rev} “${v.name}”.`;
      nameInput.value = '';
      await loadVersions();
    } catch (e) {
      status.textContent = e.message;
    }
  });
  restoreBtn.addEventListener('click', async () => {
    const rev = Number(slider.value);
    try {
      const r = await call('POST', '/restore', { rev });
      status.textContent = `Restored revision ${rev} as revision ${r.rev}.`;
      setHead(r.rev);
    } catch (e) {
      status.textContent = e.message;
    }
  });
  return panel;
}

// insertedRanges gives the [from, to) code point ranges of the text an op
// produces that its inserts wrote.
function insertedRanges(op) {
  const out = [];
  let pos = 0;
  for (const c of op) {
    if (typeof c === 'string') {
      const n = Array.from(c).length;
      out.push([pos, pos + n]);
      pos += n;
    } else if (c > 0) {
      pos += c;
    }
  }
  return out;
}
