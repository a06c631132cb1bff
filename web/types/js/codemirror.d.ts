/**
 * collab returns the extension binding an EditorView to client. The view's
 * document must start as client.text.
 * @param {DocClient} client
 * @param {any} cm the exports of @codemirror/state and @codemirror/view
 * @returns {any} a CodeMirror Extension
 */
export function collab(client: DocClient, cm: any): any;
/**
 * joinByWord is the history option (joinToEvent) that groups undo steps by word and
 * pause: typing joins the step until a new word starts after a space, or a
 * line break is typed.
 * @param {any} tr a Transaction @param {boolean} adjacent
 */
export function joinByWord(tr: any, adjacent: boolean): boolean;
export type Op = import("./ot.js").Op;
export type Utf16Change = import("./astral.js").Utf16Change;
export type DocClient = import("./client.js").DocClient;
