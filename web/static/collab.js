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
// It renders in light DOM a labelled textarea (`collab-editor textarea`),
// a status line and the people present. Events (bubbling, composed):
//   collab-change   {text, local}             the text changed
//   collab-status   {state, pending, rev, message, text}
//   collab-presence {peers}
// API: getText(), destroy(), client (the DocClient), binding.

import { DocClient, describeStatus } from './js/client.js';
import { TextareaBinding } from './js/binding.js';
import { isColor, safeColor } from './js/color.js';

const PALETTE = ['#d33', '#36c', '#1a7f37', '#b35900', '#8250df', '#bf3989', '#0a7b83', '#6e7781'];
let counter = 0;

function ensureStyles() {
  const href = new URL('./css/collab.css', import.meta.url).href;
  if (document.querySelector(`link[data-collab-style]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  link.dataset.collabStyle = '';
  document.head.append(link);
}

// defaultName is remembered per browser so people keep their name.
function defaultName() {
  try {
    const n = localStorage.getItem('collab:name');
    if (n) return n;
  } catch { /* storage disabled */ }
  return 'Guest ' + (100 + Math.floor(Math.random() * 900));
}

function colorFor(id) {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

export class CollabEditor extends HTMLElement {
  static get observedAttributes() { return ['server', 'doc', 'token', 'name', 'color', 'readonly']; }

  connectedCallback() {
    if (!this.client) this.setup();
  }

  disconnectedCallback() {
    // Moving the element in the DOM fires disconnect then connect: wait a tick.
    queueMicrotask(() => { if (!this.isConnected) this.destroy(); });
  }

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
    label.htmlFor = `${id}-text`;
    label.textContent = this.getAttribute('label') || `Document ${doc}`;
    const ta = document.createElement('textarea');
    ta.id = `${id}-text`;
    ta.spellcheck = true;
    ta.setAttribute('autocomplete', 'off');
    const overlay = document.createElement('div');
    overlay.className = 'collab-overlay';
    overlay.setAttribute('aria-hidden', 'true');
    field.append(label, ta, overlay);
    const bar = document.createElement('div');
    bar.className = 'collab-bar';
    const status = document.createElement('span');
    status.className = 'collab-status';
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    const people = document.createElement('ul');
    people.className = 'collab-people';
    people.setAttribute('aria-label', 'People editing');
    bar.append(status, people);
    this.append(field, bar);

    const color = this.getAttribute('color') || '';
    if (color && !isColor(color)) console.warn(`collab-editor: color ${JSON.stringify(color)} is not #rgb, #rrggbb or #rrggbbaa; using another`);
    const client = new DocClient({
      server, doc,
      name: this.getAttribute('name') || defaultName(),
      color,
      token: this.getAttribute('token') || '',
      readonly: this.hasAttribute('readonly'),
    });
    if (!client.color) client.color = colorFor(client.client);
    this.client = client;
    this.textarea = ta;
    this.statusEl = status;
    this.peopleEl = people;

    client.addEventListener('change', (e) => {
      const detail = { local: e.detail.local };
      // The text is read only by listeners that want it: reading it costs a
      // copy of the document.
      Object.defineProperty(detail, 'text', { get: () => client.text, enumerable: true });
      this.emit('collab-change', detail);
    });
    client.addEventListener('status', (e) => {
      const d = e.detail;
      status.textContent = describeStatus(d);
      status.dataset.state = d.state;
      this.dataset.state = d.state;
      ta.readOnly = client.readonly || client.fatal;
      this.emit('collab-status', { ...d, text: client.text });
    });
    client.addEventListener('presence', (e) => {
      this.renderPeople(e.detail.peers);
      this.emit('collab-presence', { peers: e.detail.peers });
    });
    this.onOnline = () => client.reconnectNow();
    window.addEventListener('online', this.onOnline);
    client.start();
    this.binding = new TextareaBinding(ta, client, overlay);
    this.renderPeople([]);
  }

  renderPeople(peers) {
    const me = { name: this.client.name, color: this.client.color, me: true };
    const items = [me, ...peers].map((p) => {
      const li = document.createElement('li');
      li.className = 'collab-person';
      li.style.setProperty('--collab-peer', safeColor(p.color));
      li.textContent = p.me ? `${p.name} (you)` : p.name || 'Someone';
      return li;
    });
    this.peopleEl.replaceChildren(...items);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  getText() { return this.client ? this.client.text : ''; }

  destroy() {
    if (!this.client) return;
    window.removeEventListener('online', this.onOnline);
    this.binding.destroy();
    this.client.destroy();
    this.client = null;
  }
}

if (!customElements.get('collab-editor')) customElements.define('collab-editor', CollabEditor);
