// Small helpers shared by the simulator page's modules.

export const LOG = "[upscope-sim]";

/** A plain JSON object (what messages, options and recorded state are). */
export type JsonObject = { [key: string]: unknown };
/** A message from the host: an instruction, or a simulator control message. */
export type ActionMessage = JsonObject & { action: string };

/** The page's element with this id; its absence is a bug in page.html, not bad input. */
export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`${LOG} page.html has no #${id}`);
  return el;
}

/** Log a warning and return false, so a handler can `return warn(...)` to refuse. */
export function warn(...args: unknown[]): false {
  console.warn(LOG, ...args);
  return false;
}

/** `fn`, logging instead of throwing: a bad message or a render bug must not stop the page. */
export function safe<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R | undefined {
  return function (this: unknown, ...args: A): R | undefined {
    try {
      return fn.apply(this, args);
    } catch (err) {
      console.error(LOG, err);
      return undefined;
    }
  };
}

export function isObj(v: unknown): v is JsonObject {
  return (
    v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    Object.getPrototypeOf(v) === Object.prototype
  );
}

export function isActionMessage(v: unknown): v is ActionMessage {
  return isObj(v) && typeof v.action === "string";
}

export function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** A string or number as text; anything else (from outside) as "". */
export function text(v: unknown): string {
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}

export function showJson(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s.length > 400 ? s.slice(0, 397) + "..." : s;
  } catch (err) {
    return "(unprintable)";
  }
}

type Attrs = { [name: string]: string | number | boolean | null | undefined } | null;
type Kid = Node | string | null | undefined | false;

/** An element with attributes and children; text children become text nodes, never HTML. */
export function h(tag: string, attrs: Attrs, ...kids: (Kid | Kid[])[]): HTMLElement {
  const el = document.createElement(tag);
  if (attrs) {
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
    }
  }
  for (const kid of kids) {
    if (Array.isArray(kid)) {
      for (const x of kid) if (x !== null && x !== undefined && x !== false) el.append(x);
    } else if (kid !== null && kid !== undefined && kid !== false) {
      el.append(kid);
    }
  }
  return el;
}
