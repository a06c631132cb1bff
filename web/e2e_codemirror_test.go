package web_test

// Browser tests of what only the CodeMirror editor does: other editors'
// carets and selections as decorations. The tests of e2e_edit_test.go that
// run with each editor cover undo and IME compositions.

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/collab"
)

func TestE2ECodeMirrorCaretsOnTheirCharacters(t *testing.T) {
	srv, a, b := twoPagesWith(t, "cmcarets", "codemirror")
	text := "😀👩‍💻 ab\ncd 中文 ef"
	run(t, a, caretAt(0), insertText(text))
	converge(t, srv, "cmcarets", text, a, b)
	// Ada selects "cd 中" (UTF-16 offsets 11 to 15, after two astral
	// characters and a ZWJ sequence): on B, her selection covers the same
	// characters and her caret sits where B's editor draws offset 15.
	run(t, a, selectRange(11, 15))
	waitJS(t, b, "Ada's selection on B", `[...document.querySelectorAll('collab-editor .cm-collab-selection')].filter(s => s.dataset.name === 'Ada').map(s => s.textContent).join('') === "cd 中"`)
	waitJS(t, b, "Ada's caret at offset 15 on B", `(() => { `+editorJS+`
		const c = [...document.querySelectorAll('collab-editor .cm-collab-caret')].find(c => c.dataset.name === 'Ada');
		if (!c || c.querySelector('.cm-collab-label').textContent !== 'Ada') return false;
		const at = view.coordsAtPos(15); const r = c.getBoundingClientRect();
		return Math.abs(r.left - at.left) < 3 && Math.abs(r.top - at.top) < 3 && r.height > 0; })()`)
	// Bo types before Ada's selection: it moves with its characters.
	run(t, b, caretAt(0), chromedp.KeyEvent("Bo: "))
	converge(t, srv, "cmcarets", "Bo: "+text, a, b)
	waitJS(t, b, "Ada's selection moved on B", `[...document.querySelectorAll('collab-editor .cm-collab-selection')].filter(s => s.dataset.name === 'Ada').map(s => s.textContent).join('') === "cd 中"`)
	screenshot(t, b, "screenshot-editor.png")
}

// A document with \r\n line breaks (put through the API from another
// system) is shown and edited in CodeMirror without moving a position: the
// \r stays a character of the text, invisible, so the editor's text is the
// server's code point for code point. Pasted \r\n becomes \n, as in a
// textarea.
func TestE2ECodeMirrorCRLF(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	text := "one\r\ntwo 😀\r\nthree"
	putDoc(t, srv, "crlf", text)
	a := newTab(t, browser, srv.URL+"/d/crlf?name=Ada")
	b := newTab(t, browser, srv.URL+"/d/crlf?name=Bo")
	waitJS(t, a, "A to show the text as it is", textIs(text)+" && "+synced)
	waitJS(t, b, "B to show the text as it is", textIs(text)+" && "+synced)
	if n := evalValue[float64](t, a, `document.querySelector('collab-editor').view.state.doc.lines`); n != 3 {
		t.Fatalf("CodeMirror shows %v lines, want 3", n)
	}
	// The \r at the end of "one" takes no room: the line reads "one". (The
	// line may also hold another editor's caret, an element of its own.)
	if w := evalValue[float64](t, a, `(() => { const line = document.querySelector('collab-editor .cm-line');
		const walk = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			if (n.data !== 'one\r') continue;
			const r = document.createRange(); r.setStart(n, 3); r.setEnd(n, 4);
			return r.getBoundingClientRect().width;
		}
		return -1; })()`); w != 0 {
		t.Fatalf("the \\r of the first line is %v px wide (-1: no text \"one\\r\" in the line), want 0", w)
	}
	run(t, a, caretAt(-1), chromedp.KeyEvent("!"))
	text += "!"
	converge(t, srv, "crlf", text, a, b)
	run(t, b, caretAt(5), insertText("Y"))
	text = "one\r\nYtwo 😀\r\nthree!"
	converge(t, srv, "crlf", text, a, b)
	run(t, a, caretAt(0), evalJS(`(() => { const dt = new DataTransfer(); dt.setData('text/plain', 'p\r\nq\r\n');
		document.querySelector('collab-editor').view.contentDOM.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
		return true; })()`))
	text = "p\nq\n" + text
	converge(t, srv, "crlf", text, a, b)
}

// Another editor's typing costs one transaction per edit: the presence
// report that follows each edit names the caret the edit already moved,
// and dispatches nothing.
func TestE2ECodeMirrorPresenceWithoutRedraw(t *testing.T) {
	srv, a, b := twoPagesWith(t, "cmredraw", "codemirror")
	run(t, b, evalJS(`(() => { window.dispatches = 0; const v = document.querySelector('collab-editor').view;
		const d = v.dispatch.bind(v); v.dispatch = (...a) => { dispatches++; return d(...a); }; return true; })()`))
	run(t, a, caretAt(0))
	text := ""
	for _, k := range "abcdefghij" {
		run(t, a, chromedp.KeyEvent(string(k)))
		text += string(k)
		// Ada's caret, moved by her op, shows on B before the next key.
		waitJS(t, b, "B to show "+text, textIs(text))
		waitJS(t, b, "Ada's caret after "+text, `(() => { const c = [...document.querySelectorAll('collab-editor .cm-collab-caret')].find(c => c.dataset.name === 'Ada');
			return !!c && document.querySelector('collab-editor').view.posAtDOM(c) === `+fmt.Sprint(len(text))+`; })()`)
	}
	converge(t, srv, "cmredraw", text, a, b)
	if n := evalValue[float64](t, b, `dispatches`); n > float64(len(text))+1 {
		t.Fatalf("B dispatched %v transactions for %d remote edits and their carets, want at most %d", n, len(text), len(text)+1)
	}
}

// TestE2ECodeMirrorNoCaretEcho: typing sends no caret, and the other
// editor does not answer the ops with its own: each moves the carets as
// the server does (SyncCore's held caret). A caret moved by hand is sent.
func TestE2ECodeMirrorNoCaretEcho(t *testing.T) {
	srv, a, b := twoPagesWith(t, "caretecho", "codemirror")
	const count = `(() => { window.carets = 0; const t = document.querySelector('collab-editor').client.transport;
		const send = t.send.bind(t); t.send = (m) => { if (m.type === 'presence') carets++; return send(m); }; return true; })()`
	run(t, a, evalJS(count))
	run(t, b, evalJS(count))
	caretOn := func(tab context.Context, name string, at int) string {
		return fmt.Sprintf(`(() => { const c = [...document.querySelectorAll('collab-editor .cm-collab-caret')].find(c => c.dataset.name === %q);
			return !!c && document.querySelector('collab-editor').view.posAtDOM(c) === %d; })()`, name, at)
	}
	run(t, a, caretAt(0))
	waitJS(t, b, "Ada's caret at 0", caretOn(b, "Ada", 0))
	if n := evalValue[float64](t, a, `carets`); n != 1 {
		t.Fatalf("A sent %v carets for one move, want 1", n)
	}
	const text = "hello world"
	for _, k := range text {
		run(t, a, chromedp.KeyEvent(string(k)))
	}
	converge(t, srv, "caretecho", text, a, b)
	waitJS(t, b, "Ada's caret after her text", caretOn(b, "Ada", len(text)))
	if n := evalValue[float64](t, a, `carets`); n != 1 {
		t.Errorf("A sent %v carets in all, want the one before typing", n)
	}
	if n := evalValue[float64](t, b, `carets`); n != 0 {
		t.Errorf("B sent %v carets while A typed, want none", n)
	}
	run(t, b, caretAt(3))
	waitJS(t, a, "Bo's caret at 3", caretOn(a, "Bo", 3))
}
