// @ts-check
// The widget's bar below the editor: the status line and the people
// present. Both are written only when what they show changes: the client
// reports a status at every revision and the people at every caret move,
// so a write per report would lay out and paint the bar on every keystroke
// of every editor, and make a screen reader announce the status line
// twice per key.

import { describeStatus } from './client.js';
import { safeColor } from './color.js';

/** @typedef {import('./client.js').StatusDetail} StatusDetail */

// SAVING_DELAY_MS: how long a save may take before the status line says
// "Saving…". Saves finish within milliseconds while connected; showing
// each would flash "Saving…" between keystrokes.
export const SAVING_DELAY_MS = 600;

/**
 * @typedef {object} Timers
 * @property {(fn: () => void, ms: number) => any} setTimeout
 * @property {(id: any) => void} clearTimeout
 */

/**
 * statusLine returns the function that shows a status in el (its text, and
 * data-status for the colour of its dot), with the Retry button shown only
 * while offline. Going from saved to saving shows only after
 * SAVING_DELAY_MS, unless the save finished meanwhile; every other change
 * shows at once.
 * @param {HTMLElement} el @param {HTMLElement} retry @param {Timers} [timers]
 * @returns {(d: StatusDetail) => void}
 */
export function statusLine(el, retry, timers = globalThis) {
  /** @type {any} */
  let timer = null;
  /** @type {StatusDetail | null} */
  let latest = null;
  /** @param {StatusDetail} d */
  const show = (d) => {
    const text = describeStatus(d);
    if (el.textContent !== text) el.textContent = text;
    if (el.dataset.status !== d.state) el.dataset.status = d.state;
    const hidden = d.state !== 'offline';
    if (retry.hidden !== hidden) retry.hidden = hidden;
  };
  return (d) => {
    latest = d;
    if (d.state === 'saving' && el.dataset.status === 'synced') {
      timer ??= timers.setTimeout(() => { timer = null; if (latest) show(latest); }, SAVING_DELAY_MS);
      return;
    }
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    show(d);
  };
}

/**
 * @typedef {object} Person
 * @property {string} name
 * @property {string} [color]
 * @property {boolean} [stale] not seen since the connection dropped
 */

/**
 * peopleList returns the function that shows, in the list el, me and the
 * other editors: one item each, in the editor's colour, marked while
 * stale. The list is rebuilt only when a name, colour or staleness changed.
 * @param {HTMLElement} el
 * @returns {(me: Person, peers: Person[]) => void}
 */
export function peopleList(el) {
  let shown = '';
  return (me, peers) => {
    const items = [{ ...me, label: `${me.name} (you)` }, ...peers.map((p) => ({ ...p, label: p.name || 'Someone' }))]
      .map((p) => ({ label: p.label, color: safeColor(p.color), stale: Boolean(p.stale) }));
    const key = JSON.stringify(items);
    if (key === shown) return;
    shown = key;
    el.replaceChildren(...items.map((p) => {
      const li = el.ownerDocument.createElement('li');
      li.className = 'collab-person';
      li.style.setProperty('--collab-peer', p.color);
      li.textContent = p.label;
      if (p.stale) {
        li.classList.add('collab-stale');
        li.title = 'Not seen since the connection dropped';
      }
      return li;
    }));
  };
}
