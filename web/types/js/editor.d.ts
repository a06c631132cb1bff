export class EditorBinding {
    /**
     * @param {DocClient} client
     * @param {EditorAdapter} adapter showing client.text already
     */
    constructor(client: DocClient, adapter: EditorAdapter);
    get history(): UndoHistory;
    get index(): AstralIndex;
    destroy(): void;
    /**
     * local takes the editor's own changes (UTF-16 offsets of the text
     * before them, ascending, with the text they deleted).
     * @param {(Utf16Change & {deleted: string})[]} changes
     */
    local(changes: (Utf16Change & {
        deleted: string;
    })[]): void;
    /**
     * compositionEnded takes what a composition changed (on the text before
     * the remote ops held meanwhile) and applies those ops.
     * @param {(Utf16Change & {deleted: string})[]} changes
     */
    compositionEnded(changes: (Utf16Change & {
        deleted: string;
    })[]): void;
    /** selected: the local caret or selection moved. */
    selected(): void;
    undo(): void;
    redo(): void;
    drawCarets(): void;
    #private;
}
export type Op = import("./ot.js").Op;
export type Utf16Change = import("./astral.js").Utf16Change;
export type DocClient = import("./client.js").DocClient;
/**
 * A remote editor's caret for the adapter: UTF-16 offsets of the editor's text.
 */
export type RemoteCaret = {
    client: string;
    name: string;
    color: string;
    anchor: number;
    head: number;
};
export type EditorAdapter = {
    units: number;
    read: (from: number, to: number) => string;
    apply: (changes: Utf16Change[], selection?: {
        anchor: number;
        head: number;
    }) => void;
    selection: () => {
        anchor: number;
        head: number;
    };
    drawCarets: (carets: RemoteCaret[]) => void;
    setReadOnly: (readonly: boolean) => void;
    composing: boolean;
    destroy: () => void;
};
import { UndoHistory } from './undo.js';
import { AstralIndex } from './astral.js';
