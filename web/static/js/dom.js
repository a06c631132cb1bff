// @ts-check
// byId returns the page's element with the id, of the type given: the
// pages' markup is served with them, so a missing or different element is
// a bug to report at once, not a null to carry around.

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{new (): T, name: string}} type
 * @returns {T}
 */
export function byId(id, type) {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return e;
}
