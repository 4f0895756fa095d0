// The page's options (injected by build_page in Python), its fixed settings and its seeded
// random streams.

import { $, isObj, type JsonObject, warn } from "./util";

export const SHOP = "https://shop.acme-outfitters.example";
export const OBSERVER_ID = "sim-agent-1";
export const COLORS: readonly string[] = ["#6e56cf", "#0091ff", "#30a46c", "#f76b15", "#e5484d"];
export const REPLY_TEXT = "Thanks, I got your message!";
export const UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 (simulated)";
/** Simulated delays in ms at timeScale 1 (multiplied by timeScale). */
export const D = {
  toPending: 200,
  accept: 900,
  toActive: 250,
  toSnapshot: 200,
  toReady: 120,
  ring: 1200,
  camera: 500,
  grant: 700,
  grantAuth: 1500,
  screen: 600,
  reload: 300,
  reply: 400,
  driftMin: 2000,
  driftJitter: 1000,
} as const;
/** A drift snapshot at most every 100 ms, whatever timeScale. */
export const DRIFT_FLOOR_MS = 100;
/** simulator/_control.py MAX_LATENCY_MS. */
export const MAX_LATENCY_MS = 600000;

/** Replay mode (UpscopeSession.replay): the recorded timeline to play instead of simulating. */
export interface ReplayData extends JsonObject {
  timeline: unknown[];
}

export interface Options {
  requireAuthorization: boolean;
  allowConsole: boolean;
  visitor: JsonObject;
  seed: number | null;
  timeScale: number;
  latencyMs: number;
  replay: ReplayData | null;
}

function isReplay(v: unknown): v is ReplayData {
  return isObj(v) && Array.isArray(v.timeline);
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/** The injected options; the defaults when the page is opened raw, or a value is bad. */
function readOptions(): Options {
  const o: Options = {
    requireAuthorization: false,
    allowConsole: false,
    visitor: { shortId: "SIM000", callName: "Simulated visitor" },
    seed: null,
    timeScale: 1,
    latencyMs: 0,
    replay: null,
  };
  let raw: unknown = null;
  try {
    raw = JSON.parse($("upscope-sim-options").textContent ?? "");
  } catch (err) {
    warn("bad options", err);
  }
  if (!isObj(raw)) return o;
  if (typeof raw.requireAuthorization === "boolean") o.requireAuthorization = raw.requireAuthorization;
  if (typeof raw.allowConsole === "boolean") o.allowConsole = raw.allowConsole;
  if (isObj(raw.visitor)) o.visitor = raw.visitor;
  if (isInt(raw.seed)) o.seed = raw.seed >>> 0;
  if (typeof raw.timeScale === "number" && raw.timeScale >= 0 && raw.timeScale <= 100) {
    o.timeScale = raw.timeScale;
  }
  if (isInt(raw.latencyMs) && raw.latencyMs >= 0 && raw.latencyMs <= MAX_LATENCY_MS) {
    o.latencyMs = raw.latencyMs;
  }
  if (isReplay(raw.replay)) o.replay = raw.replay;
  return o;
}

export const OPT: Options = readOptions();

function mulberry32(seed: number): () => number {
  let a = seed;
  return function () {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = OPT.seed !== null ? OPT.seed : crypto.getRandomValues(new Uint32Array(1))[0];
/** Seeded randomness: one stream for the dataBounceSpeed drift, one for everything else. */
export const driftRng = mulberry32(SEED);
export const rng = mulberry32(SEED ^ 0x9e3779b9);
