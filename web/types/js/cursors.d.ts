export class TextareaCarets {
    /**
     * @param {HTMLTextAreaElement} textarea
     * @param {HTMLElement} overlay an element over the textarea (same offset parent)
     * @param {() => string} text the textarea's text, read once to make the mirror
     */
    constructor(textarea: HTMLTextAreaElement, overlay: HTMLElement, text: () => string);
    destroy(): void;
    /**
     * change keeps the mirror equal to the textarea's text.
     * @param {number} from @param {number} to @param {string} insert
     */
    change(from: number, to: number, insert: string): void;
    /** set draws the given carets (UTF-16 offsets) on the next frame. @param {RemoteCaret[]} carets */
    set(carets: RemoteCaret[]): void;
    #private;
}
export type RemoteCaret = import("./editor.js").RemoteCaret;
