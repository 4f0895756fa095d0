// Views only draw. The first live view of a session owns its iframe; every other view of the
// same widget shows a status card, so that showing a widget twice never opens a second session.
import { Bridge, Model } from "./bridge";
import * as P from "./protocol";

interface View {
  el: HTMLElement;
  bar: HTMLElement;
  body: HTMLElement;
  notices: HTMLElement;
}

interface Stage {
  views: View[];
  owner: View | null;
  /** The view whose "show here" button claimed the session from another frontend. */
  wanted: View | null;
}

const stages = new Map<string, Stage>();

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = className;
  if (text !== undefined) el.textContent = text; // never innerHTML: strings come from outside
  return el;
}

function cssLength(v: unknown, fallback: string): string {
  if (typeof v === "number") return `${v}px`;
  return typeof v === "string" && v ? v : fallback;
}

function visitorLabel(visitor: unknown): string {
  if (typeof visitor !== "object" || visitor === null) return "";
  const v = visitor as Record<string, unknown>;
  for (const key of ["callName", "email", "shortId"]) {
    if (typeof v[key] === "string" && v[key]) return String(v[key]);
  }
  return "";
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
    body: h("div", "upscope-body"),
    notices: h("div", "upscope-notices"),
  };
  el.replaceChildren(view.bar, view.body, view.notices);
  s.views.push(view);

  const mountFrame = (v: View) => {
    s.owner = v;
    const frame = bridge.createFrame();
    if (typeof frame === "string") {
      v.body.replaceChildren(h("div", "upscope-refused", frame));
    } else {
      sizeFrame(frame);
      v.body.replaceChildren(frame);
    }
    for (const other of s.views) if (other !== v) drawCard(other);
    draw();
  };

  const sizeFrame = (frame: HTMLIFrameElement) => {
    frame.style.width = cssLength(model.get("width"), "100%");
    frame.style.height = cssLength(model.get("height"), "640px");
  };

  const drawCard = (v: View) => {
    const here = bridge.active;
    const card = h("div", "upscope-card");
    card.append(
      h(
        "div",
        "upscope-card-title",
        here
          ? "This session is live in another output of this widget."
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
      if (s.owner && s.owner !== v) drawCard(s.owner);
      mountFrame(v);
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
    const status = typeof snap[P.KEY_STATUS] === "string" ? String(snap[P.KEY_STATUS]) : "";
    const shown = status || (bridge.frame ? (bridge.isLoaded ? "loaded" : "loading") : "no view");
    const dot = h("span", `upscope-dot upscope-dot-${status || "none"}`);
    const parts: HTMLElement[] = [dot, h("span", "upscope-status", shown)];
    const url = snap[P.KEY_CURRENT_URL];
    if (typeof url === "string" && url) parts.push(h("span", "upscope-url", url));
    const who = visitorLabel(snap[P.KEY_VISITOR]);
    if (who) parts.push(h("span", "upscope-visitor", who));
    if (v !== s.owner) parts.push(h("span", "upscope-mirror", "mirror"));
    v.bar.replaceChildren(...parts);
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

  bridge.onReset = () => {
    if (s.owner) mountFrame(s.owner);
  };
  bridge.onOwnership = (active) => {
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
  const unsubscribe = bridge.subscribe(draw);
  model.on("change:_notices", drawNotices);
  model.on("change:width", resize);
  model.on("change:height", resize);

  return () => {
    unsubscribe();
    model.off("change:_notices", drawNotices);
    model.off("change:width", resize);
    model.off("change:height", resize);
    s.views = s.views.filter((v) => v !== view);
    if (s.owner === view) {
      s.owner = null;
      bridge.detachFrame();
      const heir = s.views[0];
      if (heir) mountFrame(heir);
    }
    if (!s.views.length) {
      stages.delete(bridge.id);
      bridge.onReset = null;
      bridge.onOwnership = null;
    }
  };
}
