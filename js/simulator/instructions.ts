// The protocol's 20 instructions. A handler returns true to answer with a state snapshot.

import { post, postError } from "./host";
import { COLORS, D, OBSERVER_ID, OPT, REPLY_TEXT, UA } from "./options";
import { finish, later, toViewerReady } from "./session";
import { checkUrl, route } from "./shop";
import { activeConn, connUrl, findConn, pushUrl, S, sim, visitorName } from "./state";
import { type ActionMessage, hasOwn, isObj, showJson, warn } from "./util";
import { banner, confetti, consoleLine, emit, flash, render, toast } from "./view";
import {
  ACTION_BEGIN_VIDEO,
  ACTION_EMOJI_CONFETTI,
  ACTION_END_SESSION,
  ACTION_END_VIDEO,
  ACTION_FORCE_REFRESH,
  ACTION_HISTORY_BACK,
  ACTION_HISTORY_FORWARD,
  ACTION_RELOAD_PAGE,
  ACTION_REQUEST_CONTROL,
  ACTION_REQUEST_FULL_TAB,
  ACTION_RUN_CONSOLE_COMMAND,
  ACTION_SEND_CUSTOM_MESSAGE,
  ACTION_SET_ACTIVE_CONNECTION,
  ACTION_SET_CURRENT_URL,
  ACTION_SET_MODE,
  ACTION_SET_MUTED,
  ACTION_STOP_FULL_TAB,
  ACTION_SWITCH_COLOR,
  ACTION_TOGGLE_AUDIO,
  ACTION_TOGGLE_VIDEO,
  AUDIO_ACTIVE,
  AUDIO_OFF,
  AUDIO_RINGING,
  CONTROL_TOOL_FOR_MODE,
  ERROR_ELEMENT_NOT_ALLOWED,
  ERROR_USER_NOT_FOUND,
  ERROR_USER_NOT_ONLINE,
  EVENT_CUSTOM_MESSAGE,
  type InstructionAction,
  MODE_VISITOR_BROWSER,
  MODE_VISITOR_SCREEN,
  REASON_ENDED,
  STATUS_SNAPSHOT_RECEIVED,
  VIDEO_ACTIVE,
  VIDEO_AUTHORIZING,
  VIDEO_OFF,
} from "./wire";

type Handler = (m: ActionMessage) => boolean;

const TOOL_FOR_MODE = new Map<string, string>(Object.entries(CONTROL_TOOL_FOR_MODE));

/** Instructions that need the visitor online; while offline they get user_not_online. */
export const VISITOR_BOUND: ReadonlySet<string> = new Set<InstructionAction>([
  ACTION_FORCE_REFRESH, ACTION_HISTORY_BACK, ACTION_HISTORY_FORWARD, ACTION_RELOAD_PAGE,
  ACTION_REQUEST_CONTROL, ACTION_REQUEST_FULL_TAB, ACTION_RUN_CONSOLE_COMMAND,
  ACTION_SEND_CUSTOM_MESSAGE, ACTION_SET_ACTIVE_CONNECTION, ACTION_SET_CURRENT_URL,
  ACTION_EMOJI_CONFETTI,
]);

function videoOn(): void {
  if (S.videoAgentState !== VIDEO_OFF) return;
  const g = ++sim.gens.video;
  S.videoAgentState = VIDEO_AUTHORIZING + OBSERVER_ID;
  later(D.camera, () => {
    if (g !== sim.gens.video) return;
    S.videoAgentState = VIDEO_ACTIVE + OBSERVER_ID;
    S.isVideoOn = true;
    emit();
  });
}

function videoOff(): void {
  sim.gens.video++;
  S.videoAgentState = VIDEO_OFF;
  S.isVideoOn = false;
}

/** What the visitor's console would answer: a few well-known expressions, else undefined. */
function fakeEval(cmd: string): string {
  const c = activeConn();
  const url = c ? connUrl(c) : "";
  const expr = cmd.trim().replace(/;\s*$/, "");
  const known: { [expr: string]: string } = {
    "document.title": JSON.stringify(route(url).title),
    "location.href": JSON.stringify(url),
    "window.location.href": JSON.stringify(url),
    "document.URL": JSON.stringify(url),
    "navigator.userAgent": JSON.stringify(UA),
  };
  return hasOwn(known, expr) ? known[expr] : "undefined";
}

function reloadActive(): void {
  sim.reloading = true;
  sim.pageKey = null;
  render();
  later(D.reload, () => {
    sim.reloading = false;
    sim.pageKey = null;
    render();
  });
}

// A Record, so that the type checker fails if an instruction of wire.ts has no handler.
const TABLE: Record<InstructionAction, Handler> = {
  [ACTION_END_SESSION]: () => {
    finish(REASON_ENDED);
    return false;
  },
  [ACTION_SET_MODE]: (m) => {
    if (m.mode === null) {
      S.controlTool = null;
      return true;
    }
    const tool = typeof m.mode === "string" ? TOOL_FOR_MODE.get(m.mode) : undefined;
    if (tool !== undefined) {
      S.controlTool = tool;
      return true;
    }
    return warn('setMode: mode must be "draw", "pointer", "cursor" or null; got', m.mode);
  },
  [ACTION_SWITCH_COLOR]: (m) => {
    if (m.color === undefined || m.color === null) {
      S.color = COLORS[(COLORS.indexOf(S.color) + 1) % COLORS.length];
      return true;
    }
    if (typeof m.color === "string" && m.color.length <= 100 && CSS.supports("color", m.color)) {
      S.color = m.color;
      return true;
    }
    return warn("switchColor: not a CSS color:", m.color);
  },
  [ACTION_TOGGLE_AUDIO]: (m) => {
    let on: boolean;
    if (typeof m.on === "boolean") on = m.on;
    else if (m.on === undefined) on = S.audioState === AUDIO_OFF;
    else return warn("toggleAudio: on must be a boolean; got", m.on);
    if (!on) {
      sim.gens.audio++;
      S.audioState = AUDIO_OFF;
      return true;
    }
    if (!S.connected) {
      postError(ERROR_USER_NOT_ONLINE);
      return false;
    }
    if (S.audioState === AUDIO_OFF) {
      const g = ++sim.gens.audio;
      S.audioState = AUDIO_RINGING;
      later(D.ring, () => {
        if (g !== sim.gens.audio) return;
        S.audioState = AUDIO_ACTIVE;
        emit();
      });
    }
    return true;
  },
  [ACTION_TOGGLE_VIDEO]: () => {
    if (S.videoAgentState === VIDEO_OFF) videoOn();
    else videoOff();
    return true;
  },
  [ACTION_SET_MUTED]: (m) => {
    if (typeof m.muted !== "boolean") return warn("setMuted: muted must be a boolean; got", m.muted);
    S.muted = m.muted;
    return true;
  },
  [ACTION_BEGIN_VIDEO]: () => {
    videoOn();
    return true;
  },
  [ACTION_END_VIDEO]: () => {
    videoOff();
    return true;
  },
  [ACTION_FORCE_REFRESH]: () => {
    flash();
    sim.pageKey = null;
    S.sessionStatus = STATUS_SNAPSHOT_RECEIVED;
    toViewerReady(false);
    return true;
  },
  [ACTION_HISTORY_BACK]: () => {
    const c = activeConn();
    if (c && c.idx > 0) c.idx--;
    return true;
  },
  [ACTION_HISTORY_FORWARD]: () => {
    const c = activeConn();
    if (c && c.idx < c.hist.length - 1) c.idx++;
    return true;
  },
  [ACTION_RELOAD_PAGE]: () => {
    reloadActive();
    return true;
  },
  [ACTION_REQUEST_CONTROL]: () => {
    if (sim.controlGranted) {
      banner("Remote control is already on", "ok");
      return true;
    }
    const g = ++sim.gens.control;
    banner(OPT.requireAuthorization
      ? "Asking " + visitorName() + " to allow remote control\u2026"
      : "Requesting remote control\u2026");
    later(OPT.requireAuthorization ? D.grantAuth : D.grant, () => {
      if (g !== sim.gens.control) return;
      sim.controlGranted = true;
      banner(visitorName() + " granted remote control", "ok");
      render();
    });
    return true;
  },
  [ACTION_REQUEST_FULL_TAB]: () => {
    if (S.mode === MODE_VISITOR_SCREEN) return true;
    const g = ++sim.gens.screen;
    banner("Asking " + visitorName() + " to share their full screen\u2026");
    later(D.screen, () => {
      if (g !== sim.gens.screen) return;
      S.mode = MODE_VISITOR_SCREEN;
      banner("Viewing " + visitorName() + "'s full screen", "ok");
      emit();
    });
    return true;
  },
  [ACTION_RUN_CONSOLE_COMMAND]: (m) => {
    if (typeof m.command !== "string" || !m.command.trim()) {
      return warn("runConsoleCommand: command must be a non-empty string");
    }
    if (!OPT.allowConsole) {
      postError(ERROR_ELEMENT_NOT_ALLOWED);
      return false;
    }
    const cmd = m.command.length > 2000 ? m.command.slice(0, 2000) + "\u2026" : m.command;
    consoleLine("in", cmd);
    consoleLine("out", fakeEval(m.command));
    return true;
  },
  [ACTION_SEND_CUSTOM_MESSAGE]: (m) => {
    if (!isObj(m.message)) return warn("sendCustomMessage: message must be an object; got", m.message);
    const received = m.message;
    toast("Message to " + visitorName(), showJson(received));
    later(D.reply, () => {
      if (S.connected) post({ type: EVENT_CUSTOM_MESSAGE, message: { reply: REPLY_TEXT, received } });
    });
    return true;
  },
  [ACTION_SET_ACTIVE_CONNECTION]: (m) => {
    const c = typeof m.connectionId === "string" ? findConn(m.connectionId) : null;
    if (!c) {
      postError(ERROR_USER_NOT_FOUND);
      return false;
    }
    sim.activeId = c.id;
    return true;
  },
  [ACTION_SET_CURRENT_URL]: (m) => {
    const url = checkUrl(m.url);
    if (!url) return warn("setCurrentUrl: url must be an absolute http(s) URL; got", m.url);
    const c = activeConn();
    if (!c) return warn("setCurrentUrl: no active connection");
    pushUrl(c, url);
    return true;
  },
  [ACTION_STOP_FULL_TAB]: () => {
    sim.gens.screen++;
    if (S.mode === MODE_VISITOR_SCREEN) S.mode = MODE_VISITOR_BROWSER;
    return true;
  },
  [ACTION_EMOJI_CONFETTI]: (m) => {
    if (typeof m.emoji !== "string" || !m.emoji.trim() || m.emoji.length > 32) {
      return warn("emojiConfetti: emoji must be a short non-empty string; got", m.emoji);
    }
    confetti(m.emoji);
    return true;
  },
};

/** action -> handler (a Map: an action such as "toString" must not find Object's). */
export const INSTRUCTIONS: ReadonlyMap<string, Handler> = new Map(Object.entries(TABLE));
