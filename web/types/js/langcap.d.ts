/**
 * textFits reports whether a whole text may keep its language: at most
 * maxDoc units, and no run of non-blank lines longer than maxBlock.
 * @param {string} text @param {number} maxDoc @param {number} maxBlock
 */
export function textFits(text: string, maxDoc: number, maxBlock: number): boolean;
/**
 * longRunAround reports whether a run of non-blank lines touching
 * [from, to] of doc (a CodeMirror Text) is longer than max.
 * @param {any} doc @param {number} from @param {number} to @param {number} max
 */
export function longRunAround(doc: any, from: number, to: number, max: number): boolean;
/**
 * cappedLanguage returns a CodeMirror extension holding language (e.g. a
 * LanguageSupport) while the document fits, and isOn, which tells whether
 * a state has it.
 * @param {any} cm the exports of @codemirror/state
 * @param {any} language
 * @param {string} text the document the state is created with
 * @param {{maxDoc?: number, maxBlock?: number}} [limits]
 * @returns {{extension: any, isOn: (state: any) => boolean}}
 */
export function cappedLanguage(cm: any, language: any, text: string, { maxDoc, maxBlock }?: {
    maxDoc?: number;
    maxBlock?: number;
}): {
    extension: any;
    isOn: (state: any) => boolean;
};
/** UTF-16 units past which a document is shown without its language. */
export const MAX_DOC: number;
/** UTF-16 units past which a run of non-blank lines turns the language off. */
export const MAX_BLOCK: number;
export type Line = {
    length: number;
    text: string;
    number: number;
    from: number;
    to: number;
};
