// Small DOM helpers shared by the views, the toolbar and the grid.

/** An element with a class and, optionally, text. Never innerHTML: strings come from outside. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** `v` if it is a string, else "". */
export function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
