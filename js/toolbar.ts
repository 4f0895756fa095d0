// The agent toolbar: draws from the bridge's snapshot and posts through the bridge's one gate
// (Bridge.postFromToolbar), never its own postMessage. It is built once and updated in place,
// so that focus, typing and the layout survive every state change.
import { Bridge } from "./bridge";
import { h, str } from "./dom";
import * as P from "./protocol";
import { checkPageUrl } from "./urls";

type Json = Record<string, unknown>;

/** How long the armed "end session" button waits for its confirming click (ms). */
const CONFIRM_WINDOW = 5000;
/** Latency thresholds (ms): below the first is good, below the second fair, else poor. */
const LATENCY_GOOD = 200;
const LATENCY_FAIR = 500;
/** The confetti choice: [emoji, its name] (fonts without emoji still show the name). */
const EMOJIS: Array<[string, string]> = [
  ["🎉", "party"],
  ["👍", "thumbs up"],
  ["❤️", "heart"],
  ["🚀", "rocket"],
  ["⭐", "star"],
];
const TOOLS: Array<[string, string | null, string]> = [
  // [data-mode, setMode value, visible label]
  ["none", null, "None"],
  [P.TOOL_CURSOR, P.TOOL_CURSOR, "Cursor"],
  [P.TOOL_POINTER, P.TOOL_POINTER, "Pointer"],
  [P.TOOL_DRAW, P.TOOL_DRAW, "Draw"],
];
/** What controlTool reports for each setMode value. */
const SHOWN_AS: Record<string, string | null> = { none: null, ...P.CONTROL_TOOL_FOR_MODE };

/** The visitor's name, else email, else short id. */
export function visitorLabel(visitor: unknown): string {
  if (typeof visitor !== "object" || visitor === null) return "";
  const v = visitor as Json;
  for (const key of ["callName", "email", "shortId"]) {
    if (typeof v[key] === "string" && v[key]) return String(v[key]);
  }
  return "";
}

export function latencyClass(ms: number): string {
  if (ms < LATENCY_GOOD) return "good";
  if (ms < LATENCY_FAIR) return "fair";
  return "poor";
}

interface UiText {
  errors?: Record<string, string>;
  loadFailure?: string[];
  unknownError?: string;
}

function uiText(bridge: Bridge): UiText {
  const t = bridge.setting("_ui_text");
  return typeof t === "object" && t !== null ? (t as UiText) : {};
}

/** The human sentence for an error code, from Python's ERROR_DESCRIPTIONS. */
export function errorSentence(bridge: Bridge, code: string): string {
  const text = uiText(bridge);
  return text.errors?.[code] ?? text.unknownError ?? "";
}

/** Whether the toolbar is turned on for this session (`session.toolbar`). */
export function toolbarOn(bridge: Bridge): boolean {
  return bridge.setting("toolbar") !== false;
}

export interface Part {
  el: HTMLElement;
  /** Redraw on the next frame (after the view placed the iframe, say). */
  update(): void;
  dispose(): void;
}

function button(label: string, action: string | null, aria?: string): HTMLButtonElement {
  const b = h("button", "upscope-tb-button", label);
  b.type = "button";
  if (action) b.dataset.action = action;
  if (aria) b.setAttribute("aria-label", aria);
  return b;
}

function group(label: string, ...children: HTMLElement[]): HTMLElement {
  const g = h("div", "upscope-tb-group");
  g.setAttribute("role", "group");
  g.setAttribute("aria-label", label);
  g.append(...children);
  return g;
}

/** The toolbar for `bridge`'s session. */
export function createToolbar(bridge: Bridge): Part {
  const el = h("div", "upscope-toolbar");
  el.setAttribute("role", "region");
  el.setAttribute("aria-label", "Upscope session toolbar");

  const post = (message: Json) => {
    if (!enabled()) return;
    bridge.postFromToolbar(message);
  };
  const snap = () => bridge.snapshot ?? {};
  // Once ended, it stays ended (Python ignores snapshots that come after the end), until a
  // new link brings a new session (and with it a new toolbar).
  let over = false;
  const ended = () =>
    (over ||= bridge.endedReason !== null || snap()[P.KEY_SESSION_STATUS] === P.STATUS_TERMINATED);
  const readOnly = () => bridge.setting("_read_only") === true;
  const enabled = () =>
    bridge.active && bridge.isLoaded && bridge.frame !== null && !ended() && !readOnly();

  // --- status ---------------------------------------------------------------------------
  const dot = h("span", "upscope-dot");
  const status = h("span", "upscope-tb-state");
  const conn = h("span", "upscope-tb-conn");
  const latency = h("span", "upscope-tb-latency");
  const visitor = h("span", "upscope-tb-visitor");
  const observers = h("span", "upscope-tb-observers");
  const statusRow = h("div", "upscope-tb-row upscope-tb-status");
  statusRow.append(dot, status, conn, latency, visitor, observers);

  // --- tools ----------------------------------------------------------------------------
  const toolButtons = TOOLS.map(([key, mode, label]) => {
    const b = button(label, P.ACTION_SET_MODE);
    b.dataset.mode = key;
    b.setAttribute("aria-pressed", "false");
    b.addEventListener("click", () => post({ action: P.ACTION_SET_MODE, [P.PARAM_MODE]: mode }));
    return b;
  });
  const swatch = h("span", "upscope-tb-swatch");
  swatch.setAttribute("aria-hidden", "true");
  const cycle = button("Color", P.ACTION_SWITCH_COLOR, "Next color");
  cycle.dataset.color = "next";
  cycle.prepend(swatch);
  cycle.addEventListener("click", () => post({ action: P.ACTION_SWITCH_COLOR }));
  const picker = h("input", "upscope-tb-picker");
  picker.type = "color";
  picker.dataset.action = P.ACTION_SWITCH_COLOR;
  picker.setAttribute("aria-label", "Pick a color");
  picker.addEventListener("change", () =>
    post({ action: P.ACTION_SWITCH_COLOR, [P.PARAM_COLOR]: picker.value }),
  );

  // --- call -----------------------------------------------------------------------------
  const audio = button("Audio off", P.ACTION_TOGGLE_AUDIO, "Audio call");
  audio.setAttribute("aria-pressed", "false");
  audio.addEventListener("click", () => {
    const state = str(snap()[P.KEY_AUDIO_STATE]) || P.AUDIO_OFF;
    post({ action: P.ACTION_TOGGLE_AUDIO, [P.PARAM_ON]: state === P.AUDIO_OFF });
  });
  const mute = button("Mute", P.ACTION_SET_MUTED);
  mute.setAttribute("aria-pressed", "false");
  mute.addEventListener("click", () =>
    post({ action: P.ACTION_SET_MUTED, [P.PARAM_MUTED]: snap()[P.KEY_MUTED] !== true }),
  );
  const video = button("Video", P.ACTION_TOGGLE_VIDEO);
  video.setAttribute("aria-pressed", "false");
  video.addEventListener("click", () => post({ action: P.ACTION_TOGGLE_VIDEO }));

  // --- page -----------------------------------------------------------------------------
  const back = button("←", P.ACTION_HISTORY_BACK, "Back");
  back.addEventListener("click", () => post({ action: P.ACTION_HISTORY_BACK }));
  const forward = button("→", P.ACTION_HISTORY_FORWARD, "Forward");
  forward.addEventListener("click", () => post({ action: P.ACTION_HISTORY_FORWARD }));
  const reload = button("⟳", P.ACTION_RELOAD_PAGE, "Reload the page");
  reload.addEventListener("click", () => post({ action: P.ACTION_RELOAD_PAGE }));
  const refresh = button("Refresh", P.ACTION_FORCE_REFRESH, "Force refresh the session");
  refresh.addEventListener("click", () => post({ action: P.ACTION_FORCE_REFRESH }));
  const address = h("input", "upscope-tb-address");
  address.type = "text";
  address.inputMode = "url";
  address.spellcheck = false;
  address.autocomplete = "off";
  address.dataset.action = P.ACTION_SET_CURRENT_URL;
  address.setAttribute("aria-label", "Page address");
  address.placeholder = "https://";
  const hint = h("div", "upscope-tb-hint");
  hint.id = `upscope-hint-${bridge.id}-${Math.random().toString(36).slice(2, 8)}`;
  hint.setAttribute("role", "alert");
  hint.hidden = true;
  address.setAttribute("aria-describedby", hint.id);
  let editing = false; // the user is typing: the state must not overwrite their text
  const refuse = (reason: string) => {
    hint.textContent = reason;
    hint.hidden = false;
    address.setAttribute("aria-invalid", "true");
  };
  const clearHint = () => {
    hint.hidden = true;
    hint.textContent = "";
    address.removeAttribute("aria-invalid");
  };
  address.addEventListener("input", () => {
    editing = true;
    clearHint();
  });
  address.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      const check = checkPageUrl(address.value);
      if (!check.ok) {
        refuse(check.reason);
        return;
      }
      editing = false;
      clearHint();
      post({ action: P.ACTION_SET_CURRENT_URL, [P.PARAM_URL]: check.url });
    } else if (e.key === "Escape") {
      editing = false;
      clearHint();
      address.value = str(snap()[P.KEY_CURRENT_URL]);
    }
  });
  address.addEventListener("blur", () => {
    if (!editing) clearHint();
  });
  const addressBox = h("div", "upscope-tb-addressbox");
  addressBox.append(address, hint);
  const tabs = h("div", "upscope-tb-tabs");
  tabs.setAttribute("role", "group");
  tabs.setAttribute("aria-label", "Visitor tabs");
  let tabIds = "";

  // --- session --------------------------------------------------------------------------
  const control = button("Request control", P.ACTION_REQUEST_CONTROL);
  control.addEventListener("click", () => post({ action: P.ACTION_REQUEST_CONTROL }));
  const fullTab = button("Full tab", P.ACTION_REQUEST_FULL_TAB);
  fullTab.setAttribute("aria-pressed", "false");
  fullTab.addEventListener("click", () => post({ action: fullTab.dataset.action! }));
  const emoji = h("select", "upscope-tb-emoji");
  emoji.setAttribute("aria-label", "Confetti emoji");
  for (const [e, name] of EMOJIS) {
    const option = h("option", "", `${e} ${name}`);
    option.value = e;
    emoji.append(option);
  }
  const confetti = button("Confetti", P.ACTION_EMOJI_CONFETTI, "Confetti");
  confetti.dataset.emoji = EMOJIS[0][0];
  emoji.addEventListener("change", () => {
    confetti.dataset.emoji = emoji.value;
  });
  confetti.addEventListener("click", () =>
    post({ action: P.ACTION_EMOJI_CONFETTI, [P.PARAM_EMOJI]: emoji.value }),
  );
  const end = button("End session", P.ACTION_END_SESSION);
  end.classList.add("upscope-tb-end");
  let armed: ReturnType<typeof setTimeout> | null = null;
  const disarm = () => {
    if (armed !== null) clearTimeout(armed);
    armed = null;
    end.classList.remove("upscope-tb-armed");
    end.textContent = "End session";
    end.removeAttribute("aria-description");
  };
  end.addEventListener("click", () => {
    if (!enabled()) return;
    if (armed === null) {
      end.classList.add("upscope-tb-armed");
      end.textContent = "Confirm end";
      end.setAttribute("aria-description", "Click again to end the session; Esc cancels.");
      armed = setTimeout(disarm, CONFIRM_WINDOW);
      return;
    }
    disarm();
    post({ action: P.ACTION_END_SESSION });
  });
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape" && armed !== null) disarm();
  };
  el.addEventListener("keydown", onKey);

  // --- errors and the end ---------------------------------------------------------------
  const banner = h("div", "upscope-tb-banner");
  banner.setAttribute("role", "alert");
  banner.hidden = true;
  const bannerText = h("span", "upscope-tb-banner-text");
  const bannerCode = h("code", "upscope-tb-banner-code");
  const dismiss = button("×", null, "Dismiss the error");
  dismiss.classList.add("upscope-tb-dismiss");
  let dismissed: string | null = null;
  let shownError: string | null = null;
  dismiss.addEventListener("click", () => {
    dismissed = shownError;
    banner.hidden = true;
  });
  banner.append(bannerText, bannerCode, dismiss);
  const endedNote = h("div", "upscope-tb-ended");
  endedNote.setAttribute("role", "status");
  endedNote.hidden = true;
  const overlays = h("div", "upscope-tb-overlays");
  overlays.append(banner, endedNote);

  const controls = h("div", "upscope-tb-row");
  controls.append(
    group("Tools", ...toolButtons, cycle, picker),
    group("Call", audio, mute, video),
    group("Session", control, fullTab, emoji, confetti, end),
  );
  const pageRow = h("div", "upscope-tb-row");
  pageRow.append(group("Page", back, forward, reload, refresh), addressBox);
  el.append(statusRow, controls, pageRow, tabs, overlays);

  const senders: Array<HTMLButtonElement | HTMLInputElement | HTMLSelectElement> = [
    ...toolButtons, cycle, picker, audio, mute, video, back, forward, reload, refresh, address,
    control, fullTab, emoji, confetti, end,
  ];

  const pressed = (b: HTMLElement, on: boolean) => b.setAttribute("aria-pressed", String(on));

  const drawTabs = (s: Json, on: boolean) => {
    const list = Array.isArray(s[P.KEY_CONNECTIONS]) ? (s[P.KEY_CONNECTIONS] as unknown[]) : [];
    const conns = list.filter(
      (c): c is Json => typeof c === "object" && c !== null && typeof (c as Json).id === "string",
    );
    const ids = conns.map((c) => String(c.id)).join("\n");
    if (ids !== tabIds) {
      // rebuilt only when the tabs themselves change, keeping focus on the same tab
      const focused = (document.activeElement as HTMLElement | null)?.dataset?.connectionId;
      tabIds = ids;
      tabs.replaceChildren(
        ...conns.map((c, i) => {
          const id = String(c.id);
          const where = str(c.url) || str(c.currentUrl) || str(c.title);
          const b = button(`Tab ${i + 1}`, P.ACTION_SET_ACTIVE_CONNECTION);
          b.dataset.connectionId = id;
          b.title = where ? `${where} (${id})` : id;
          b.setAttribute("aria-label", where ? `Tab ${i + 1}: ${where}` : `Tab ${i + 1}`);
          b.addEventListener("click", () =>
            post({ action: P.ACTION_SET_ACTIVE_CONNECTION, [P.PARAM_CONNECTION_ID]: id }),
          );
          return b;
        }),
      );
      if (focused) {
        tabs.querySelector<HTMLElement>(`[data-connection-id="${CSS.escape(focused)}"]`)?.focus();
      }
    }
    const active = str(s[P.KEY_ACTIVE_CONNECTION_ID]);
    for (const b of tabs.querySelectorAll<HTMLButtonElement>("button")) {
      pressed(b, b.dataset.connectionId === active);
      b.disabled = !on;
    }
  };

  let frame = 0;
  const draw = () => {
    frame = 0;
    el.hidden = !toolbarOn(bridge);
    const s = snap();
    const on = enabled();
    const statusText = str(s[P.KEY_SESSION_STATUS]);
    dot.className = `upscope-dot upscope-dot-${statusText || "none"}`;
    status.textContent =
      statusText || (bridge.frame ? (bridge.isLoaded ? "loaded" : "connecting") : "no view");
    const connected = s[P.KEY_CONNECTED];
    conn.textContent = connected === true ? "connected" : connected === false ? "offline" : "—";
    conn.className = `upscope-tb-conn upscope-tb-conn-${connected === true ? "yes" : "no"}`;
    const ms = s[P.KEY_DATA_BOUNCE_SPEED];
    if (typeof ms === "number" && Number.isFinite(ms)) {
      const level = latencyClass(ms);
      latency.textContent = `${Math.round(ms)} ms`;
      latency.className = `upscope-tb-latency upscope-latency-${level}`;
      latency.title = `Latency ${Math.round(ms)} ms (${level})`;
    } else {
      latency.textContent = "— ms";
      latency.className = "upscope-tb-latency";
      latency.title = "Latency unknown";
    }
    const who = visitorLabel(s[P.KEY_VISITOR]);
    visitor.textContent = who || "no visitor yet";
    visitor.title = who;
    const count = s[P.KEY_OBSERVERS_COUNT];
    observers.textContent = typeof count === "number" ? `${count} observing` : "";

    const tool = s[P.KEY_CONTROL_TOOL] ?? null;
    for (const b of toolButtons) pressed(b, SHOWN_AS[b.dataset.mode!] === tool);
    const color = str(s[P.KEY_COLOR]);
    swatch.style.background = color || "transparent";
    if (color && /^#[0-9a-f]{6}$/i.test(color) && document.activeElement !== picker) {
      picker.value = color.toLowerCase();
    }

    const audioState = str(s[P.KEY_AUDIO_STATE]) || P.AUDIO_OFF;
    pressed(audio, audioState !== P.AUDIO_OFF);
    audio.textContent =
      audioState === P.AUDIO_OFF
        ? "Audio off"
        : audioState === P.AUDIO_RINGING
          ? "Ringing…"
          : audioState === P.AUDIO_ACTIVE
            ? "Audio on"
            : `Audio ${audioState}`;
    audio.dataset.state = audioState;
    pressed(mute, s[P.KEY_MUTED] === true);
    mute.textContent = s[P.KEY_MUTED] === true ? "Muted" : "Mute";
    pressed(video, s[P.KEY_IS_VIDEO_ON] === true);

    const full = s[P.KEY_MODE] === P.MODE_VISITOR_SCREEN;
    pressed(fullTab, full);
    fullTab.dataset.action = full ? P.ACTION_STOP_FULL_TAB : P.ACTION_REQUEST_FULL_TAB;

    if (!editing && document.activeElement !== address) {
      address.value = str(s[P.KEY_CURRENT_URL]);
    }

    for (const c of senders) c.disabled = !on;
    drawTabs(s, on);
    if (!on) disarm();

    const error = bridge.lastError;
    if (error !== shownError) {
      shownError = error;
      if (error !== dismissed) dismissed = null;
    }
    if (error && error !== dismissed) {
      bannerText.textContent = errorSentence(bridge, error);
      bannerCode.textContent = error;
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
    if (ended()) {
      const reason = bridge.endedReason ?? str(s[P.KEY_SESSION_STATUS]);
      endedNote.textContent = `The session has ended (reason: ${reason}). Every control is off.`;
      endedNote.hidden = false;
    } else {
      endedNote.hidden = true;
    }
    el.classList.toggle("upscope-tb-readonly", readOnly());
    el.classList.toggle("upscope-tb-ended-state", ended());
  };
  const schedule = () => {
    if (frame) return;
    frame = requestAnimationFrame(draw);
  };
  draw();
  const unsubscribe = bridge.subscribe(schedule);
  const unwatch = ["_read_only", "toolbar", "_ui_text"].map((n) => bridge.watchSetting(n, schedule));
  const fresh = () => {
    over = false; // a new link: a new session
    schedule();
  };
  unwatch.push(bridge.watchSetting("url", fresh), bridge.watchSetting("_simulator_page", fresh));
  return {
    el,
    update: schedule,
    dispose() {
      unsubscribe();
      for (const u of unwatch) u();
      if (frame) cancelAnimationFrame(frame);
      disarm();
      el.removeEventListener("keydown", onKey);
    },
  };
}

/** Covers the iframe from its creation until the first state: "connecting", then, after
 * `load_timeout`, what usually causes the wait and what to do (Python's sentences). */
export function createLoadState(bridge: Bridge): Part {
  const el = h("div", "upscope-loading");
  el.setAttribute("role", "status");
  el.setAttribute("aria-live", "polite");
  const title = h("div", "upscope-loading-title");
  const list = h("ul", "upscope-loading-help");
  el.append(title, list);
  let frame = 0;
  const draw = () => {
    frame = 0;
    const waiting = bridge.frame !== null && bridge.snapshot === null;
    el.hidden = !waiting;
    el.classList.toggle("upscope-loading-failed", waiting && bridge.loadFailed);
    if (!waiting) return;
    if (bridge.loadFailed) {
      const seconds = String(Number(bridge.setting("load_timeout")) || 20);
      const [first, ...rest] = (uiText(bridge).loadFailure ?? []).map((t) =>
        t.replace("{seconds}", seconds),
      );
      title.textContent = first ?? "";
      list.replaceChildren(...rest.map((t) => h("li", "", t)));
    } else {
      title.textContent = "Connecting to the session…";
      list.replaceChildren();
    }
  };
  const schedule = () => {
    if (frame) return;
    frame = requestAnimationFrame(draw);
  };
  draw();
  const unsubscribe = bridge.subscribe(schedule);
  const unwatch = bridge.watchSetting("_ui_text", schedule);
  return {
    el,
    update: schedule,
    dispose() {
      unsubscribe();
      unwatch();
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
