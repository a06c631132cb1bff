// @ts-check
// Transport: one WebSocket at a time to one of the service's URLs, with
// exponential backoff and jitter between attempts and failover round the
// list (docs/protocol.md, "Clients with several server URLs"). It knows
// nothing of documents: it hands messages and closes to its owner.

/**
 * @typedef {object} TransportOptions
 * @property {string[]} servers http(s) URLs of the service, in the order to try
 * @property {typeof WebSocket} WebSocket
 * @property {(fn: () => void, ms: number) => any} setTimeout
 * @property {(id: any) => void} clearTimeout
 * @property {() => number} random
 * @property {() => number} maxBackoff the longest wait between attempts now, ms
 * @property {() => void} onopen the socket opened
 * @property {(msg: any) => void} onmessage a message arrived (parsed)
 * @property {(code: number, reason: string, opened: boolean) => void} onclose the socket closed (not by
 *   close()); opened: it had opened
 * @property {() => void} onwait a reconnect is scheduled
 */

// parseServers turns the server option into a list of http(s) URLs without
// trailing slashes: one URL, an array of them, or a string listing several
// separated by spaces or commas. Duplicates are dropped; order is kept.
/** @param {string | string[] | undefined} server @returns {string[]} */
export function parseServers(server) {
  const list = Array.isArray(server) ? server : String(server ?? '').split(/[\s,]+/);
  /** @type {string[]} */
  const out = [];
  for (const item of list) {
    const u = String(item ?? '').trim().replace(/\/+$/, '');
    if (u && !out.includes(u)) out.push(u);
  }
  if (out.length === 0) throw new Error('client: no server URL');
  return out;
}

// wsURL turns the server's http(s) URL into the WebSocket URL.
/** @param {string} server @returns {string} */
export function wsURL(server) {
  const u = new URL(server);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = u.pathname.replace(/\/+$/, '') + '/ws';
  u.search = '';
  u.hash = '';
  return u.toString();
}

export class Transport {
  #o;
  /** @type {WebSocket | null} */ #ws = null;
  /** @type {any} */ #timer = null;
  #index = 0; // the server connected to, or tried next
  #stay = false; // the next reconnect stays on this server (a resync we asked for)
  #closed = false;
  /** Failed attempts since the last success (the backoff's exponent). */
  attempt = 0;

  /** @param {TransportOptions} opts */
  constructor(opts) { this.#o = opts; }

  /** The URL connected to, or to be tried next. */
  get server() { return this.#o.servers[this.#index]; }
  get servers() { return this.#o.servers; }
  /** A socket is open or opening. */
  get connected() { return this.#ws !== null; }
  get waiting() { return this.#timer !== null; }

  connect() {
    if (this.#closed) return;
    this.#stay = false;
    let ws;
    try {
      ws = new this.#o.WebSocket(wsURL(this.server));
    } catch {
      this.reconnect();
      return;
    }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => { if (ws === this.#ws) { opened = true; this.#o.onopen(); } };
    ws.onmessage = (ev) => {
      if (ws !== this.#ws) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      this.#o.onmessage(msg);
    };
    ws.onclose = (ev) => {
      if (ws !== this.#ws) return;
      this.#ws = null;
      this.#o.onclose(ev.code, ev.reason, opened);
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  /** send reports whether msg went out (false when not connected). @param {object} msg */
  send(msg) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  // reconnect schedules the next attempt after the backoff: on the next
  // server, unless the close was a resync we asked for.
  reconnect() {
    if (this.#closed || this.#timer) return;
    if (!this.#stay) this.#index = (this.#index + 1) % this.#o.servers.length;
    this.#stay = false;
    // Exponential backoff with jitter: half the delay fixed, half random.
    const base = Math.min(this.#o.maxBackoff(), 500 * 2 ** Math.min(this.attempt, 16));
    const delay = base / 2 + this.#o.random() * (base / 2);
    this.attempt++;
    this.#o.onwait();
    this.#timer = this.#o.setTimeout(() => { this.#timer = null; this.connect(); }, delay);
  }

  /** resync closes the connection to rejoin on the same server. */
  resync() {
    if (!this.#ws) return;
    this.#stay = true;
    this.#ws.close(4000, 'resync');
  }

  /** drop closes the connection so that the next attempt goes to the next server. @param {string} reason */
  drop(reason) {
    if (this.#ws) this.#ws.close(4000, reason);
  }

  /**
   * abandon gives up a connection that seems dead (no answer, or the browser
   * went offline) at once: a closing handshake on a dead network could take
   * minutes to end.
   * @param {string} reason
   */
  abandon(reason) {
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = null;
    try { ws.close(4000, reason); } catch { /* closed */ }
    this.#o.onclose(4000, reason, true);
  }

  /** now skips the backoff wait (the browser came back online). */
  now() {
    if (this.#closed || this.#ws) return;
    if (this.#timer) { this.#o.clearTimeout(this.#timer); this.#timer = null; }
    this.connect();
  }

  /** stop closes the socket without telling onclose. */
  stop() {
    if (this.#ws) { const ws = this.#ws; this.#ws = null; try { ws.close(1000); } catch { /* closed */ } }
  }

  /** destroy stops for good. */
  destroy() {
    this.#closed = true;
    if (this.#timer) { this.#o.clearTimeout(this.#timer); this.#timer = null; }
    this.stop();
  }
}
