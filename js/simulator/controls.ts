// Simulator control messages (SimulatorControl in Python): they script the simulated visitor
// and service. Unlike instructions, each one emits by itself.

import { post, postError } from "./host";
import { MAX_LATENCY_MS } from "./options";
import { comeBack, finish, goOffline } from "./session";
import { checkUrl } from "./shop";
import { activeConn, findConn, pushUrl, S, sim, visitorName } from "./state";
import { type ActionMessage, isObj, showJson, warn } from "./util";
import { emit, toast } from "./view";
import {
  ERROR_DATA,
  EVENT_CUSTOM_MESSAGE,
  REASON_ENDED,
  REASON_ERROR,
  SIM_CLOSE_TAB,
  SIM_DISCONNECT,
  SIM_END,
  SIM_NAVIGATE,
  SIM_OPEN_TAB,
  SIM_RAISE_ERROR,
  SIM_SET_LATENCY,
  SIM_VISITOR_SENDS,
} from "./wire";

/** Controls that run even before the first viewerReady (the others wait for it). */
export const CONTROL_ANYTIME: ReadonlySet<string> = new Set([SIM_RAISE_ERROR, SIM_SET_LATENCY, SIM_END]);

export const CONTROLS: ReadonlyMap<string, (m: ActionMessage) => void> = new Map([
  [SIM_VISITOR_SENDS, (m: ActionMessage): void => {
    if (!isObj(m.message)) {
      warn("visitorSends: message must be an object");
      return;
    }
    if (!S.connected && sim.conns.length) comeBack();
    post({ type: EVENT_CUSTOM_MESSAGE, message: m.message });
    toast(visitorName() + " sent a message", showJson(m.message));
  }],
  [SIM_OPEN_TAB, (m: ActionMessage): void => {
    const url = checkUrl(m.url);
    if (!url) {
      warn("openTab: url must be an absolute http(s) URL; got", m.url);
      return;
    }
    let id = typeof m.connectionId === "string" ? m.connectionId : "";
    if (!id) {
      do id = "conn-" + ++sim.connSeq;
      while (findConn(id));
    }
    if (findConn(id)) {
      warn("openTab: connection already exists:", id);
      return;
    }
    sim.conns.push({ id, hist: [url], idx: 0 });
    if (!activeConn()) sim.activeId = id;
    if (!S.connected) comeBack();
    else emit();
  }],
  [SIM_CLOSE_TAB, (m: ActionMessage): void => {
    const conns = sim.conns;
    let i = -1;
    for (let k = 0; k < conns.length; k++) if (conns[k].id === m.connectionId) i = k;
    if (i < 0) {
      warn("closeTab: unknown connection ignored:", m.connectionId);
      return;
    }
    const wasActive = conns[i].id === sim.activeId;
    conns.splice(i, 1);
    if (!conns.length) {
      sim.activeId = undefined;
      goOffline();
      return;
    }
    if (wasActive) sim.activeId = conns[Math.max(0, i - 1)].id;
    emit();
  }],
  [SIM_NAVIGATE, (m: ActionMessage): void => {
    const url = checkUrl(m.url);
    if (!url) {
      warn("navigate: url must be an absolute http(s) URL; got", m.url);
      return;
    }
    const c = activeConn();
    if (!c) {
      warn("navigate: the visitor has no open tab");
      return;
    }
    pushUrl(c, url);
    if (!S.connected) comeBack();
    else emit();
  }],
  [SIM_RAISE_ERROR, (m: ActionMessage): void => {
    if (typeof m.code !== "string" || !m.code) {
      warn("raiseError: code must be a non-empty string");
      return;
    }
    postError(m.code);
  }],
  [SIM_DISCONNECT, (): void => {
    if (S.connected) goOffline();
  }],
  [SIM_SET_LATENCY, (m: ActionMessage): void => {
    const ms = m.ms;
    if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > MAX_LATENCY_MS) {
      warn("setLatency: ms must be an integer 0..600000; got", ms);
      return;
    }
    sim.latencyMs = ms;
  }],
  [SIM_END, (m: ActionMessage): void => {
    if (m.reason !== REASON_ENDED && m.reason !== REASON_ERROR) {
      warn(`end: reason must be "${REASON_ENDED}" or "${REASON_ERROR}"; got`, m.reason);
      return;
    }
    if (m.reason === REASON_ERROR) postError(ERROR_DATA);
    finish(m.reason);
  }],
]);
