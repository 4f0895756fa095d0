// Replay mode: play a recorded timeline (UpscopeSession.replay) instead of simulating.
// The timeline's items (simulator/replay.py Timeline.page_data):
//   [t, "s", changedData, removedKeys]  a state update (posted as the accumulated full snapshot)
//   [t, "e", message]                   any other event (posted as recorded)
//   [t, "i", message, source]           an instruction (shown, never posted)
// t: recorded seconds. The page owns the clock: an item is posted when
// (now - anchor) * speed + base reaches its t.

import { replayPost } from "./host";
import { type ReplayData } from "./options";
import { type Conn, findConn, S, type SessionState, sim, visitorName } from "./state";
import { $, type ActionMessage, hasOwn, isObj, type JsonObject, safe, showJson, text, warn } from "./util";
import { banner, confetti, consoleLine, flash, render, toast } from "./view";
import {
  ACTION_EMOJI_CONFETTI,
  ACTION_FORCE_REFRESH,
  ACTION_RUN_CONSOLE_COMMAND,
  ACTION_SEND_CUSTOM_MESSAGE,
  CONTROL_PREFIX,
  EVENT_CUSTOM_MESSAGE,
  EVENT_ERROR,
  EVENT_SESSION_ENDED,
  REASON_ENDED,
  REASON_ERROR,
  REPLAY_PAUSE,
  REPLAY_PLAY,
  REPLAY_SEEK,
  STATE_UPDATE,
  STATUS_VIEWER_READY,
} from "./wire";

const ITEM_STATE = "s";
const ITEM_EVENT = "e";
const ITEM_INSTRUCTION = "i";

/** A timeline item: [t, kind, ...] with a finite t. */
type Item = [number, string, ...unknown[]];

interface Replay {
  tl: Item[];
  idx: number;
  state: JsonObject;
  playing: boolean;
  speed: number;
  base: number;
  anchor: number;
  timer: ReturnType<typeof setTimeout> | null;
  duration: number;
  readySeen: boolean;
  defaults: SessionState;
}

let R: Replay | null = null;

function isItem(it: unknown): it is Item {
  return Array.isArray(it) && typeof it[0] === "number" && isFinite(it[0]) && typeof it[1] === "string";
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && isFinite(v);
}

const REPLAY_CONTROLS = new Map<string, (r: Replay, m: ActionMessage) => void>([
  [REPLAY_PAUSE, (r) => {
    if (!r.playing) return;
    r.base = Math.min(replayPos(r), r.duration);
    r.playing = false;
    replayPump(r);
  }],
  [REPLAY_PLAY, (r, m) => {
    if (r.playing) return;
    // From where the kernel's clock says, but never back over what was posted already.
    const from = isFiniteNumber(m.from) ? m.from : r.base;
    const posted = r.idx > 0 ? r.tl[r.idx - 1][0] : 0;
    r.base = Math.max(from, posted, 0);
    r.anchor = performance.now();
    r.playing = true;
    replayPump(r);
  }],
  [REPLAY_SEEK, (r, m) => {
    if (!isFiniteNumber(m.to) || m.to < 0) {
      warn("replaySeek: to must be a number of seconds >= 0; got", m.to);
      return;
    }
    replaySeek(r, m.to);
  }],
]);

/** A message from the host in replay mode: only the replay's own controls do anything. */
export function replayControl(msg: ActionMessage): void {
  const handler = R && REPLAY_CONTROLS.get(msg.action);
  if (R && handler) handler(R, msg);
  else if (R && msg.action.indexOf(CONTROL_PREFIX) !== 0) replayShowSent(msg);
  else warn("replay: a replay's visitor cannot be scripted; ignored", msg.action);
}

// An instruction sent to the replay (an automation under test): shown, never applied, so that
// the recording plays on as it was.
function replayShowSent(msg: ActionMessage): void {
  const params: JsonObject = { ...(msg as JsonObject) };
  delete params.action;
  banner("Sent to the replay (not applied): " + text(msg.action) +
    (Object.keys(params).length ? " " + showJson(params) : ""));
}

export function replayStart(data: ReplayData): void {
  const tl = data.timeline.filter(isItem);
  const speed = typeof data.speed === "number" && data.speed >= 0 && isFinite(data.speed) ? data.speed : 1;
  const r: Replay = {
    tl,
    idx: 0,
    state: {},
    playing: true,
    speed,
    base: 0,
    anchor: performance.now(),
    timer: null,
    duration: tl.length ? tl[tl.length - 1][0] : 0,
    readySeen: false,
    defaults: { ...S },
  };
  R = r;
  const badge = $("sim-badge");
  badge.textContent = "Replay";
  badge.className = "badge replay";
  badge.title = "A saved session, played again";
  $("replay-chip").hidden = false;
  replayShowState(r);
  // when the first item went out (epoch ms): benchmarks measure the replay from here
  document.documentElement.dataset.replayStartedAt = String(performance.timeOrigin + performance.now());
  replayPump(r);
  setInterval(safe(() => replayProgress(r)), 250);
}

function replayPos(r: Replay): number {
  if (!r.playing) return r.base;
  if (r.speed === 0) return Infinity; // as fast as possible: everything is due
  return r.base + ((performance.now() - r.anchor) / 1000) * r.speed;
}

function replayPump(r: Replay): void {
  if (r.timer !== null) {
    clearTimeout(r.timer);
    r.timer = null;
  }
  if (r.playing) {
    const pos = replayPos(r);
    const drawn = r.idx;
    while (r.idx < r.tl.length && r.tl[r.idx][0] <= pos + 1e-9) replayApply(r, r.tl[r.idx++], true);
    if (r.idx > drawn) replayShowState(r); // drawn once for all the items due now
    if (r.idx < r.tl.length) {
      r.timer = setTimeout(safe(() => replayPump(r)), Math.max(0, ((r.tl[r.idx][0] - pos) / r.speed) * 1000));
    }
  }
  replayProgress(r);
}

function replayApply(r: Replay, item: Item, live: boolean): void {
  const kind = item[1];
  const message = item[2];
  if (kind === ITEM_STATE) {
    const data = isObj(message) ? message : {};
    for (const k of Object.keys(data)) r.state[k] = data[k];
    const removed = item[3];
    if (Array.isArray(removed)) for (const k of removed) delete r.state[String(k)];
    if (r.state.sessionStatus === STATUS_VIEWER_READY) r.readySeen = true;
    if (live) replayPost({ type: STATE_UPDATE, state: r.state });
  } else if (kind === ITEM_EVENT && isObj(message)) {
    if (message.type === EVENT_SESSION_ENDED) {
      sim.endReason = message.reason === REASON_ERROR ? REASON_ERROR : REASON_ENDED;
    }
    if (live) {
      replayPost(message);
      replayShowEvent(message);
    }
  } else if (kind === ITEM_INSTRUCTION && live && isObj(message)) {
    replayShowInstruction(message, item[3]);
  }
}

function replaySeek(r: Replay, to: number): void {
  r.state = {};
  r.readySeen = false;
  sim.endReason = REASON_ENDED;
  let ending: JsonObject | null = null;
  let i = 0;
  while (i < r.tl.length && r.tl[i][0] <= to + 1e-9) {
    const item = r.tl[i++];
    replayApply(r, item, false);
    const message = item[2];
    if (item[1] === ITEM_EVENT && isObj(message) && message.type === EVENT_SESSION_ENDED) ending = message;
  }
  r.idx = i;
  r.base = Math.min(to, r.duration);
  r.anchor = performance.now();
  if (Object.keys(r.state).length) replayPost({ type: STATE_UPDATE, state: r.state });
  if (ending) replayPost(ending); // the state at that time includes having ended
  replayShowState(r);
  replayPump(r);
}

function isSize(v: unknown): v is SessionState["size"] {
  return isObj(v) && typeof v.width === "number" && typeof v.height === "number";
}

// Which recorded values the view can draw, per state key; another value shows the default.
const SHOWN: { [K in keyof SessionState]: (v: unknown) => boolean } = {
  agentIdleness: (v) => typeof v === "string",
  audioState: (v) => typeof v === "string",
  availableModes: (v) => Array.isArray(v),
  color: (v) => typeof v === "string",
  connected: (v) => typeof v === "boolean",
  controlTool: (v) => v === null || typeof v === "string",
  dataBounceSpeed: (v) => typeof v === "number",
  isVideoOn: (v) => typeof v === "boolean",
  mode: (v) => typeof v === "string",
  muted: (v) => typeof v === "boolean",
  observersCount: (v) => typeof v === "number",
  sessionStatus: (v) => typeof v === "string",
  size: isSize,
  videoAgentState: (v) => typeof v === "string",
  videoVisitorState: (v) => typeof v === "string",
  viewerAudioAvailable: (v) => typeof v === "boolean",
  visitor: isObj,
  visitorAudioAvailable: (v) => typeof v === "boolean",
};

/** Draw the recorded state as it is now (the view shows it; nothing is posted). */
function replayShowState(r: Replay): void {
  const st = r.state;
  const fresh: JsonObject = { ...r.defaults };
  for (const k of Object.keys(SHOWN) as (keyof SessionState)[]) {
    if (hasOwn(st, k) && SHOWN[k](st[k])) fresh[k] = st[k];
  }
  Object.assign(S, fresh);
  const activeId = typeof st.activeConnectionId === "string" ? st.activeConnectionId : undefined;
  sim.activeId = activeId;
  const url = typeof st.currentUrl === "string" ? st.currentUrl : "";
  const conns: Conn[] = [];
  for (const c of Array.isArray(st.connections) ? st.connections : []) {
    if (!isObj(c) || typeof c.id !== "string") continue;
    const u = c.id === activeId && url ? url : typeof c.url === "string" ? c.url : "";
    conns.push({ id: c.id, hist: [u], idx: 0 });
  }
  sim.conns = conns;
  if (activeId && !findConn(activeId)) conns.push({ id: activeId, hist: [url], idx: 0 });
  sim.started = r.readySeen;
  sim.ended = false; // the cover shows "ended" from the recorded status
  sim.controlGranted = false;
  render();
}

function replayShowEvent(msg: JsonObject): void {
  if (msg.type === EVENT_ERROR) banner("Error: " + text(msg.error), "err");
  else if (msg.type === EVENT_CUSTOM_MESSAGE) toast(visitorName() + " sent a message", showJson(msg.message));
}

function replayShowInstruction(msg: JsonObject, source: unknown): void {
  const params: JsonObject = { ...msg };
  delete params.action;
  const who = source === "toolbar" ? "Agent (toolbar)" : "Agent (Python)";
  if (msg.action === ACTION_EMOJI_CONFETTI && typeof msg.emoji === "string") confetti(msg.emoji);
  if (msg.action === ACTION_FORCE_REFRESH) flash();
  if (msg.action === ACTION_RUN_CONSOLE_COMMAND && typeof msg.command === "string") consoleLine("in", msg.command);
  if (msg.action === ACTION_SEND_CUSTOM_MESSAGE) {
    toast("Message to " + visitorName(), showJson(msg.message));
    return;
  }
  banner(who + ": " + text(msg.action) + (Object.keys(params).length ? " " + showJson(params) : ""));
}

function replayProgress(r: Replay): void {
  const pos = Math.min(replayPos(r), r.duration);
  $("replay-chip").textContent =
    (r.playing ? "\u25B6 " : "\u275A\u275A ") + pos.toFixed(1) + " / " + r.duration.toFixed(1) + " s" +
    (r.speed !== 1 ? " \u00D7" + r.speed : "");
}
