// SessionGrid: several sessions as live cards. anywidget imports this module once per model,
// so the grid finds its sessions' bridges in the page-wide registry on `window`. Each session
// keeps its one iframe: the grid moves it into a card (scaled down) or into the enlarged panel,
// and gives it back when it goes; it never makes a second one.
import { Bridge, Model, pageBridges } from "./bridge";
import { h, str } from "./dom";
import * as P from "./protocol";
import { createLoadState, createToolbar, errorSentence, latencyClass, Part, visitorLabel } from "./toolbar";

/** The size the page is laid out at inside a card, before it is scaled down (px). */
const THUMB_WIDTH = 1024;
const THUMB_HEIGHT = 640;
/** How often to look again for sessions whose bridge has not started yet (ms). */
const LOOK_AGAIN = 250;

function cssLength(v: unknown, fallback: string): string {
  if (typeof v === "number") return `${v}px`;
  return typeof v === "string" && v ? v : fallback;
}

interface Card {
  id: string;
  bridge: Bridge | null;
  el: HTMLElement;
  dot: HTMLElement;
  status: HTMLElement;
  latency: HTMLElement;
  visitor: HTMLElement;
  url: HTMLElement;
  error: HTMLElement;
  picture: HTMLElement;
  note: HTMLElement;
  open: HTMLButtonElement;
  take: HTMLButtonElement;
  /** The holder object the card shows the iframe as (compared by identity in the bridge). */
  holder: object;
  unsubscribe: Array<() => void>;
  frame: number;
}

export function attachGrid(model: Model, el: HTMLElement): () => void {
  el.classList.add("upscope-widget", "upscope-grid-widget");
  const header = h("div", "upscope-grid-header");
  const title = h("span", "upscope-grid-title");
  const back = h("button", "upscope-tb-button upscope-grid-back", "← Back to the grid");
  back.type = "button";
  back.hidden = true;
  header.append(title, back);
  const grid = h("div", "upscope-grid");
  const panel = h("div", "upscope-grid-panel");
  panel.hidden = true;
  el.replaceChildren(header, grid, panel);

  const ids = ((model.get("_grid_sessions") ?? []) as unknown[]).map(String);
  const holders = new Set<object>();
  const enlargedHolder = {};
  holders.add(enlargedHolder);
  let enlarged: Card | null = null;
  let parts: Part[] = [];
  let disposed = false;

  const setColumns = () => {
    const min = Number(model.get("min_card_width")) || 280;
    grid.style.gridTemplateColumns = `repeat(auto-fill, minmax(min(100%, ${min}px), 1fr))`;
  };
  setColumns();
  model.on("change:min_card_width", setColumns);

  const cards: Card[] = ids.map((id, i) => {
    const card: Card = {
      id,
      bridge: null,
      el: h("div", "upscope-grid-card"),
      dot: h("span", "upscope-dot"),
      status: h("span", "upscope-grid-status", "starting"),
      latency: h("span", "upscope-tb-latency", "— ms"),
      visitor: h("span", "upscope-grid-visitor"),
      url: h("div", "upscope-grid-url"),
      error: h("div", "upscope-grid-error"),
      picture: h("div", "upscope-grid-picture"),
      note: h("div", "upscope-grid-note"),
      open: h("button", "upscope-tb-button upscope-grid-open", "Enlarge"),
      take: h("button", "upscope-tb-button upscope-grid-take", "Show it here"),
      holder: {},
      unsubscribe: [],
      frame: 0,
    };
    holders.add(card.holder);
    card.el.dataset.sessionIndex = String(i);
    card.open.type = card.take.type = "button";
    card.open.setAttribute("aria-label", `Enlarge session ${i + 1}`);
    card.take.hidden = true;
    card.error.hidden = true;
    card.note.hidden = true;
    const head = h("div", "upscope-grid-head");
    head.append(card.dot, card.status, card.latency, card.visitor, card.open);
    card.picture.append(card.note);
    card.el.append(head, card.url, card.error, card.picture, card.take);
    card.el.addEventListener("click", (e) => {
      if ((e.target as HTMLElement).closest("button") && e.target !== card.open) return;
      enlarge(card);
    });
    card.take.addEventListener("click", () => {
      const b = card.bridge;
      if (!b) return;
      if (!b.active) b.claim(); // the page that shows the session now gives it up
      else place(card);
    });
    grid.append(card.el);
    return card;
  });
  title.textContent = `${cards.length} session${cards.length === 1 ? "" : "s"}`;

  /** Scale the iframe down into the card: it is laid out at THUMB_WIDTH and shrunk. */
  const thumb = (card: Card, frame: HTMLIFrameElement) => {
    const scale = (card.picture.clientWidth || 280) / THUMB_WIDTH;
    frame.classList.add("upscope-frame-thumb");
    frame.style.width = `${THUMB_WIDTH}px`;
    frame.style.height = `${THUMB_HEIGHT}px`;
    frame.style.transform = `scale(${scale})`;
    // the card is the control; the page inside is only a picture (not reachable with Tab)
    frame.inert = true;
  };
  const unthumb = (frame: HTMLIFrameElement | null) => {
    if (!frame) return;
    frame.classList.remove("upscope-frame-thumb");
    frame.style.transform = "";
    frame.inert = false;
  };

  /** Show the session's iframe in its card (or in the panel, when enlarged). */
  const place = (card: Card) => {
    const b = card.bridge;
    if (!b || !b.active || disposed) return;
    if (enlarged === card) {
      const body = panel.querySelector<HTMLElement>(".upscope-body")!;
      const frame = b.placeFrame(body, enlargedHolder);
      if (typeof frame !== "string") {
        unthumb(frame);
        frame.style.width = "100%";
        frame.style.height = cssLength(b.setting("height"), "640px");
      }
    } else {
      const frame = b.placeFrame(card.picture, card.holder);
      if (typeof frame !== "string") thumb(card, frame);
    }
    drawCard(card);
  };

  const drawCard = (card: Card) => {
    card.frame = 0;
    const b = card.bridge;
    if (!b) {
      card.status.textContent = "starting";
      return;
    }
    const s = b.snapshot ?? {};
    const status = str(s[P.KEY_SESSION_STATUS]);
    card.dot.className = `upscope-dot upscope-dot-${status || "none"}`;
    card.status.textContent =
      status || (b.frame ? (b.loadFailed ? "not loading" : "connecting") : "not shown");
    const ms = s[P.KEY_DATA_BOUNCE_SPEED];
    if (typeof ms === "number" && Number.isFinite(ms)) {
      card.latency.textContent = `${Math.round(ms)} ms`;
      card.latency.className = `upscope-tb-latency upscope-latency-${latencyClass(ms)}`;
    } else {
      card.latency.textContent = "— ms";
      card.latency.className = "upscope-tb-latency";
    }
    card.visitor.textContent = visitorLabel(s[P.KEY_VISITOR]);
    const url = str(s[P.KEY_CURRENT_URL]);
    card.url.textContent = url || "—";
    card.url.title = url;
    const error = b.lastError;
    card.error.hidden = !error;
    card.error.textContent = error ? `${errorSentence(b, error)} (${error})` : "";
    const ours = b.holder !== null && holders.has(b.holder);
    const here = ours && b.holder === card.holder;
    let note = "";
    if (!b.active) note = "Shown in another browser tab or window.";
    else if (b.endedReason !== null) note = "";
    else if (!ours && b.holder !== null && b.frame) note = "Live in another output.";
    else if (b.loadFailed && here) note = "Nothing arrived: enlarge it for what to do.";
    card.note.textContent = note;
    card.note.hidden = !note;
    card.take.hidden = !(!ours && (!b.active || (b.holder !== null && b.frame)));
    card.el.classList.toggle("upscope-grid-ended", b.endedReason !== null ||
      status === P.STATUS_TERMINATED);
  };
  const schedule = (card: Card) => {
    if (card.frame) return;
    card.frame = requestAnimationFrame(() => drawCard(card));
  };

  const connect = (card: Card, b: Bridge) => {
    card.bridge = b;
    card.unsubscribe.push(
      b.subscribe(() => {
        // the page that had the session gave it back (a claim from this card succeeded)
        if (b.active && !b.frame && !disposed) place(card);
        schedule(card);
      }),
      b.onHolder((holder) => {
        if (holder === null || !holders.has(holder)) {
          if (holder !== null) unthumb(b.frame);
        }
        schedule(card);
      }),
      // a new link: the iframe must load anew, where the grid shows it
      ...["url", "_simulator_page"].map((name) =>
        b.watchSetting(name, () => {
          if (b.holder !== null && holders.has(b.holder)) {
            b.createFrame();
            place(card);
          }
        }),
      ),
    );
    // Take the iframe unless an output of the session shows it already.
    if (b.active && (b.holder === null || !b.frame)) place(card);
    else schedule(card);
  };

  let timer: ReturnType<typeof setTimeout> | null = null;
  const look = () => {
    timer = null;
    if (disposed) return;
    const bridges = pageBridges();
    for (const card of cards) {
      if (card.bridge) continue;
      // made by another copy of this module (one per model): not `instanceof` our Bridge
      const b = bridges.get(card.id) as Bridge | undefined;
      if (b && typeof b.placeFrame === "function") connect(card, b);
    }
    if (cards.some((c) => !c.bridge)) timer = setTimeout(look, LOOK_AGAIN);
  };
  look();

  // a card that changes width rescales its picture
  const resized = new ResizeObserver(() => {
    for (const card of cards) {
      const b = card.bridge;
      if (b?.frame && b.holder === card.holder) thumb(card, b.frame);
    }
  });
  for (const card of cards) resized.observe(card.picture);

  const enlarge = (card: Card) => {
    if (!card.bridge) return;
    shrink();
    enlarged = card;
    const b = card.bridge;
    const toolbar = createToolbar(b);
    const load = createLoadState(b);
    parts = [toolbar, load];
    const tools = h("div", "upscope-tools");
    tools.append(toolbar.el);
    const body = h("div", "upscope-body");
    body.append(load.el);
    panel.replaceChildren(tools, body);
    // the panel is shown before the iframe moves in: a frame moved into a hidden box keeps
    // its size at zero until the next layout
    panel.hidden = false;
    grid.hidden = true;
    back.hidden = false;
    title.textContent = `Session ${cards.indexOf(card) + 1} of ${cards.length}`;
    if (b.holder === null || holders.has(b.holder) || !b.frame) place(card);
    load.update();
    toolbar.update();
    back.focus();
  };

  const shrink = () => {
    const card = enlarged;
    if (!card) return;
    enlarged = null;
    grid.hidden = false;
    for (const p of parts) p.dispose();
    parts = [];
    // the iframe goes back to its card before the panel is emptied (emptying would reload it)
    if (card.bridge && card.bridge.holder === enlargedHolder) place(card);
    panel.replaceChildren();
    panel.hidden = true;
    back.hidden = true;
    title.textContent = `${cards.length} session${cards.length === 1 ? "" : "s"}`;
    card.open.focus();
  };
  back.addEventListener("click", shrink);
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape" && enlarged && !(e.target as HTMLElement).closest("input")) shrink();
  };
  el.addEventListener("keydown", onKey);

  return () => {
    disposed = true;
    if (timer !== null) clearTimeout(timer);
    resized.disconnect();
    model.off("change:min_card_width", setColumns);
    el.removeEventListener("keydown", onKey);
    for (const p of parts) p.dispose();
    for (const card of cards) {
      if (card.frame) cancelAnimationFrame(card.frame);
      for (const u of card.unsubscribe) u();
      const b = card.bridge;
      if (!b || b.holder === null || !holders.has(b.holder)) continue;
      unthumb(b.frame);
      b.releaseFrame(b.holder); // an output of the session may take it back
      if (b.holder === null) b.detachFrame(); // none did: the iframe goes with the grid
    }
  };
}
