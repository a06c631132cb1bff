package web_test

// Browser tests of the ways text enters and leaves a textarea other than
// plain typing: undo and redo, copy/cut/paste, Backspace over emoji, IME
// composition, drag and drop. Each checks what the other page and the
// server end up with, not only the page that edited.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/collabd/collab/collab"
)

// twoPages opens doc on a fresh server as Ada and Bo, both synced, with
// the textarea editor.
func twoPages(t *testing.T, doc string) (srv *testServer, a, b context.Context) {
	t.Helper()
	return twoPagesWith(t, doc, "textarea")
}

// twoPagesWith opens doc on a fresh server as Ada and Bo with editor
// (textarea or codemirror), both synced.
func twoPagesWith(t *testing.T, doc, editor string) (srv *testServer, a, b context.Context) {
	t.Helper()
	browser := newBrowser(t)
	srv = startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	a = newTab(t, browser, srv.URL+"/d/"+doc+"?name=Ada&editor="+editor)
	b = newTab(t, browser, srv.URL+"/d/"+doc+"?name=Bo&editor="+editor)
	waitJS(t, a, "A synced", synced)
	waitJS(t, b, "B synced", synced)
	return srv, a, b
}

// shortcut presses key with Ctrl (and Shift, with the key in upper case
// as a keyboard reports it then).
func shortcut(key string, shift bool) chromedp.Action[chromedp.Void] {
	mods := []chromedp.Modifier{chromedp.ModifierCtrl}
	if shift {
		mods = append(mods, chromedp.ModifierShift)
		key = strings.ToUpper(key)
	}
	return chromedp.KeyEvent(key, chromedp.KeyModifiers(mods...))
}

// converge waits until both pages show want, A has nothing pending, and
// the server holds want.
func converge(t *testing.T, srv *testServer, doc, want string, a, b context.Context) {
	t.Helper()
	waitJS(t, a, "A to show "+jsString(want), textIs(want)+" && "+synced)
	waitJS(t, b, "B to show "+jsString(want), textIs(want)+" && "+synced)
	if got := srv.text(t, doc); got != want {
		t.Fatalf("server text = %q, want %q", got, want)
	}
}

// recordTexts makes the page keep every text its editor showed, in order,
// in window.seen.
func recordTexts() chromedp.Action[chromedp.Void] {
	return evalJS(`(() => { const ed = document.querySelector('collab-editor'); window.seen = [ed.getText()];
		ed.addEventListener('collab-change', (e) => window.seen.push(e.detail.text)); return true; })()`)
}

// eachEditor runs test once with each editor of the widget.
func eachEditor(t *testing.T, test func(t *testing.T, editor string)) {
	for _, editor := range []string{"codemirror", "textarea"} {
		t.Run(editor, func(t *testing.T) { test(t, editor) })
	}
}

// editorText is a JavaScript expression: what the editor shows.
const editorText = `(() => { ` + editorJS + ` return view ? view.state.doc.toString() : ta.value; })()`

func TestE2EUndoRedoOwnEditsOnly(t *testing.T) { eachEditor(t, testUndoRedoOwnEditsOnly) }

func testUndoRedoOwnEditsOnly(t *testing.T, editor string) {
	srv, a, b := twoPagesWith(t, "undo", editor)
	adas, bos := "Ada wrote this. ", "Bo adds this."
	run(t, a, caretAt(0), chromedp.KeyEvent(adas))
	waitJS(t, b, "B to see Ada's words", textIs(adas))
	run(t, b, caretAt(-1), chromedp.KeyEvent(bos))
	converge(t, srv, "undo", adas+bos, a, b)

	// Ctrl+Z until Ada's words are gone: a press per word (fewer than
	// there are characters); Bo's words must stay through every press.
	run(t, a, caretAt(0))
	presses := 0
	for cur := adas + bos; cur != bos; presses++ {
		if presses == len(adas) {
			t.Fatalf("after %d presses of Ctrl+Z the text is %q, want %q", presses, cur, bos)
		}
		run(t, a, shortcut("z", false))
		waitJS(t, a, "Ctrl+Z to change the text", `document.querySelector('collab-editor').getText() !== `+jsString(cur))
		cur = pageText(a)
		if !strings.HasSuffix(cur, bos) || len(cur) >= len(adas)+len(bos) {
			t.Fatalf("after Ctrl+Z the text is %q: only Ada's words may shrink, Bo's %q stay", cur, bos)
		}
	}
	converge(t, srv, "undo", bos, a, b)

	// Bo types where Ada's words were; Ada's redo goes through his edit.
	run(t, b, caretAt(0), chromedp.KeyEvent("NEW "))
	converge(t, srv, "undo", "NEW "+bos, a, b)
	run(t, a, caretAt(-1))
	for i := 0; i < presses; i++ {
		run(t, a, shortcut("z", true))
	}
	converge(t, srv, "undo", "NEW "+adas+bos, a, b)

	// Once more with Ctrl+Y as redo, while Bo's caret sits in the text.
	for i := 0; i < presses; i++ {
		run(t, a, shortcut("z", false))
	}
	converge(t, srv, "undo", "NEW "+bos, a, b)
	for i := 0; i < presses; i++ {
		run(t, a, shortcut("y", false))
	}
	converge(t, srv, "undo", "NEW "+adas+bos, a, b)

	// Bo's undo removes Bo's "NEW " only.
	run(t, b, shortcut("z", false))
	converge(t, srv, "undo", adas+bos, a, b)
}

func TestE2ECopyCutPaste(t *testing.T) {
	srv, a, b := twoPages(t, "paste")
	run(t, b, recordTexts())
	run(t, a, caretAt(0), chromedp.KeyEvent("alpha beta gamma"))
	converge(t, srv, "paste", "alpha beta gamma", a, b)

	// Ctrl+X cuts "beta " (headless Chromium has its own clipboard), Ctrl+V
	// pastes it at the end.
	run(t, a, selectRange(6, 11), shortcut("x", false))
	converge(t, srv, "paste", "alpha gamma", a, b)
	run(t, a, caretAt(-1), chromedp.KeyEvent(" "), shortcut("v", false))
	converge(t, srv, "paste", "alpha gamma beta ", a, b)

	// Ctrl+C then Ctrl+V over a selection: a replacement in one input event.
	run(t, a, selectRange(0, 5), shortcut("c", false), selectRange(6, 11), shortcut("v", false))
	converge(t, srv, "paste", "alpha alpha beta ", a, b)

	// A multi-line block with tabs, newlines and emoji arrives as
	// one insertion (what a paste from another application produces).
	block := "\n1.\tfirst 😀\n2.\tsecond 👩‍👩‍👧\n\n3.\tthird 🇫🇷\n"
	run(t, a, caretAt(-1), insertText(block))
	converge(t, srv, "paste", "alpha alpha beta "+block, a, b)

	// Delete a selected range with the Delete key, and select-all + cut.
	run(t, a, selectRange(0, 6), chromedp.KeyEvent(kb.Delete))
	converge(t, srv, "paste", "alpha beta "+block, a, b)
	run(t, a, caretAt(0), shortcut("a", false), shortcut("x", false))
	converge(t, srv, "paste", "", a, b)
	run(t, a, shortcut("v", false))
	converge(t, srv, "paste", "alpha beta "+block, a, b)

	// B never showed a text with a lone surrogate or a doubled block.
	bad := evalString(b, `JSON.stringify(window.seen.filter(s => s !== s.toWellFormed() || s.split('first').length > 2))`)
	if bad != "[]" {
		t.Errorf("B showed bad texts: %s", bad)
	}
}

func TestE2EBackspaceOverEmoji(t *testing.T) {
	srv, a, b := twoPages(t, "emoji")
	start := "a😀b👍🏽c👩‍👩‍👧d🇫🇷e"
	run(t, a, caretAt(0), insertText(start))
	converge(t, srv, "emoji", start, a, b)

	const backspace, del = kb.Backspace, kb.Delete
	steps := []struct {
		name  string
		caret int // UTF-16 index
		key   string
		want  string
	}{
		{"Backspace after 😀", len(utf16("a😀")), backspace, "ab👍🏽c👩‍👩‍👧d🇫🇷e"},
		{"Delete before 👍🏽", len(utf16("ab")), del, "abc👩‍👩‍👧d🇫🇷e"},
		{"Backspace after the flag", len(utf16("abc👩‍👩‍👧d🇫🇷")), backspace, "abc👩‍👩‍👧de"},
	}
	for _, s := range steps {
		run(t, a, caretAt(s.caret), chromedp.KeyEvent(s.key))
		converge(t, srv, "emoji", s.want, a, b)
	}
	// Backspace after the family deletes one piece or the whole cluster,
	// as the browser decides; never half a code point.
	cur := "abc👩‍👩‍👧de"
	run(t, a, caretAt(len(utf16("abc👩‍👩‍👧"))), chromedp.KeyEvent(backspace))
	waitJS(t, a, "Backspace to change the text", `document.querySelector('collab-editor').getText() !== `+jsString(cur)+" && "+synced)
	got := pageText(a)
	if !strings.HasPrefix(got, "abc") || !strings.HasSuffix(got, "de") || strings.ContainsRune(got, '\uFFFD') {
		t.Fatalf("after Backspace over the family: %q", got)
	}
	converge(t, srv, "emoji", got, a, b)
	if server := srv.text(t, "emoji"); strings.ContainsRune(server, '\uFFFD') {
		t.Fatalf("server text has U+FFFD: %q", server)
	}
}

// utf16 returns the UTF-16 code units of s (for caret indexes).
func utf16(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xd800+(r>>10)), uint16(0xdc00+(r&0x3ff)))
		} else {
			out = append(out, uint16(r))
		}
	}
	return out
}

// compose sets the IME's composition text, as a Japanese IME does while
// the user types kana.
func compose(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		n := int64(len(utf16(text)))
		_, err := cdp.Call(ctx, t, input.ImeSetComposition, input.ImeSetCompositionParams{Text: text, SelectionStart: n, SelectionEnd: n})
		return err
	})
}

func TestE2EIMEComposition(t *testing.T) { eachEditor(t, testIMEComposition) }

func testIMEComposition(t *testing.T, editor string) {
	srv, a, b := twoPagesWith(t, "ime", editor)
	run(t, a, caretAt(0), chromedp.KeyEvent("[] tail"))
	converge(t, srv, "ime", "[] tail", a, b)
	run(t, b, recordTexts())

	// Ada composes にほんご inside the brackets, then commits 日本語.
	run(t, a, caretAt(1), compose("に"), compose("にほ"), compose("にほん"))
	waitJS(t, a, "the composition on A", editorText+` === "[にほん] tail"`)
	// Bo types while Ada composes: the remote edit waits for the commit.
	run(t, b, caretAt(-1), chromedp.KeyEvent("!"))
	waitJS(t, b, "B's edit saved", textIs("[] tail!")+" && "+synced)
	// The textarea holds Bo's edit back until the composition ends;
	// CodeMirror shows it at once, outside the composition.
	during := "[にほん] tail"
	if editor == "codemirror" {
		during = "[にほん] tail!"
	}
	waitJS(t, a, "Bo's edit to reach A's client without breaking the composition",
		`document.querySelector('collab-editor').getText() === "[] tail!" && `+editorText+` === `+jsString(during))
	run(t, a, compose("にほんご"), insertText("日本語"))
	converge(t, srv, "ime", "[日本語] tail!", a, b)

	// A second composition replaced by a different commit, then cancelled.
	run(t, a, caretAt(len(utf16("[日本語]"))), compose("かな"), insertText("仮名"))
	converge(t, srv, "ime", "[日本語]仮名 tail!", a, b)
	run(t, a, compose("x"), compose(""))
	converge(t, srv, "ime", "[日本語]仮名 tail!", a, b)

	// B never saw the kana being composed, and saw each commit once.
	seen := evalString(b, `JSON.stringify(window.seen)`)
	if strings.ContainsAny(seen, "にほんごかなx") {
		t.Errorf("B saw composition text: %s", seen)
	}
	if strings.Count(srv.text(t, "ime"), "日本語") != 1 || strings.Count(srv.text(t, "ime"), "仮名") != 1 {
		t.Errorf("server text %q: each commit must appear once", srv.text(t, "ime"))
	}
}

func TestE2EDragAndDrop(t *testing.T) {
	srv, a, b := twoPages(t, "drag")
	start := "MOVEME first line\nsecond line\nthird line"
	run(t, a, caretAt(0), chromedp.KeyEvent(start))
	converge(t, srv, "drag", start, a, b)

	// Text dropped from another application at the start of line 3.
	x, y := linePoint(t, a, 2)
	drop := func(typ input.DispatchDragEventType) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, input.DispatchDragEvent, input.DispatchDragEventParams{
				Type: typ, X: x, Y: y,
				Data: &input.DragData{Items: []*input.DragDataItem{{MimeType: "text/plain", Data: "dropped😀 "}}, DragOperationsMask: 1},
			})
			return err
		})
	}
	run(t, a, drop(input.DispatchDragEventTypeDragEnter), drop(input.DispatchDragEventTypeDragOver), drop(input.DispatchDragEventTypeDrop))
	want := "MOVEME first line\nsecond line\ndropped😀 third line"
	converge(t, srv, "drag", want, a, b)

	// Moving a selection inside the textarea: a delete and an insert.
	run(t, a, selectRange(0, 6))
	fx, fy := linePoint(t, a, 0)
	tx, ty := linePoint(t, a, 1)
	run(t, a, chromedp.DragAndDropXY(fx+8, fy, tx, ty))
	want = " first line\nMOVEMEsecond line\ndropped😀 third line"
	converge(t, srv, "drag", want, a, b)
}

// linePoint returns a point just inside the start of line n (from 0) of
// the textarea, in CSS pixels of the viewport.
func linePoint(t *testing.T, ctx context.Context, n int) (x, y float64) {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const ta = document.querySelector('collab-editor textarea');
		const r = ta.getBoundingClientRect(); const cs = getComputedStyle(ta);
		const lh = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.2;
		return {X: r.left + parseFloat(cs.paddingLeft) + parseFloat(cs.borderLeftWidth) + 1,
		        Y: r.top + parseFloat(cs.paddingTop) + parseFloat(cs.borderTopWidth) + lh * (%d + 0.5)}; })()`, n)
	tctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	p, err := chromedp.Run(tctx, chromedp.Evaluate[struct{ X, Y float64 }](expr))
	if err != nil {
		t.Fatal(err)
	}
	return p.X, p.Y
}
