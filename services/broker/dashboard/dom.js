// @ts-check
// Building blocks of the dashboard's views: HTML and SVG elements whose text
// is always set as text, never parsed (client ids and reasons come from
// clients), and the number formats.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** @typedef {Record<string, string | number | boolean | undefined>} Attributes */

/**
 * @param {Element} element
 * @param {Attributes} attributes
 * @param {(Node | string | number)[]} children
 */
function fill(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') element.setAttribute('class', String(value));
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children)
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

/**
 * An HTML element.
 * @param {string} tag
 * @param {Attributes} [attributes]
 * @param {(Node | string | number)[]} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  return /** @type {HTMLElement} */ (fill(document.createElement(tag), attributes, children));
}

/**
 * An SVG element.
 * @param {string} tag
 * @param {Attributes} [attributes]
 * @param {(Node | string | number)[]} children
 * @returns {SVGElement}
 */
export function s(tag, attributes = {}, ...children) {
  return /** @type {SVGElement} */ (
    fill(document.createElementNS(SVG_NS, tag), attributes, children)
  );
}

/** SVG text with a tooltip. @param {Attributes} attributes @param {string} text @param {string} [title] */
export function label(attributes, text, title) {
  return s('text', attributes, text, ...(title ? [s('title', {}, title)] : []));
}

/** @param {string} id */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element;
}

/** @param {number} value */
export const count = (value) => value.toLocaleString('en-US');
/** @param {number} value */
export const rate = (value) => value.toLocaleString('en-US', { maximumFractionDigits: 1 });
/** @param {number} ms */
export const time = (ms) => new Date(ms).toLocaleTimeString('en-GB');

/** Each group's colour, the same in every view. @param {number} index */
export const groupColour = (index) =>
  ['#2458d6', '#1b8a4b', '#b0479b', '#b26a00', '#0f7c8c', '#6b4fd6'][index % 6];

/**
 * An SVG arrow-head marker for `marker-end: url(#id)`.
 * @param {string} id
 * @param {Attributes} paint the head's fill or class
 */
export function arrowHead(id, paint) {
  return s(
    'marker',
    {
      id,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    },
    s('path', { d: 'M 0 0 L 10 5 L 0 10 z', ...paint }),
  );
}
