// The simulated session's state: what the page posts as its state snapshot, the visitor's
// tabs, and the page's own bookkeeping.

import { COLORS, OPT } from "./options";
import { route } from "./shop";
import { type ActionMessage, type JsonObject, text } from "./util";
import {
  AUDIO_OFF,
  type EndReason,
  IDLENESS_ACTIVE,
  MODE_AGENT_SCREEN,
  MODE_VISITOR_BROWSER,
  MODE_VISITOR_SCREEN,
  REASON_ENDED,
  STATUS_WAITING,
  VIDEO_OFF,
} from "./wire";

export interface Size {
  width: number;
  height: number;
}

/** The session's state fields, as the page keeps them (the wire names). In replay mode they
 * hold what was recorded, which may be values the simulator never produces itself. */
export interface SessionState {
  agentIdleness: string;
  audioState: string;
  availableModes: unknown[];
  color: string;
  connected: boolean;
  controlTool: string | null;
  dataBounceSpeed: number;
  isVideoOn: boolean;
  mode: string | undefined;
  muted: boolean;
  observersCount: number;
  sessionStatus: string;
  size: Size | undefined;
  videoAgentState: string;
  videoVisitorState: string;
  viewerAudioAvailable: boolean;
  visitor: JsonObject | undefined;
  visitorAudioAvailable: boolean;
}

export const S: SessionState = {
  agentIdleness: IDLENESS_ACTIVE,
  audioState: AUDIO_OFF,
  availableModes: [MODE_VISITOR_BROWSER, MODE_VISITOR_SCREEN, MODE_AGENT_SCREEN],
  color: COLORS[0],
  connected: false,
  controlTool: null,
  dataBounceSpeed: 0,
  isVideoOn: false,
  mode: undefined,
  muted: false,
  observersCount: 1,
  sessionStatus: STATUS_WAITING,
  size: undefined,
  videoAgentState: VIDEO_OFF,
  videoVisitorState: VIDEO_OFF,
  viewerAudioAvailable: true,
  visitor: undefined,
  visitorAudioAvailable: true,
};

/** A visitor's tab: its history of URLs and where in it the tab is. */
export interface Conn {
  id: string;
  hist: string[];
  idx: number;
}

export interface ConnectionSnapshot {
  id: string;
  url: string;
  title: string;
  active: boolean;
}

/** The `state` of an `upscope.sessionState.update` event: every state key of the protocol
 * (tests/unit/test_simulator_source.py checks these names against Python's). */
export interface StateSnapshot extends SessionState {
  activeConnectionId: string | undefined;
  connections: ConnectionSnapshot[];
  currentUrl: string | null;
}

/** The page's bookkeeping besides S. */
export const sim = {
  conns: [] as Conn[],
  activeId: undefined as string | undefined,
  connSeq: 2,
  /** Reached viewerReady once. */
  started: false,
  ended: false,
  endReason: REASON_ENDED as EndReason,
  controlGranted: false,
  latencyMs: OPT.latencyMs,
  /** Bumped to cancel what a pending timer of that kind would do. */
  gens: { audio: 0, video: 0, screen: 0, control: 0, status: 0 },
  /** The visitor's page is being reloaded (shows "Loading..."). */
  reloading: false,
  /** What the visitor's page shows; null forces a redraw. */
  pageKey: null as string | null,
};

export function findConn(id: string): Conn | null {
  return sim.conns.find((c) => c.id === id) ?? null;
}

export function activeConn(): Conn | null {
  return sim.activeId === undefined ? null : findConn(sim.activeId);
}

export function connUrl(c: Conn): string {
  return c.hist[c.idx];
}

export function pushUrl(c: Conn, url: string): void {
  c.hist = c.hist.slice(0, c.idx + 1);
  c.hist.push(url);
  if (c.hist.length > 50) c.hist.shift();
  c.idx = c.hist.length - 1;
}

export function visitorName(): string {
  return text(OPT.visitor.callName) || text(OPT.visitor.shortId) || "the visitor";
}

export function measure(): Size {
  return {
    width: document.documentElement.clientWidth,
    height: document.documentElement.clientHeight,
  };
}

export function snapshot(): StateSnapshot {
  const a = activeConn();
  return {
    activeConnectionId: a ? a.id : undefined,
    agentIdleness: S.agentIdleness,
    audioState: S.audioState,
    availableModes: S.availableModes.slice(),
    color: S.color,
    connected: S.connected,
    connections: sim.conns.map((c) => ({
      id: c.id,
      url: connUrl(c),
      title: route(connUrl(c)).title,
      active: !!a && c.id === a.id,
    })),
    controlTool: S.controlTool,
    currentUrl: a ? connUrl(a) : null,
    dataBounceSpeed: S.dataBounceSpeed,
    isVideoOn: S.isVideoOn,
    mode: S.mode,
    muted: S.muted,
    observersCount: S.observersCount,
    sessionStatus: S.sessionStatus,
    size: S.size ? { width: S.size.width, height: S.size.height } : undefined,
    videoAgentState: S.videoAgentState,
    videoVisitorState: S.videoVisitorState,
    viewerAudioAvailable: S.viewerAudioAvailable,
    visitor: S.visitor,
    visitorAudioAvailable: S.visitorAudioAvailable,
  };
}

/** Instructions waiting out the simulated latency, in order: [{msg, due}]. */
export const inbox: { msg: ActionMessage; due: number }[] = [];
/** Instructions ("i") and controls ("c") received before the first viewerReady. */
export const deferred: ["i" | "c", ActionMessage][] = [];
