/** What the editor shows when it cannot show the document's line breaks. */
export const MIXED_BREAKS_MESSAGE: string;
export class MonacoAdapter {
    /**
     * @param {any} editor a monaco.editor.IStandaloneCodeEditor with a model
     * @param {any} monaco the monaco-editor namespace
     * @param {string} text the document's text, shown at once
     */
    constructor(editor: any, monaco: any, text: string);
    composing: boolean;
    /** @param {EditorBinding} b */
    bind(b: EditorBinding): void;
    /** @returns {number} */
    get units(): number;
    /** @param {number} from @param {number} to @returns {string} */
    read(from: number, to: number): string;
    /** @returns {{anchor: number, head: number}} */
    selection(): {
        anchor: number;
        head: number;
    };
    /**
     * @param {Utf16Change[]} changes
     * @param {{anchor: number, head: number}} [selection]
     */
    apply(changes: Utf16Change[], selection?: {
        anchor: number;
        head: number;
    }): void;
    /** @param {RemoteCaret[]} carets */
    drawCarets(carets: RemoteCaret[]): void;
    /** @param {boolean} readonly */
    setReadOnly(readonly: boolean): void;
    /** True once the model could not take the document's line breaks. */
    get broken(): boolean;
    destroy(): void;
    #private;
}
export class MonacoBinding {
    /**
     * @param {DocClient} client
     * @param {any} editor a monaco.editor.IStandaloneCodeEditor with a model
     * @param {any} monaco the monaco-editor namespace
     */
    constructor(client: DocClient, editor: any, monaco: any);
    adapter: MonacoAdapter;
    binding: EditorBinding;
    undo(): void;
    redo(): void;
    destroy(): void;
}
export type Utf16Change = import("./astral.js").Utf16Change;
export type RemoteCaret = import("./editor.js").RemoteCaret;
export type DocClient = import("./client.js").DocClient;
export type LocalChange = Utf16Change & {
    deleted: string;
};
import { EditorBinding } from './editor.js';
