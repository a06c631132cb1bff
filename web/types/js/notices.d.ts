/**
 * refusedNotice tells that an edit was refused and taken out of the text,
 * and offers its text to copy or download.
 * @param {{code: string, message: string, text: string}} r @param {string} doc @param {() => void} close
 */
export function refusedNotice(r: {
    code: string;
    message: string;
    text: string;
}, doc: string, close: () => void): HTMLElement;
/**
 * deletedNotice tells that the document was deleted while open, and lets
 * the person recreate it from the text still shown, or leave.
 * @param {{by: string}} d @param {() => void} recreate @param {() => void} leave
 */
export function deletedNotice(d: {
    by: string;
}, recreate: () => void, leave: () => void): HTMLElement;
