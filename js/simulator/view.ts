// Drawing the agent view from the state (textContent only), and the short-lived effects:
// banner, toast, flash, confetti, console lines.

import { post } from "./host";
import { rng } from "./options";
import { pageView, route, cart } from "./shop";
import { activeConn, connUrl, S, sim, snapshot, visitorName } from "./state";
import { $, h, LOG, text } from "./util";
import {
  AUDIO_OFF,
  CONTROL_CURSOR,
  CONTROL_DRAWING,
  CONTROL_POINTER,
  MODE_VISITOR_SCREEN,
  REASON_ERROR,
  STATE_UPDATE,
  STATUS_PENDING_REQUEST,
  STATUS_TERMINATED,
  STATUS_WAITING,
  VIDEO_OFF,
} from "./wire";

/** Where the agent's mouse is over the stage. */
export const pointer = { inside: false, x: 0, y: 0 };
export const stage = $("stagewrap");

/** Post the state snapshot and redraw. */
export function emit(): void {
  post({ type: STATE_UPDATE, state: snapshot() });
  render();
}

export function renderPointer(): void {
  const cur = $("agent-cursor");
  const spot = $("spot");
  const show = pointer.inside && !sim.ended;
  cur.style.display = show && (S.controlTool === CONTROL_CURSOR || S.controlTool === CONTROL_DRAWING) ? "block" : "none";
  spot.style.display = show && S.controlTool === CONTROL_POINTER ? "block" : "none";
  cur.style.left = pointer.x - 3 + "px";
  cur.style.top = pointer.y - 2 + "px";
  spot.style.left = pointer.x + "px";
  spot.style.top = pointer.y + "px";
  stage.style.cursor = S.controlTool ? "none" : "";
}

function renderPage(): void {
  const c = activeConn();
  const url = c ? connUrl(c) : null;
  $("addr-url").textContent = url || "";
  $("nav-back").className = "nav" + (c && c.idx > 0 ? " can" : "");
  $("nav-fwd").className = "nav" + (c && c.idx < c.hist.length - 1 ? " can" : "");
  const key = sim.reloading ? "reloading" : c ? [c.id, c.idx, url, cart.version].join("\n") : "none";
  if (key === sim.pageKey) return;
  sim.pageKey = key;
  const page = $("page");
  if (sim.reloading) page.replaceChildren(h("div", { class: "loading" }, "Loading\u2026"));
  else page.replaceChildren(url ? pageView(url) : h("div", { class: "loading" }, "No open tab"));
  page.scrollTop = 0;
}

const TOOL_NAMES = new Map([
  [CONTROL_CURSOR, "cursor"],
  [CONTROL_POINTER, "pointer"],
  [CONTROL_DRAWING, "drawing"],
]);

function renderBar(): void {
  $("tabs").replaceChildren(
    ...sim.conns.map((c) => {
      const on = c.id === sim.activeId;
      return h("span", { class: on ? "tab on" : "tab", "data-connection": c.id, title: connUrl(c) },
        route(connUrl(c)).title, h("small", null, c.id));
    }),
  );
  $("tool-name").textContent = S.controlTool ? TOOL_NAMES.get(S.controlTool) ?? "" : "no tool";
  $("control-chip").hidden = !sim.controlGranted;
  const audio = $("audio-chip");
  audio.hidden = S.audioState === AUDIO_OFF;
  audio.textContent = "call " + S.audioState + (S.muted ? " (muted)" : "");
  $("bounce-chip").textContent = S.dataBounceSpeed ? S.dataBounceSpeed + " ms" : "\u2013 ms";
  $("status-chip").textContent = S.sessionStatus + (S.connected ? "" : " \u00B7 offline");
  const v = S.visitor;
  const where = v ? [text(v.locationCity), text(v.locationCountry)].filter(Boolean).join(", ") : "";
  const vis = $("visitor-chip");
  vis.hidden = !v;
  vis.textContent = v ? [visitorName(), text(v.browserName), where].filter(Boolean).join(" \u00B7 ") : "";
  const a = activeConn();
  $("taskbar-app").textContent = a ? route(connUrl(a)).title : "";
}

function renderCover(): void {
  let title = "";
  let msg = "";
  let spin = true;
  if (S.sessionStatus === STATUS_TERMINATED) {
    title = "Session ended";
    msg = sim.endReason === REASON_ERROR ? "The session ended because of an error." : "The co-browsing session is over.";
    spin = false;
  } else if (S.sessionStatus === STATUS_WAITING) {
    title = "Connecting\u2026";
    msg = "Waiting for the visitor's browser to respond.";
  } else if (S.sessionStatus === STATUS_PENDING_REQUEST) {
    title = "Waiting for " + visitorName();
    msg = visitorName() + " has been asked to accept the session.";
  } else if (!sim.started) {
    title = "Loading the visitor's page\u2026";
  } else if (!S.connected) {
    title = "Visitor offline";
    msg = visitorName() + " is not connected. The view resumes when they come back.";
  }
  $("cover").hidden = !title;
  $("cover-title").textContent = title;
  $("cover-text").textContent = msg;
  $("cover-spin").hidden = !spin;
}

function renderVideo(): void {
  const on = S.videoAgentState !== VIDEO_OFF;
  $("video").className = on ? (S.isVideoOn ? "on live" : "on") : "";
  $("video-label").textContent = S.isVideoOn ? "Your camera" : "Allowing camera\u2026";
}

export function render(): void {
  try {
    const root = $("sim");
    root.classList.toggle("mode-screen", S.mode === MODE_VISITOR_SCREEN);
    root.style.setProperty("--agent", S.color);
    $("overlay").dataset.tool = S.controlTool || "none";
    renderBar();
    renderPage();
    renderCover();
    renderVideo();
    renderPointer();
  } catch (err) {
    console.error(LOG, "render", err);
  }
}

let bannerTimer: ReturnType<typeof setTimeout> | undefined;
export function banner(msg: string, kind?: "ok" | "err"): void {
  const b = $("banner");
  b.textContent = msg;
  b.className = "show" + (kind ? " " + kind : "");
  clearTimeout(bannerTimer);
  bannerTimer = setTimeout(() => {
    b.className = kind || "";
  }, 2600);
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
export function toast(title: string, body: string): void {
  $("toast-title").textContent = title;
  $("toast-body").textContent = body;
  $("toast").className = "show";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    $("toast").className = "";
  }, 3000);
}

export function flash(): void {
  const f = $("flash");
  f.classList.remove("on");
  void f.offsetWidth; // restart the animation
  f.classList.add("on");
  f.dataset.count = String(Number(f.dataset.count || 0) + 1);
}

export function confetti(emoji: string): void {
  const box = $("confetti");
  const batch: HTMLElement[] = [];
  for (let i = 0; i < 28; i++) {
    const s = document.createElement("span");
    s.className = "piece";
    s.textContent = emoji;
    s.style.left = (rng() * 100).toFixed(1) + "%";
    s.style.fontSize = (18 + rng() * 18).toFixed(0) + "px";
    s.style.animationDelay = (rng() * 0.5).toFixed(2) + "s";
    s.style.animationDuration = (1.2 + rng() * 0.9).toFixed(2) + "s";
    s.style.setProperty("--drift", ((rng() - 0.5) * 160).toFixed(0) + "px");
    s.style.setProperty("--spin", ((rng() - 0.5) * 720).toFixed(0) + "deg");
    box.appendChild(s);
    batch.push(s);
  }
  setTimeout(() => {
    for (const s of batch) s.remove();
  }, 2800);
}

export function consoleLine(kind: "in" | "out", line: string): void {
  const pane = $("console-pane");
  const div = document.createElement("div");
  div.className = kind;
  div.textContent = line;
  pane.appendChild(div);
  while (pane.childNodes.length > 100 && pane.firstChild) pane.removeChild(pane.firstChild);
  pane.hidden = false;
  pane.scrollTop = pane.scrollHeight;
}
