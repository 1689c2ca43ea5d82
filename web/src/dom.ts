// Building the page without ever parsing data as HTML: every string becomes a text node, and
// attributes are set one by one. Nothing in this page uses innerHTML, outerHTML,
// insertAdjacentHTML or document.write (tests/browser/test_page_source.py checks it).

export type Child = Node | string | number | null | undefined | false;
/** A child, or lists of them, as deep as convenient. */
export type Children = Child | readonly Children[];
type Value = string | number | boolean | null | undefined;
export type Attrs = {
  [name: string]: Value | ((event: Event) => void);
};

/** An element with its attributes and children; strings and numbers are text, never markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Children[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === "function") {
      element.addEventListener(name.replace(/^on/, "").toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Children[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, ...(child as readonly Children[]));
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace everything inside `parent` with `children`. */
export function replace(parent: Node, ...children: Children[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** A number as people read it here: 5,500. */
export function count(value: number | undefined): string {
  return (value ?? 0).toLocaleString("en-GB");
}

/** An ISO time in the reader's time zone: "3 Dec 2026, 11:48". */
export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

/** A link target from the API, if it is a web address (never `javascript:` or `data:`). */
export function safeHttpUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

let ids = 0;
/** A fresh id for label/field and aria-* pairs. */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}
