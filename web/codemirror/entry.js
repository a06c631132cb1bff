// The CodeMirror 6 modules the pages and <collab-editor> use, bundled into
// static/vendor/codemirror.js by build.mjs (npm run build:codemirror).
export {
  EditorState, EditorSelection, StateField, StateEffect, Annotation, Transaction, Compartment, RangeSetBuilder,
} from '@codemirror/state';
export {
  EditorView, ViewPlugin, Decoration, WidgetType, keymap, drawSelection, highlightActiveLine, placeholder,
} from '@codemirror/view';
export { history, defaultKeymap, historyKeymap, indentWithTab, undo, redo } from '@codemirror/commands';
export { search, searchKeymap, highlightSelectionMatches } from '@codemirror/search';
export { syntaxHighlighting, defaultHighlightStyle, HighlightStyle, LanguageSupport } from '@codemirror/language';
export { markdownLanguage } from '@codemirror/lang-markdown';
