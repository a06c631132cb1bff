// @ts-check
// <collab-editor>: the embeddable collaborative editor.
//
//   <script type="module" src="https://collab.example/collab.js"></script>
//   <collab-editor server="https://collab.example" doc="notes"
//                  name="Ada" color="#d33" token="…" readonly></collab-editor>
//
// `color` is #rgb, #rrggbb or #rrggbbaa (others are ignored: a colour from
// the palette is used).
//
// `server` may list several URLs of one service, separated by spaces or
// commas (server="https://a.collab.example https://b.collab.example"): the
// nodes of a cluster. The editor connects to the first and, when a
// connection fails, moves to the next, keeping its unsent edits. Without
// `server`, the origin this script was loaded from.
//
// The editor is CodeMirror 6 (soft wrap, search, Markdown highlighting
// up to 1 MiB and paragraphs of 8 KiB, see js/langcap.js;
// its DOM root is `collab-editor .cm-editor`, and `view` is its
// EditorView), loaded from vendor/codemirror.js next to this script;
// `editor="textarea"` gives a plain labelled textarea
// (`collab-editor textarea`) instead. Below it, a status line and the
// people present. Events (bubbling, composed):
//   collab-change   {text, local}             the text changed
//   collab-status   {state, pending, rev, message, text}
//   collab-presence {peers}
//   collab-leave    {}                        the document was deleted and the
//                                             person chose to leave it
// `history` adds, below the editor, the history panel of the document
// page: sessions of editing, a slider over the revisions, the text at the
// chosen point coloured by author with the changes since the previous
// point marked, and buttons to name or restore a version (naming and
// restoring need a token granting write when the server has a secret).
// (`text` is read when a listener asks for it: a copy of the document.)
// API: getText(), destroy(), client (the DocClient), binding, view,
// ready (a promise settled once the editor shows the document), and
// getToken: set it to a function returning a new token (or a promise of
// one) and the editor renews its token before it expires, and when the
// server ends its access (expired, revoked), without reconnecting; a
// token that allows reading only makes the editor read-only at once.

import { DocClient } from './js/client.js';
import { TextareaBinding } from './js/binding.js';
import { isColor } from './js/color.js';
import { statusLine, peopleList } from './js/bar.js';
import { collab, joinByWord } from './js/codemirror.js';
import { cappedLanguage } from './js/langcap.js';
import { PAUSE_MS } from './js/undo.js';
import { refusedNotice, deletedNotice } from './js/notices.js';
import { mountHistory } from './js/history-panel.js';

/** @typedef {import('./js/client.js').StatusDetail} StatusDetail */

const PALETTE = ['#d33', '#36c', '#1a7f37', '#b35900', '#8250df', '#bf3989', '#0a7b83', '#6e7781'];
let counter = 0;

/** @param {string} name a style sheet next to this script, css/{name}.css */
function ensureStyles(name = 'collab') {
  const href = new URL(`./css/${name}.css`, import.meta.url).href;
  if (document.querySelector(`link[data-collab-style="${name}"]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  link.dataset.collabStyle = name;
  document.head.append(link);
}

// defaultName is remembered per browser so people keep their name.
/** @returns {string} */
function defaultName() {
  try {
    const n = localStorage.getItem('collab:name');
    if (n) return n;
  } catch { /* storage disabled */ }
  return 'Guest ' + (100 + Math.floor(Math.random() * 900));
}

/** @param {string} id */
function colorFor(id) {
  let h = 0;
  for (const ch of id) h = (h * 31 + /** @type {number} */ (ch.codePointAt(0))) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/**
 * lazyText adds to detail a `text` read from client only when asked for.
 * @template {object} T @param {T} detail @param {DocClient} client @returns {T & {text: string}}
 */
function lazyText(detail, client) {
  Object.defineProperty(detail, 'text', { get: () => client.text, enumerable: true });
  return /** @type {T & {text: string}} */ (detail);
}

export class CollabEditor extends HTMLElement {
  static get observedAttributes() { return ['server', 'doc', 'token', 'name', 'color', 'readonly', 'editor', 'history']; }

  /** @type {DocClient | null} */ client = null;
  /** @type {TextareaBinding | null} */ binding = null;
  /** @type {any} */ view = null;
  /** @type {Promise<void>} */ ready = Promise.resolve();
  /** @type {HTMLTextAreaElement | null} */ textarea = null;
  /** @type {HTMLElement | null} */ peopleEl = null;
  /** @type {HTMLElement | null} */ noticesEl = null;
  /** @type {(() => Promise<string> | string) | null} */ #getToken = null;
  /** @type {ReturnType<typeof peopleList> | null} */ #showPeople = null;

  get getToken() { return this.#getToken; }
  set getToken(fn) {
    this.#getToken = fn || null;
    if (this.client) this.client.setTokenSource(this.#getToken);
  }

  connectedCallback() {
    if (!this.client) this.setup();
  }

  disconnectedCallback() {
    // Moving the element in the DOM fires disconnect then connect: wait a tick.
    queueMicrotask(() => { if (!this.isConnected) this.destroy(); });
  }

  /** @param {string} name @param {string | null} oldValue @param {string | null} value */
  attributeChangedCallback(name, oldValue, value) {
    if (!this.client || oldValue === value) return;
    if (name === 'name' || name === 'color') return; // applies from the next connection
    this.destroy();
    this.setup();
  }

  setup() {
    const doc = this.getAttribute('doc');
    if (!doc) return;
    ensureStyles();
    const server = this.getAttribute('server') || new URL('.', import.meta.url).origin;
    const id = `collab-${++counter}`;
    this.classList.add('collab-editor');
    this.replaceChildren();
    const field = document.createElement('div');
    field.className = 'collab-field';
    const label = document.createElement('label');
    label.className = 'collab-visually-hidden';
    label.textContent = this.getAttribute('label') || `Document ${doc}`;
    field.append(label);
    const bar = document.createElement('div');
    bar.className = 'collab-bar';
    const status = document.createElement('span');
    status.className = 'collab-status';
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    const people = document.createElement('ul');
    people.className = 'collab-people';
    people.setAttribute('aria-label', 'People editing');
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'collab-retry';
    retry.textContent = 'Retry now';
    retry.hidden = true;
    const notices = document.createElement('div');
    notices.className = 'collab-notices';
    bar.append(status, retry, people);
    this.append(notices, field, bar);
    this.noticesEl = notices;

    const color = this.getAttribute('color') || '';
    if (color && !isColor(color)) console.warn(`collab-editor: color ${JSON.stringify(color)} is not #rgb, #rrggbb or #rrggbbaa; using another`);
    const client = new DocClient({
      server, doc,
      name: this.getAttribute('name') || defaultName(),
      color,
      token: this.getAttribute('token') || '',
      getToken: this.#getToken,
      readonly: this.hasAttribute('readonly'),
    });
    if (!client.color) client.color = colorFor(client.client);
    this.client = client;
    this.peopleEl = people;
    this.#showPeople = peopleList(people);

    client.addEventListener('change', (e) => {
      this.emit('collab-change', lazyText({ local: /** @type {CustomEvent} */ (e).detail.local }, client));
    });
    const showStatus = statusLine(status, retry);
    client.addEventListener('status', (e) => {
      const d = /** @type {CustomEvent<StatusDetail>} */ (e).detail;
      showStatus(d);
      if (this.dataset.state !== d.state) this.dataset.state = d.state;
      this.emit('collab-status', lazyText({ ...d }, client));
    });
    client.addEventListener('presence', (e) => {
      const peers = /** @type {CustomEvent} */ (e).detail.peers;
      this.renderPeople(peers);
      this.emit('collab-presence', { peers });
    });
    retry.addEventListener('click', () => client.reconnectNow());
    client.addEventListener('refused', (e) => {
      const r = /** @type {CustomEvent} */ (e).detail;
      const n = refusedNotice(r, doc, () => n.remove());
      notices.append(n);
    });
    client.addEventListener('deleted', (e) => {
      const d = /** @type {CustomEvent} */ (e).detail;
      const n = deletedNotice(d, () => { n.remove(); client.recreate(); }, () => {
        n.remove();
        this.emit('collab-leave', {});
      });
      notices.replaceChildren(n);
    });
    client.start();
    this.renderPeople([]);
    if (this.hasAttribute('history')) {
      ensureStyles('history');
      const holder = document.createElement('div');
      holder.className = 'collab-history';
      this.append(holder);
      mountHistory(holder, {
        server: () => (this.client ? this.client.server : server), doc, editor: this,
        token: () => (this.client ? this.client.token : this.getAttribute('token') || ''), prefix: `${id}-history-`,
      });
    }
    if (this.getAttribute('editor') === 'textarea') this.textareaEditor(field, label, id, client);
    else this.ready = this.codeMirror(field, label, id, client);
  }

  /**
   * @param {HTMLElement} field @param {HTMLLabelElement} label @param {string} id @param {DocClient} client
   */
  textareaEditor(field, label, id, client) {
    const ta = document.createElement('textarea');
    ta.id = `${id}-text`;
    ta.spellcheck = true;
    ta.setAttribute('autocomplete', 'off');
    label.htmlFor = ta.id;
    const overlay = document.createElement('div');
    overlay.className = 'collab-overlay';
    overlay.setAttribute('aria-hidden', 'true');
    field.append(ta, overlay);
    this.textarea = ta;
    this.binding = new TextareaBinding(ta, client, overlay);
  }

  /**
   * codeMirror shows the document in CodeMirror 6, loaded on first use.
   * @param {HTMLElement} field @param {HTMLLabelElement} label @param {string} id @param {DocClient} client
   */
  async codeMirror(field, label, id, client) {
    const cm = await import('./vendor/codemirror.js');
    if (this.client !== client) return; // destroyed meanwhile
    label.id = `${id}-label`;
    this.view = new cm.EditorView({
      parent: field,
      state: cm.EditorState.create({
        doc: client.text,
        extensions: [
          cm.history({ newGroupDelay: PAUSE_MS, joinToEvent: joinByWord }),
          cm.drawSelection(),
          cm.EditorView.lineWrapping,
          cm.search({ top: true }),
          cm.highlightSelectionMatches(),
          cm.keymap.of([...cm.searchKeymap, ...cm.historyKeymap, ...cm.defaultKeymap]),
          cappedLanguage(cm, new cm.LanguageSupport(cm.markdownLanguage), client.text).extension,
          cm.syntaxHighlighting(cm.defaultHighlightStyle, { fallback: true }),
          cm.EditorView.contentAttributes.of({ 'aria-labelledby': label.id, spellcheck: 'true' }),
          collab(client, cm),
        ],
      }),
    });
  }

  /** @param {{name: string, color: string, stale?: boolean}[]} peers */
  renderPeople(peers) {
    if (!this.client || !this.#showPeople) return;
    this.#showPeople({ name: this.client.name, color: this.client.color }, peers);
  }

  /** @param {string} type @param {object} detail */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  getText() { return this.client ? this.client.text : ''; }

  destroy() {
    if (!this.client) return;
    this.binding?.destroy();
    this.binding = null;
    this.view?.destroy();
    this.view = null;
    this.client.destroy();
    this.client = null;
  }
}

if (!customElements.get('collab-editor')) customElements.define('collab-editor', CollabEditor);
