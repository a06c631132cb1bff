// CursorOverlay draws other editors' carets and selections, with their
// names and colours, over a textarea. Each editor gets a mirror layer: a div
// with the textarea's box, font and wrapping, holding the text up to the
// caret in transparent ink, so the browser lays the caret out exactly
// where the textarea shows that character.

import { cpToUtf16 } from './text.js';
import { safeColor } from './color.js';

const COPIED = [
  'boxSizing', 'width', 'height', 'fontFamily', 'fontSize', 'fontWeight', 'fontStyle', 'fontVariant',
  'fontStretch', 'letterSpacing', 'lineHeight', 'textIndent', 'textTransform', 'wordSpacing', 'tabSize',
  'paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft',
  'borderTopWidth', 'borderRightWidth', 'borderBottomWidth', 'borderLeftWidth', 'direction', 'textAlign',
];

export class CursorOverlay {
  // overlay is an element placed over the textarea (same offset parent).
  constructor(textarea, overlay) {
    this.ta = textarea;
    this.el = overlay;
    this.peers = [];
    this.frame = 0;
    this.onScroll = () => this.syncScroll();
    textarea.addEventListener('scroll', this.onScroll);
    if (typeof ResizeObserver === 'function') {
      this.ro = new ResizeObserver(() => this.update());
      this.ro.observe(textarea);
    }
  }

  destroy() {
    this.ta.removeEventListener('scroll', this.onScroll);
    if (this.ro) this.ro.disconnect();
    cancelAnimationFrame(this.frame);
    this.el.replaceChildren();
  }

  // set draws the given peers ({client, name, color, anchor, head}) on the next frame.
  set(peers) {
    this.peers = peers.filter((p) => p.anchor != null).slice(0, 32);
    this.update();
  }

  update() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  render() {
    const ta = this.ta;
    const text = ta.value;
    const cs = getComputedStyle(ta);
    const layers = [];
    for (const p of this.peers) {
      const layer = document.createElement('div');
      layer.className = 'collab-mirror';
      for (const k of COPIED) layer.style[k] = cs[k];
      // The textarea's scrollbar narrows its text; the mirror has none.
      const bar = ta.offsetWidth - ta.clientWidth - parseFloat(cs.borderLeftWidth) - parseFloat(cs.borderRightWidth);
      layer.style.paddingRight = `${parseFloat(cs.paddingRight) + Math.max(0, bar)}px`;
      layer.style.width = `${ta.offsetWidth}px`;
      layer.style.height = `${ta.offsetHeight}px`;
      layer.style.top = `${ta.offsetTop}px`;
      layer.style.left = `${ta.offsetLeft}px`;
      layer.style.borderColor = 'transparent';
      layer.style.borderStyle = 'solid';
      const color = safeColor(p.color);
      const a = cpToUtf16(text, Math.min(p.anchor, p.head));
      const b = cpToUtf16(text, Math.max(p.anchor, p.head));
      const h = cpToUtf16(text, p.head);
      layer.append(text.slice(0, a));
      const caret = document.createElement('span');
      caret.className = 'collab-caret';
      caret.dataset.client = p.client;
      caret.dataset.name = p.name || '';
      caret.style.setProperty('--collab-peer', color);
      const label = document.createElement('span');
      label.className = 'collab-caret-label';
      label.textContent = p.name || 'Someone';
      caret.append(label);
      if (a !== b) {
        const sel = document.createElement('span');
        sel.className = 'collab-selection';
        sel.style.setProperty('--collab-peer', color);
        if (h === a) { layer.append(caret); sel.append(text.slice(a, b)); layer.append(sel); }
        else { sel.append(text.slice(a, b)); layer.append(sel, caret); }
      } else layer.append(caret);
      layer.append(text.slice(b) + '\u200b');
      layers.push(layer);
    }
    this.el.replaceChildren(...layers);
    this.syncScroll();
  }

  syncScroll() {
    for (const l of this.el.children) { l.scrollTop = this.ta.scrollTop; l.scrollLeft = this.ta.scrollLeft; }
  }
}
