// @ts-check
// The history panel of "/d/{id}" and of <collab-editor history>: the
// document's history grouped into sessions of editing (who, when, how
// many edits; named versions marked), pages of them fetched as the list is
// scrolled back, and a slider over every revision. Choosing a session shows
// the text at its end; the slider, the text at its revision. The text is
// coloured by author, and what changed since the previous point (the
// text before the session, or the revision the slider showed before) is
// marked: insertions underlined, deletions struck through. It asks the
// server for one point at a time and for pages of sessions, never for the
// whole history.

import { diffOp } from './diff.js';

const api = (/** @type {string} */ server, /** @type {string} */ doc) => `${server}/api/docs/${encodeURIComponent(doc)}`;

// el builds an element with attributes and children.
/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {Record<string, string>} [attrs] @param {(Node | string)[]} kids
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

// hue gives each public client id a stable colour.
/** @param {string} client */
function hue(client) {
  let h = 0;
  for (const c of client) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const clockFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

/**
 * A session of editing, as /sessions lists it.
 * @typedef {{from: number, to: number, start: string, end: string, ops: number, editors: number, authors: {name: string}[]}} Session
 */
/** A named version. @typedef {{rev: number, name: string}} Version */
/** An author's span of the text, in code points. @typedef {{start: number, length: number, client: string, name: string}} Span */

// sessionLabel says who edited when in a session, and how much.
/** @param {Session} s */
function sessionLabel(s) {
  const names = s.authors.map((a) => a.name || 'someone');
  if (s.editors > s.authors.length) names.push(`${s.editors - s.authors.length} more`);
  const start = new Date(s.start), end = new Date(s.end);
  const when = start.toDateString() === end.toDateString() && end.getTime() - start.getTime() > 60e3
    ? `${timeFmt.format(start)}–${clockFmt.format(end)}` : timeFmt.format(end);
  return `${names.join(', ')} · ${s.ops} ${s.ops === 1 ? 'edit' : 'edits'} · ${when}`;
}

// mountHistory puts the panel into container for document doc on server
// (a URL, or a function giving the URL of the server to ask now); editor
// is the <collab-editor>, token an optional bearer token (or a function
// giving the one to use now: the editor renews its token). prefix starts
// the ids of the panel's elements (one panel per prefix on a page).
/**
 * @param {HTMLElement} container
 * @param {{server: string | (() => string), doc: string, editor: import('../collab.js').CollabEditor, token?: string | null | (() => string), prefix?: string}} opts
 */
export function mountHistory(container, { server, doc, editor, token, prefix = 'history-' }) {
  const base = () => (typeof server === 'function' ? server() : server);
  /** @param {string} method @param {string} path @param {object} [body] @returns {Promise<any>} */
  const call = async (method, path, body) => {
    const now = typeof token === 'function' ? token() : token;
    /** @type {Record<string, string>} */
    const headers = now ? { Authorization: `Bearer ${now}` } : {};
    const res = await fetch(api(base(), doc) + path, {
      method, headers: body ? { ...headers, 'Content-Type': 'application/json' } : headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = res.status === 204 ? null : await res.json();
    if (!res.ok) throw new Error(data && data.message ? data.message : `HTTP ${res.status}`);
    return data;
  };

  const id = (/** @type {string} */ name) => prefix + name;
  const slider = el('input', { type: 'range', id: id('rev'), class: 'history-rev', min: '0', max: '0', value: '0', list: id('marks') });
  const revOut = el('output', { id: id('rev-out'), for: id('rev') });
  const marks = el('datalist', { id: id('marks') });
  const sessionList = el('ol', { id: id('sessions'), class: 'history-sessions', 'aria-label': 'Sessions of editing, newest first' });
  const older = el('button', { id: id('older'), type: 'button', class: 'link history-older' }, 'Older sessions');
  older.hidden = true;
  const versions = el('ul', { id: id('versions'), class: 'history-versions' });
  const text = el('pre', { id: id('text'), class: 'history-text', tabindex: '0', 'aria-label': 'Text at the chosen point' });
  const nameInput = el('input', { id: id('name'), class: 'history-name', maxlength: '200', placeholder: 'Version name', 'aria-label': 'Version name' });
  const nameBtn = el('button', { id: id('name-btn'), type: 'button', class: 'secondary history-name-btn' }, 'Name this version');
  const restoreBtn = el('button', { id: id('restore'), type: 'button', class: 'history-restore' }, 'Restore this version');
  const status = el('p', { id: id('status'), class: 'history-status', role: 'status', 'aria-live': 'polite' });
  const panel = el('details', { id: id('panel'), class: 'history-panel' },
    el('summary', {}, 'History'),
    el('div', { class: 'history-body' },
      sessionList, older,
      el('label', { for: id('rev') }, 'Revision ', revOut), slider, marks,
      versions, text,
      el('div', { class: 'row history-actions' }, nameInput, nameBtn, restoreBtn), status));
  container.append(panel);

  // shown is the revision on display and shownText its text. One point
  // is asked for at a time: when it is done, the slider's position is
  // fetched if it moved. since, when set, is the revision whose text the
  // chosen point is compared with (the one before a session).
  // again: show was asked for while busy (a session chosen while the
  // panel's first text was on its way): shown once that one is done.
  let shown = -1, busy = false, again = false;
  /** @type {string | null} */ let shownText = null;
  /** @type {number | null} */ let since = null;
  const show = async () => {
    const rev = Number(slider.value);
    revOut.textContent = String(rev);
    if (busy) { again = true; return; }
    if (rev === shown && since === null) return;
    busy = true;
    const base = since;
    since = null;
    try {
      // Authorship is optional: a store without it answers unavailable.
      const [t, spans, before] = await Promise.all([
        call('GET', `/text?rev=${rev}`),
        call('GET', `/authors?rev=${rev}`).then((a) => a.spans, (e) => { status.textContent = errorText(e); return null; }),
        base === null ? shownText : base === 0 ? '' : call('GET', `/text?rev=${base}`).then((b) => b.text, () => null),
      ]);
      render(t.text, spans, before);
      shown = rev;
      shownText = t.text;
      panel.dataset.rev = String(rev);
      panel.dataset.since = base === null ? '' : String(base);
    } catch (e) {
      status.textContent = errorText(e);
    } finally {
      busy = false;
    }
    // A point that failed is not asked for again until the slider moves.
    if (again || Number(slider.value) !== rev) {
      again = false;
      show();
    }
  };

  // render shows s, each author's spans in their colour titled with the
  // name, what prev lacked underlined and what prev had that s lacks
  // struck through (spans count code points).
  /** @param {string} s @param {Span[] | null} spans @param {string | null} prev */
  const render = (s, spans, prev) => {
    const cps = Array.from(s);
    spans = spans || [{ start: 0, length: cps.length, client: '', name: '' }];
    const { added, deleted } = prev === null ? { added: [], deleted: [] } : changes(prev, diffOp(prev, s, { maxCost: 1e6 }));
    text.replaceChildren();
    const cuts = [...new Set([0, cps.length, ...spans.flatMap((sp) => [sp.start, sp.start + sp.length]), ...added.flat(), ...deleted.map((d) => d[0])])]
      .filter((x) => x >= 0 && x <= cps.length).sort((x, y) => x - y);
    let si = 0, ai = 0, di = 0;
    const struck = (/** @type {number} */ pos) => {
      for (; di < deleted.length && deleted[di][0] <= pos; di++) {
        text.append(el('del', { class: 'history-deleted', title: 'deleted' }, deleted[di][1]));
      }
    };
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [from, to] = [cuts[i], cuts[i + 1]];
      struck(from);
      while (si + 1 < spans.length && spans[si].start + spans[si].length <= from) si++;
      while (ai < added.length && added[ai][1] <= from) ai++;
      const sp = spans[si];
      const part = el('span', { class: 'history-span', title: sp.name || 'unknown' }, cps.slice(from, to).join(''));
      if (sp.client || sp.name) part.style.background = `hsl(${hue(sp.client + sp.name)} 80% 88%)`;
      if (ai < added.length && added[ai][0] <= from) part.classList.add('history-new');
      text.append(part);
    }
    struck(cps.length);
  };

  // Sessions: pages fetched newest first, the next when asked for.
  /** @type {Version[]} */ let versionList = [];
  /** @type {Session[]} */ let sessions = [];
  let next = 0;
  const sessionItem = (/** @type {Session} */ s) => {
    const named = versionList.filter((v) => v.rev >= s.from && v.rev <= s.to);
    const b = el('button', { type: 'button', class: 'link history-session', 'data-from': String(s.from), 'data-to': String(s.to) },
      sessionLabel(s), ...named.map((v) => el('span', { class: 'history-named' }, ` ★ ${v.name}`)));
    b.addEventListener('click', () => {
      for (const x of sessionList.querySelectorAll('[aria-current]')) x.removeAttribute('aria-current');
      b.setAttribute('aria-current', 'true');
      since = s.from - 1;
      slider.value = String(s.to);
      shown = -1;
      show();
    });
    return el('li', {}, b);
  };
  const renderSessions = () => sessionList.replaceChildren(...sessions.map(sessionItem));
  const loadSessions = async (/** @type {boolean} */ more) => {
    try {
      const page = await call('GET', `/sessions${more && next ? `?before=${next}` : ''}`);
      sessions = more ? sessions.concat(page.sessions) : page.sessions;
      next = page.next || 0;
      older.hidden = !next;
      renderSessions();
      if (page.pruned) sessionList.append(el('li', { class: 'history-pruned' }, 'Older history is no longer kept.'));
    } catch (e) {
      status.textContent = errorText(e);
    }
  };
  older.addEventListener('click', () => loadSessions(true));

  const loadVersions = async () => {
    try {
      versionList = (await call('GET', '/versions')).versions;
      marks.replaceChildren(...versionList.map((v) => el('option', { value: String(v.rev), label: v.name })));
      versions.replaceChildren(...versionList.map((v) => {
        const b = el('button', { type: 'button', class: 'link' }, `${v.name} (revision ${v.rev})`);
        b.addEventListener('click', () => { slider.value = String(v.rev); show(); });
        return el('li', {}, b);
      }));
    } catch (e) {
      versionList = [];
      status.textContent = errorText(e);
    }
  };

  const setHead = (/** @type {number} */ rev) => {
    const atHead = Number(slider.value) === Number(slider.max);
    slider.max = String(rev);
    if (atHead) slider.value = String(rev);
  };
  const refresh = async () => {
    await loadVersions();
    await loadSessions(false);
  };

  slider.addEventListener('input', show);
  panel.addEventListener('toggle', async () => {
    if (!panel.open) return;
    setHead(editor.client ? editor.client.serverRev : 0);
    slider.value = slider.max;
    await refresh();
    show();
  });
  // Closed, the slider is brought to the head when the panel opens: no DOM write per op.
  editor.addEventListener('collab-change', () => { if (editor.client && panel.open) setHead(editor.client.serverRev); });

  nameBtn.addEventListener('click', async () => {
    const name = nameInput.value.trim();
    if (!name) { status.textContent = 'Give the version a name first.'; return; }
    try {
      const v = await call('POST', '/versions', { name, rev: Number(slider.value) });
      status.textContent = `Named revision ${v.rev} “${v.name}”.`;
      nameInput.value = '';
      await refresh();
    } catch (e) {
      status.textContent = errorText(e);
    }
  });
  restoreBtn.addEventListener('click', async () => {
    const rev = Number(slider.value);
    try {
      const r = await call('POST', '/restore', { rev });
      status.textContent = `Restored revision ${rev} as revision ${r.rev}.`;
      setHead(r.rev);
      await loadSessions(false);
    } catch (e) {
      status.textContent = errorText(e);
    }
  });
  return panel;
}

// changes gives, for an op from text prev, the [from, to) code point ranges
// of the new text that changed, and the [position in the new text, text]
// of what was deleted there. A retain of up to BRIDGE code points between
// two changes joins them (a minimal diff of "team" to "all" keeps the
// "a", which reads as noise), so each change is one run of deleted and
// one of inserted text.
const BRIDGE = 3;
/** @param {string} prev @param {import('./ot.js').Op} op */
function changes(prev, op) {
  const old = Array.from(prev);
  /** @type {[number, number][]} */ const added = [];
  /** @type {[number, string][]} */ const deleted = [];
  let pos = 0, at = 0; // in the new text, in prev
  let start = -1, del = '', ins = 0; // the change being gathered, from start
  const flush = () => {
    if (del) deleted.push([start, del]);
    if (ins) added.push([start, start + ins]);
    start = -1, del = '', ins = 0;
  };
  op.forEach((c, i) => {
    if (typeof c === 'number' && c > 0) {
      if (start < 0 || c > BRIDGE || i === op.length - 1) {
        flush();
      } else { // a short retain inside a change: rewritten as part of it
        del += old.slice(at, at + c).join('');
        ins += c;
      }
      pos += c;
      at += c;
      return;
    }
    if (start < 0) start = pos;
    if (typeof c === 'string') {
      const n = Array.from(c).length;
      ins += n;
      pos += n;
    } else {
      del += old.slice(at, at - c).join('');
      at -= c;
    }
  });
  flush();
  return { added, deleted };
}

/** @param {unknown} e */
function errorText(e) { return e instanceof Error ? e.message : String(e); }
