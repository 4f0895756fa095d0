// The simulated session's life: start-up, the dataBounceSpeed drift, going offline and
// coming back, ending. Simulated delays are scaled by timeScale; all stop when it ends.

import { post, postError } from "./host";
import { D, DRIFT_FLOOR_MS, driftRng, OPT, SHOP } from "./options";
import { deferred, inbox, measure, S, sim } from "./state";
import { safe } from "./util";
import { emit, render } from "./view";
import {
  AUDIO_OFF,
  type EndReason,
  ERROR_USER_NOT_ONLINE,
  EVENT_SESSION_ENDED,
  MODE_VISITOR_BROWSER,
  STATUS_ACTIVE,
  STATUS_PENDING_REQUEST,
  STATUS_SNAPSHOT_RECEIVED,
  STATUS_TERMINATED,
  STATUS_VIEWER_READY,
  STATUS_WAITING,
  VIDEO_OFF,
} from "./wire";

const timers = new Set<ReturnType<typeof setTimeout>>();

/** Run `fn` after `realMs` (not scaled), unless the session has ended by then. */
export function schedule(realMs: number, fn: () => void): void {
  const id = setTimeout(() => {
    timers.delete(id);
    if (!sim.ended) safe(fn)();
  }, Math.max(0, realMs));
  timers.add(id);
}

/** Run `fn` after the simulated delay `ms` (scaled by timeScale). */
export function later(ms: number, fn: () => void): void {
  schedule(ms * OPT.timeScale, fn);
}

/** active -> snapshotReceived -> viewerReady (from snapshotReceived when !fromActive). */
export function toViewerReady(fromActive: boolean, done?: () => void): void {
  const g = ++sim.gens.status;
  function ready(): void {
    if (g !== sim.gens.status) return;
    S.sessionStatus = STATUS_VIEWER_READY;
    emit();
    if (done) done();
  }
  function snap(): void {
    if (g !== sim.gens.status) return;
    S.sessionStatus = STATUS_SNAPSHOT_RECEIVED;
    emit();
    later(D.toReady, ready);
  }
  later(fromActive ? D.toSnapshot : D.toReady, fromActive ? snap : ready);
}

function nextBounce(): number {
  const base = 85;
  let v = S.dataBounceSpeed > 0 ? S.dataBounceSpeed : base + driftRng() * 40;
  v += (base - v) * 0.35 + (driftRng() - 0.5) * 50;
  if (driftRng() < 0.07) v += 350 + driftRng() * 400; // now and then a slow round trip
  return Math.round(Math.min(1500, Math.max(15, v)));
}

function driftLater(): void {
  const period = (D.driftMin + driftRng() * D.driftJitter) * OPT.timeScale;
  schedule(Math.max(DRIFT_FLOOR_MS, period), () => {
    if (S.connected) {
      S.dataBounceSpeed = nextBounce();
      emit();
    }
    driftLater();
  });
}

function begin(onReady: () => void): void {
  sim.conns = [
    { id: "conn-1", hist: [SHOP + "/"], idx: 0 },
    { id: "conn-2", hist: [SHOP + "/products", SHOP + "/products/trail-runner-2"], idx: 1 },
  ];
  sim.activeId = "conn-1";
  S.connected = true;
  S.visitor = OPT.visitor;
  S.mode = MODE_VISITOR_BROWSER;
  S.size = measure();
  S.dataBounceSpeed = nextBounce();
  S.sessionStatus = STATUS_ACTIVE;
  emit();
  toViewerReady(true, () => {
    sim.started = true;
    render(); // the shop shows as soon as the viewer is ready, not at the next change
    driftLater();
    onReady();
  });
}

/** waiting -> (pendingRequest) -> active -> snapshotReceived -> viewerReady, then `onReady`. */
export function startUp(onReady: () => void): void {
  S.sessionStatus = STATUS_WAITING;
  emit();
  if (OPT.requireAuthorization) {
    later(D.toPending, () => {
      S.sessionStatus = STATUS_PENDING_REQUEST;
      emit();
      later(D.accept, () => begin(onReady));
    });
  } else {
    later(D.toActive, () => begin(onReady));
  }
}

export function finish(reason: EndReason): void {
  if (sim.ended) return;
  const gens = sim.gens;
  gens.audio++;
  gens.video++;
  gens.screen++;
  gens.control++;
  gens.status++;
  sim.endReason = reason;
  S.sessionStatus = STATUS_TERMINATED;
  S.connected = false;
  S.audioState = AUDIO_OFF;
  S.isVideoOn = false;
  S.videoAgentState = VIDEO_OFF;
  S.videoVisitorState = VIDEO_OFF;
  sim.controlGranted = false;
  emit();
  sim.ended = true;
  for (const id of timers) clearTimeout(id);
  timers.clear();
  inbox.length = 0;
  deferred.length = 0;
  post({ type: EVENT_SESSION_ENDED, reason });
  render();
}

export function goOffline(): void {
  if (!S.connected) {
    emit();
    return;
  }
  sim.gens.status++;
  sim.gens.audio++;
  sim.gens.screen++;
  sim.gens.control++;
  S.connected = false;
  S.audioState = AUDIO_OFF;
  sim.controlGranted = false;
  postError(ERROR_USER_NOT_ONLINE);
  emit();
}

export function comeBack(): void {
  S.connected = true;
  S.sessionStatus = STATUS_ACTIVE;
  emit();
  toViewerReady(true);
}
