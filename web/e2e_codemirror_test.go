package web_test

// Browser tests of what only the CodeMirror editor does: other editors'
// carets and selections as decorations. The tests of e2e_edit_test.go that
// run with each editor cover undo and IME compositions.

import (
	"testing"

	"github.com/chromedp/chromedp"
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
