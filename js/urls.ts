// The one URL policy, as the browser applies it. upscope_widget/urls.py states the same rules
// (and gives the reasons); tests/browser/test_url_policy.py runs one table of URLs through both
// and requires the same verdict. These checks stand where the browser must decide by itself:
// which link the iframe may load, and what the toolbar's address field may send.

export type UrlCheck = { ok: true; url: string } | { ok: false; reason: string };
export type Purpose = "watch" | "page" | "https";

export const LOCAL_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];
export const MAX_URL_CHARS = 8192;

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]/;
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\x00-\x20\x7f\\]/;
const EDGE_WHITESPACE = /^[ \t\n\r\f]+|[ \t\n\r\f]+$/g;

/** Whether `value` may be used for `purpose`: the URL trimmed, or a short reason. */
export function checkUrl(value: unknown, purpose: Purpose): UrlCheck {
  if (typeof value !== "string") return { ok: false, reason: "Not a URL." };
  const text = value.replace(EDGE_WHITESPACE, "");
  if (!text) return { ok: false, reason: "Type an address such as https://example.com/." };
  if (text.length > MAX_URL_CHARS) {
    return { ok: false, reason: `Longer than ${MAX_URL_CHARS} characters.` };
  }
  if (FORBIDDEN.test(text)) {
    return { ok: false, reason: "It contains a space, a control character or a backslash." };
  }
  if (!ABSOLUTE.test(text)) {
    return { ok: false, reason: "Not an absolute address: start with https:// or http://." };
  }
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { ok: false, reason: "The browser cannot parse it (check the host and the port)." };
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return { ok: false, reason: `${parsed.protocol} addresses are refused: use https:// or http://.` };
  }
  if (!parsed.hostname) return { ok: false, reason: "The address has no host." };
  if (parsed.username || parsed.password) {
    return { ok: false, reason: "It carries a user name or password." };
  }
  if (purpose === "watch" && parsed.protocol === "http:" && !LOCAL_HOSTS.includes(parsed.hostname)) {
    return { ok: false, reason: "Plain http: is allowed only for localhost, 127.0.0.1 and [::1]." };
  }
  if (purpose === "https" && parsed.protocol !== "https:") {
    return { ok: false, reason: "Only https: addresses are allowed." };
  }
  return { ok: true, url: text };
}

/** A page address for `setCurrentUrl`: an absolute `http:` or `https:` URL with a host. */
export function checkPageUrl(value: string): UrlCheck {
  return checkUrl(value, "page");
}

/** A watch link the iframe may load: `https:`, or `http:` on the local machine only. */
export function checkWatchUrl(value: unknown): UrlCheck {
  return checkUrl(value, "watch");
}
