/**
 * @param {HTMLElement} container
 * @param {{server: string | (() => string), doc: string, editor: import('../collab.js').CollabEditor, token?: string | null | (() => string), prefix?: string}} opts
 */
export function mountHistory(container: HTMLElement, { server, doc, editor, token, prefix }: {
    server: string | (() => string);
    doc: string;
    editor: import("../collab.js").CollabEditor;
    token?: string | null | (() => string);
    prefix?: string;
}): HTMLDetailsElement;
/**
 * A session of editing, as /sessions lists it.
 */
export type Session = {
    from: number;
    to: number;
    start: string;
    end: string;
    ops: number;
    editors: number;
    authors: {
        name: string;
    }[];
};
/**
 * A named version.
 */
export type Version = {
    rev: number;
    name: string;
};
/**
 * An author's span of the text, in code points.
 */
export type Span = {
    start: number;
    length: number;
    client: string;
    name: string;
};
