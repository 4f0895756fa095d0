// Views only draw. The first live view of a session owns its iframe; every other view of the
// same widget shows a status card, so that showing a widget twice never opens a second session.
import { Bridge, Model } from "./bridge";
import { h } from "./dom";
import * as P from "./protocol";
import { createLoadState, createToolbar, Part, toolbarOn, visitorLabel } from "./toolbar";

interface View {
  el: HTMLElement;
  bar: HTMLElement;
  /** The toolbar's place: filled only in the view that shows the iframe. */
  tools: HTMLElement;
  body: HTMLElement;
  notices: HTMLElement;
}

interface Stage {
  views: View[];
  owner: View | null;
  /** The view whose "show here" button claimed the session from another frontend. */
  wanted: View | null;
  /** The toolbar and the loading cover, in the view that shows the iframe. */
  parts?: { view: View; toolbar: Part; load: Part } | null;
}

const stages = new Map<string, Stage>();
const handlers = new WeakMap<
  View,
  { onReset: () => void; onOwnership: (active: boolean) => void }
>();

function cssLength(v: unknown, fallback: string): string {
  if (typeof v === "number") return `${v}px`;
  return typeof v === "string" && v ? v : fallback;
}

export function attachView(bridge: Bridge, model: Model, el: HTMLElement): () => void {
  let stage = stages.get(bridge.id);
  if (!stage) {
    stage = { views: [], owner: null, wanted: null };
    stages.set(bridge.id, stage);
  }
  const s = stage;
  el.classList.add("upscope-widget");
  const view: View = {
    el,
    bar: h("div", "upscope-bar"),
    tools: h("div", "upscope-tools"),
    body: h("div", "upscope-body"),
    notices: h("div", "upscope-notices"),
  };
  el.replaceChildren(view.bar, view.tools, view.body, view.notices);
  s.views.push(view);

  /** Show the iframe in `v`: a new one when `fresh` (a new link), else the one there is,
   * moved (from another output or a grid) without reloading where the browser allows. */
  const mountFrame = (v: View, fresh = false) => {
    s.owner = v;
    dropParts();
    const frame = fresh ? bridge.createFrame() : bridge.placeFrame(v.body, v);
    if (typeof frame === "string") {
      v.body.replaceChildren(h("div", "upscope-refused", frame));
    } else {
      // never remove a live frame from the page, even for a moment: that reloads it
      for (const child of [...v.body.childNodes]) if (child !== frame) child.remove();
      if (frame.parentElement !== v.body) v.body.append(frame);
      if (fresh) bridge.placeFrame(v.body, v); // already there: says who holds it
      sizeFrame(frame);
      const toolbar = createToolbar(bridge);
      const load = createLoadState(bridge);
      s.parts = { view: v, toolbar, load };
      v.tools.replaceChildren(toolbar.el);
      v.body.append(load.el);
      load.update();
    }
    for (const other of s.views) if (other !== v) drawCard(other);
    draw();
  };

  const dropParts = () => {
    if (!s.parts) return;
    s.parts.toolbar.dispose();
    s.parts.load.dispose();
    s.parts.view.tools.replaceChildren();
    s.parts = null;
  };

  const sizeFrame = (frame: HTMLIFrameElement) => {
    frame.style.width = cssLength(model.get("width"), "100%");
    frame.style.height = cssLength(model.get("height"), "640px");
  };

  const drawCard = (v: View) => {
    if (s.parts?.view === v) dropParts();
    const here = bridge.active;
    const inGrid = bridge.holder !== null && !s.views.some((x) => x === bridge.holder);
    const card = h("div", "upscope-card");
    card.append(
      h(
        "div",
        "upscope-card-title",
        here
          ? inGrid
            ? "This session is live in a session grid."
            : "This session is live in another output of this widget."
          : "This session is shown in another browser tab or window.",
      ),
      h(
        "div",
        "upscope-card-text",
        "Only one place shows the co-browsing iframe (one session, one connection); " +
          "this one mirrors its status.",
      ),
    );
    const button = h("button", "upscope-button", "Show the session here");
    button.addEventListener("click", () => {
      if (!bridge.active) {
        s.wanted = v;
        bridge.claim(); // the kernel answers with OWNER: see onOwnership below
        return;
      }
      mountFrame(v); // moves the iframe here, then draws the card where it was
    });
    card.append(button);
    v.body.replaceChildren(card);
  };

  let pending = false;
  const draw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      for (const v of s.views) drawBar(v);
    });
  };

  const drawBar = (v: View) => {
    const snap = bridge.snapshot ?? {};
    const status = typeof snap[P.KEY_SESSION_STATUS] === "string" ? String(snap[P.KEY_SESSION_STATUS]) : "";
    const shown = status || (bridge.frame ? (bridge.isLoaded ? "loaded" : "loading") : "no view");
    const dot = h("span", `upscope-dot upscope-dot-${status || "none"}`);
    const parts: HTMLElement[] = [dot, h("span", "upscope-status", shown)];
    const url = snap[P.KEY_CURRENT_URL];
    if (typeof url === "string" && url) parts.push(h("span", "upscope-url", url));
    const who = visitorLabel(snap[P.KEY_VISITOR]);
    if (who) parts.push(h("span", "upscope-visitor", who));
    if (v !== s.owner) parts.push(h("span", "upscope-mirror", "mirror"));
    v.bar.replaceChildren(...parts);
    // the toolbar shows all of this and more: the status line stands in when it is off
    v.el.classList.toggle(
      "upscope-has-toolbar",
      v === s.owner && s.parts?.view === v && toolbarOn(bridge),
    );
  };

  const drawNotices = () => {
    const notices = (model.get("_notices") ?? []) as Array<{ level?: string; text?: string }>;
    for (const v of s.views) {
      if (!notices.length) {
        v.notices.replaceChildren();
        continue;
      }
      const items = notices.map((n) =>
        h("pre", `upscope-notice upscope-notice-${n.level === "error" ? "error" : "warning"}`,
          String(n.text ?? "")),
      );
      const dismiss = h("button", "upscope-button upscope-dismiss", "Dismiss");
      dismiss.addEventListener("click", () => bridge.dismissNotices());
      v.notices.replaceChildren(...items, dismiss);
    }
  };

  const resize = () => {
    if (bridge.frame) sizeFrame(bridge.frame);
  };

  if (!s.owner && bridge.active) mountFrame(view);
  else drawCard(view);
  drawNotices();
  draw();

  // The bridge calls one view's handlers; when that view goes, another live view's take over
  // (never a closure of a view that is gone).
  const onReset = () => {
    if (s.owner) mountFrame(s.owner, true);
  };
  const onOwnership = (active: boolean) => {
    if (active) {
      const v = s.wanted && s.views.includes(s.wanted) ? s.wanted : s.views[0];
      s.wanted = null;
      if (v) mountFrame(v);
    } else {
      s.owner = null;
      for (const v of s.views) drawCard(v);
    }
    draw();
  };
  handlers.set(view, { onReset, onOwnership });
  bridge.onReset = onReset;
  bridge.onOwnership = onOwnership;
  const unsubscribe = bridge.subscribe(draw);
  // A session grid may take the iframe (and give it back): this view shows a card meanwhile.
  const unholder = bridge.onHolder((holder) => {
    const ours = s.views.some((x) => x === holder);
    if (holder !== null && !ours) {
      if (s.owner === view) s.owner = null;
      drawCard(view);
    } else if (holder === null && view === s.views[0] && !s.owner && bridge.active) {
      mountFrame(view);
    }
    draw();
  });
  model.on("change:toolbar", draw);
  model.on("change:_notices", drawNotices);
  model.on("change:width", resize);
  model.on("change:height", resize);

  return () => {
    unsubscribe();
    unholder();
    model.off("change:toolbar", draw);
    model.off("change:_notices", drawNotices);
    model.off("change:width", resize);
    model.off("change:height", resize);
    s.views = s.views.filter((v) => v !== view);
    handlers.delete(view);
    const heirHandlers = s.views.length ? handlers.get(s.views[s.views.length - 1]) : undefined;
    if (bridge.onReset === onReset) bridge.onReset = heirHandlers?.onReset ?? null;
    if (bridge.onOwnership === onOwnership) {
      bridge.onOwnership = heirHandlers?.onOwnership ?? null;
    }
    if (s.owner === view) {
      s.owner = null;
      dropParts();
      bridge.detachFrame();
      const heir = s.views[0];
      if (heir) mountFrame(heir);
      else bridge.releaseFrame(view);
    }
    if (!s.views.length) {
      stages.delete(bridge.id);
      bridge.onReset = null;
      bridge.onOwnership = null;
    }
  };
}
