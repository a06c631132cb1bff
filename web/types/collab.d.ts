export class CollabEditor extends HTMLElement {
    static get observedAttributes(): string[];
    /** @type {DocClient | null} */ client: DocClient | null;
    /** @type {TextareaBinding | null} */ binding: TextareaBinding | null;
    /** @type {any} */ view: any;
    /** @type {Promise<void>} */ ready: Promise<void>;
    /** @type {HTMLTextAreaElement | null} */ textarea: HTMLTextAreaElement | null;
    /** @type {HTMLElement | null} */ peopleEl: HTMLElement | null;
    /** @type {HTMLElement | null} */ noticesEl: HTMLElement | null;
    set getToken(fn: (() => Promise<string> | string) | null);
    get getToken(): (() => Promise<string> | string) | null;
    connectedCallback(): void;
    disconnectedCallback(): void;
    /** @param {string} name @param {string | null} oldValue @param {string | null} value */
    attributeChangedCallback(name: string, oldValue: string | null, value: string | null): void;
    setup(): void;
    /**
     * @param {HTMLElement} field @param {HTMLLabelElement} label @param {string} id @param {DocClient} client
     */
    textareaEditor(field: HTMLElement, label: HTMLLabelElement, id: string, client: DocClient): void;
    /**
     * codeMirror shows the document in CodeMirror 6, loaded on first use.
     * @param {HTMLElement} field @param {HTMLLabelElement} label @param {string} id @param {DocClient} client
     */
    codeMirror(field: HTMLElement, label: HTMLLabelElement, id: string, client: DocClient): Promise<void>;
    /** @param {{name: string, color: string, stale?: boolean}[]} peers */
    renderPeople(peers: {
        name: string;
        color: string;
        stale?: boolean;
    }[]): void;
    /** @param {string} type @param {object} detail */
    emit(type: string, detail: object): void;
    getText(): string;
    destroy(): void;
    #private;
}
export type StatusDetail = import("./js/client.js").StatusDetail;
import { DocClient } from './js/client.js';
import { TextareaBinding } from './js/binding.js';
