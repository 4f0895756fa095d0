// The agent's mouse over the visitor's page: cursor, spotlight, drawings, remote control.

import { postError } from "./host";
import { SHOP } from "./options";
import { addToCart, emptyCart } from "./shop";
import { activeConn, measure, pushUrl, S, sim } from "./state";
import { $, safe } from "./util";
import { emit, pointer, renderPointer, stage } from "./view";
import {
  CONTROL_CURSOR,
  CONTROL_DRAWING,
  ERROR_CLICK_NOT_ALLOWED,
  ERROR_REMOTE_CONTROL_INACTIVE,
  ERROR_TYPE_NOT_ALLOWED,
} from "./wire";

interface Stroke {
  color: string;
  pts: [number, number][];
  /** When the stroke was finished (ms); it fades out over 2.5 s after that. */
  done: number;
}

let strokes: Stroke[] = [];
let drawingNow: Stroke | null = null;
let drawLoop = false;
const lastErrorAt = new Map<string, number>();

function canvas(): HTMLCanvasElement {
  const c = $("draw");
  if (!(c instanceof HTMLCanvasElement)) throw new Error("#draw is not a canvas");
  return c;
}

function canControl(): boolean {
  return sim.controlGranted && S.controlTool === CONTROL_CURSOR && S.connected && !sim.ended;
}

/** The visitor's page refuses a burst of the same thing once, not once per event. */
function throttledError(code: string): void {
  const now = Date.now();
  if (now - (lastErrorAt.get(code) || 0) < 800) return;
  lastErrorAt.set(code, now);
  postError(code);
}

export function sizeCanvas(): void {
  const c = canvas();
  const r = window.devicePixelRatio || 1;
  c.width = Math.round(stage.clientWidth * r);
  c.height = Math.round(stage.clientHeight * r);
  c.style.width = stage.clientWidth + "px";
  c.style.height = stage.clientHeight + "px";
}

function paint(): void {
  const c = canvas();
  const ctx = c.getContext("2d");
  const r = window.devicePixelRatio || 1;
  const now = Date.now();
  if (!ctx) return;
  ctx.setTransform(r, 0, 0, r, 0, 0);
  ctx.clearRect(0, 0, c.width, c.height);
  strokes = strokes.filter((s) => s === drawingNow || now - s.done < 2500);
  for (const s of strokes) {
    ctx.globalAlpha = s === drawingNow ? 1 : Math.max(0, 1 - (now - s.done) / 2500);
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 4;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    s.pts.forEach((p, i) => {
      if (i) ctx.lineTo(p[0], p[1]);
      else ctx.moveTo(p[0], p[1]);
    });
    ctx.stroke();
  }
  drawLoop = strokes.length > 0;
  if (drawLoop) requestAnimationFrame(safe(paint));
}

function kick(): void {
  if (!drawLoop) {
    drawLoop = true;
    requestAnimationFrame(safe(paint));
  }
}

function track(e: MouseEvent): void {
  const r = stage.getBoundingClientRect();
  pointer.x = e.clientX - r.left;
  pointer.y = e.clientY - r.top;
  pointer.inside = true;
}

function agentNavigate(path: string): void {
  const c = activeConn();
  if (!c) return;
  pushUrl(c, new URL(path, SHOP).href);
  emit();
}

let resizeTimer: ReturnType<typeof setTimeout> | undefined;

/** Listen to the agent's mouse and keyboard over the stage, and to the viewer's size. */
export function installMouse(): void {
  stage.addEventListener("mousemove", safe((e: MouseEvent) => {
    track(e);
    if (drawingNow) {
      drawingNow.pts.push([pointer.x, pointer.y]);
      kick();
    }
    renderPointer();
  }));
  stage.addEventListener("mouseleave", safe(() => {
    pointer.inside = false;
    renderPointer();
  }));
  stage.addEventListener("mousedown", safe((e: MouseEvent) => {
    track(e);
    if (S.controlTool === CONTROL_DRAWING && !sim.ended) {
      e.preventDefault();
      drawingNow = { color: S.color, pts: [[pointer.x, pointer.y]], done: 0 };
      strokes.push(drawingNow);
      kick();
    } else if (!canControl()) {
      e.preventDefault(); // no focusing the visitor's fields without remote control
    }
  }), true);
  window.addEventListener("mouseup", safe(() => {
    if (drawingNow) {
      drawingNow.done = Date.now();
      drawingNow = null;
      kick();
    }
  }));
  stage.addEventListener("click", safe((e: MouseEvent) => {
    e.preventDefault();
    const target = e.target instanceof Node ? e.target : null;
    if (S.controlTool !== CONTROL_CURSOR || !S.connected || sim.ended || !$("page").contains(target)) return;
    if (!sim.controlGranted) {
      throttledError(ERROR_REMOTE_CONTROL_INACTIVE);
      return;
    }
    const t = target instanceof Element ? target.closest("[data-href],[data-act],[data-deny]") : null;
    if (!t) return;
    if (t.getAttribute("data-deny") === "click") {
      throttledError(ERROR_CLICK_NOT_ALLOWED);
      return;
    }
    const act = t.getAttribute("data-act");
    const href = t.getAttribute("data-href");
    if (act === "add") {
      addToCart(t.getAttribute("data-slug") ?? "");
      agentNavigate("/cart");
    } else if (act === "order") {
      emptyCart();
      agentNavigate("/checkout/done");
    } else if (href) {
      agentNavigate(href);
    }
  }), true);
  stage.addEventListener("beforeinput", safe((e: InputEvent) => {
    if (!canControl()) {
      e.preventDefault();
      if (S.controlTool === CONTROL_CURSOR && !sim.controlGranted) throttledError(ERROR_REMOTE_CONTROL_INACTIVE);
      return;
    }
    if (e.target instanceof Element && e.target.closest("[data-deny=type]")) {
      e.preventDefault();
      throttledError(ERROR_TYPE_NOT_ALLOWED);
    }
  }), true);
  stage.addEventListener("submit", (e) => e.preventDefault(), true);

  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(safe(() => {
      sizeCanvas();
      if (!S.size || sim.ended) return;
      const s = measure();
      if (s.width !== S.size.width || s.height !== S.size.height) {
        S.size = s;
        emit();
      }
    }), 60);
  });
}
