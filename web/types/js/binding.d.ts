/**
 * findChange returns the one change turning prev into value. start is a
 * UTF-16 offset before which the texts are probably equal, end the caret
 * after the edit, after which value keeps prev's tail: both are checked
 * (as whole slices, which compare fast), and a wrong guess costs a longer
 * comparison only.
 * @param {string} prev @param {string} value @param {number} start @param {number} end
 * @returns {Utf16Change & {deleted: string}}
 */
export function findChange(prev: string, value: string, start: number, end: number): Utf16Change & {
    deleted: string;
};
export class TextareaAdapter {
    /**
     * @param {HTMLTextAreaElement} textarea
     * @param {string} text the document's text, shown at once
     * @param {HTMLElement | null} overlay an element over the textarea for the carets
     */
    constructor(textarea: HTMLTextAreaElement, text: string, overlay: HTMLElement | null);
    composing: boolean;
    /** @param {EditorBinding} b */
    bind(b: EditorBinding): void;
    get units(): number;
    /** @param {number} from @param {number} to */
    read(from: number, to: number): string;
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
    destroy(): void;
    #private;
}
export class TextareaBinding {
    /**
     * @param {HTMLTextAreaElement} textarea
     * @param {DocClient} client
     * @param {HTMLElement | null} [overlay]
     */
    constructor(textarea: HTMLTextAreaElement, client: DocClient, overlay?: HTMLElement | null);
    adapter: TextareaAdapter;
    binding: EditorBinding;
    undo(): void;
    redo(): void;
    destroy(): void;
}
export type Utf16Change = import("./astral.js").Utf16Change;
export type RemoteCaret = import("./editor.js").RemoteCaret;
export type DocClient = import("./client.js").DocClient;
import { EditorBinding } from './editor.js';
