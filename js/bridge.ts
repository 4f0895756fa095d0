// The model-level pipe between the kernel and the session's iframe. One Bridge per widget model;
// it gates inbound messages (source AND origin), batches them to the kernel, and queues
// instructions until the iframe has loaded. It does not interpret the protocol: Python does.
import * as P from "./protocol";

export interface Model {
  get(name: string): any;
  on(event: string, cb: (...args: any[]) => void): void;
  off(event?: string | null, cb?: ((...args: any[]) => void) | null): void;
  send(content: any, callbacks?: any, buffers?: any): void;
}

type Json = Record<string, unknown>;
type Item = Record<string, unknown>;

/** The least time between two batches while a burst is under way (ms). */
const BURST_WINDOW = 16;
/** Sends allowed within BURST_WINDOW before messages are batched: a ping-pong of replies
 * (a round trip every few ms) stays below it, a burst from the iframe goes above. */
const BURST_SENDS = 8;
/** Acknowledgements and rejection counts ride on the next batch, or go after this (ms). */
const LAZY_FLUSH = 150;
/** How long a new owner waits to hear what the previous one posted before posting (ms). */
const HANDOVER_WAIT = 500;

const LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

export interface Source {
  src: string;
  origin: string;
}

/** Where the iframe loads from, and the only origin its messages may come from. */
export function resolveSource(model: Model): Source | { error: string } {
  const page = model.get("_simulator_page");
  if (typeof page === "string" && page) {
    const src = URL.createObjectURL(new Blob([page], { type: "text/html" }));
    return { src, origin: new URL(src).origin };
  }
  const url = String(model.get("url") ?? "");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: `not an absolute URL: ${url}` };
  }
  const local = LOCAL_HOSTS.includes(parsed.hostname) || parsed.hostname === "::1";
  if (parsed.protocol === "https:" || (parsed.protocol === "http:" && local)) {
    return { src: parsed.href, origin: parsed.origin };
  }
  return { error: `refused to load ${parsed.protocol} URL (https: only): ${url}` };
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function toJson(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}

export type Listener = () => void;

const registry = new Map<string, Bridge>();

function onWindowMessage(event: MessageEvent): void {
  for (const bridge of registry.values()) {
    if (bridge.ownsWindow(event.source)) {
      bridge.receive(event);
      return;
    }
  }
  for (const bridge of registry.values()) bridge.reject();
}

export function bridgeFor(id: string): Bridge | undefined {
  return registry.get(id);
}

export class Bridge {
  readonly id: string;
  private model: Model;
  frame: HTMLIFrameElement | null = null;
  private origin = "";
  private blobUrl: string | null = null;
  private loaded = false;
  private queue: Array<[number, Json]> = [];
  private highestReceived = 0;
  private posted = 0;
  private ackSent = 0;
  private out: Item[] = [];
  private rejected = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lazyTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the latest BURST_SENDS batches went out, oldest first. */
  private sendTimes: number[] = new Array(BURST_SENDS).fill(-Infinity);
  private microtask = false;
  private prevJson: Map<string, string> | null = null;
  /** The latest snapshot from this frontend's iframe, for drawing. */
  snapshot: Json | null = null;
  private listeners = new Set<Listener>();
  /** Set by the views: the link changed, so the iframe must load anew. */
  onReset: (() => void) | null = null;
  /** Set by the views: this page gained or lost the session to another frontend. */
  onOwnership: ((active: boolean) => void) | null = null;
  /** This page's id towards the kernel: another tab or a reload is another frontend. */
  readonly frontendId = Math.random().toString(36).slice(2, 10);
  /** Whether this frontend may show the iframe; the kernel gives it to the latest to start. */
  active = true;
  /** The frontend that had the session before us, while we wait for what it posted. */
  private hold: string | null = null;
  private onKernel = (msg: unknown) => this.fromKernel(msg);
  private onUrl = () => this.resetSession();

  constructor(model: Model) {
    this.model = model;
    this.id = String(model.get("_session_id"));
    if (registry.size === 0) window.addEventListener("message", onWindowMessage);
    registry.set(this.id, this);
    model.on("msg:custom", this.onKernel);
    model.on("change:url", this.onUrl);
    model.on("change:_simulator_page", this.onUrl);
    this.claim();
  }

  /** Say hello to the kernel, which gives the session to the latest frontend to ask: a page
   * that starts (a reload, another tab) or whose user wants the session shown here. */
  claim(): void {
    this.model.send({ kind: P.HELLO, posted: this.posted, frontend: this.frontendId });
  }

  dispose(): void {
    this.model.off("msg:custom", this.onKernel);
    this.model.off("change:url", this.onUrl);
    this.model.off("change:_simulator_page", this.onUrl);
    this.flush();
    this.detachFrame();
    registry.delete(this.id);
    if (registry.size === 0) window.removeEventListener("message", onWindowMessage);
    this.listeners.clear();
  }

  /** Redraw hook for views: called after state or frame changes. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  // --- the iframe ---------------------------------------------------------------------------

  /** Build this session's iframe (one per bridge); returns it or an error to show. */
  createFrame(): HTMLIFrameElement | string {
    this.detachFrame();
    const source = resolveSource(this.model);
    if ("error" in source) return source.error;
    if (source.src.startsWith("blob:")) this.blobUrl = source.src;
    this.origin = source.origin;
    const frame = document.createElement("iframe");
    frame.className = "upscope-frame";
    frame.setAttribute(
      "allow",
      "microphone; camera; fullscreen; clipboard-write; display-capture; autoplay",
    );
    frame.setAttribute("allowfullscreen", "");
    frame.title = "Upscope co-browsing session";
    frame.addEventListener("load", () => {
      if (this.frame !== frame) return;
      this.loaded = true;
      this.prevJson = null;
      this.pump();
      this.changed();
    });
    // src before insertion: a frame inserted blank first loads about:blank, whose origin
    // would swallow instructions posted to the pinned origin.
    frame.src = source.src;
    this.frame = frame;
    this.loaded = false;
    return frame;
  }

  detachFrame(): void {
    if (this.frame) this.frame.remove();
    this.frame = null;
    this.loaded = false;
    if (this.blobUrl) URL.revokeObjectURL(this.blobUrl);
    this.blobUrl = null;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  ownsWindow(source: MessageEventSource | null): boolean {
    return source !== null && this.frame !== null && this.frame.contentWindow === source;
  }

  private resetSession(): void {
    // Python drops its undelivered instructions on a new link; drop ours to match.
    this.queue = [];
    this.prevJson = null;
    this.snapshot = null;
    this.onReset?.();
    this.changed();
  }

  // --- outbound: kernel -> iframe ---------------------------------------------------------

  private fromKernel(msg: unknown): void {
    if (isPlainObject(msg) && msg.kind === P.OWNER) {
      const mine = msg.frontend === this.frontendId;
      if (mine && msg.previous != null && msg.previous !== this.frontendId) {
        // Another page had the session: post nothing until it says what it posted (or,
        // gone for good, e.g. reloaded, fails to say so in time).
        const previous = msg.previous as string;
        this.hold = previous;
        setTimeout(() => this.unhold(previous), HANDOVER_WAIT);
      }
      this.setActive(mine);
      return;
    }
    if (isPlainObject(msg) && msg.kind === P.DELIVERED) {
      const upTo = typeof msg.upTo === "number" ? msg.upTo : 0;
      this.queue = this.queue.filter(([seq]) => seq > upTo);
      this.highestReceived = Math.max(this.highestReceived, upTo);
      this.unhold(msg.by as string);
      return;
    }
    if (!this.active) return; // the kernel sends them again if this page claims the session
    if (!isPlainObject(msg) || msg.kind !== P.INSTRUCTIONS || !Array.isArray(msg.items)) return;
    for (const item of msg.items) {
      if (!Array.isArray(item) || typeof item[0] !== "number" || !isPlainObject(item[1])) continue;
      const [seq, message] = item as [number, Json];
      if (seq <= this.highestReceived) continue; // a resend we already hold or posted
      this.highestReceived = seq;
      this.queue.push([seq, message]);
    }
    this.pump();
  }

  private unhold(previous: string | null): void {
    if (previous === null || this.hold !== previous) return;
    this.hold = null;
    this.pump();
  }

  private pump(): void {
    const target = this.frame?.contentWindow;
    if (!this.loaded || !target || this.hold !== null) return;
    while (this.queue.length) {
      const [seq, message] = this.queue.shift()!;
      target.postMessage(message, this.origin);
      this.posted = seq;
    }
    this.scheduleLazy();
  }

  private setActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    if (!active) {
      // Another frontend shows the session now: say what we posted, drop our iframe and what
      // we hold, so that a later claim gets the undelivered instructions afresh.
      this.flush(true);
      this.hold = null;
      this.queue = [];
      this.highestReceived = this.posted;
      this.detachFrame();
    }
    this.prevJson = null;
    this.onOwnership?.(active);
    this.changed();
  }

  // --- inbound: iframe -> kernel ----------------------------------------------------------

  receive(event: MessageEvent): void {
    if (event.origin !== this.origin) {
      this.reject();
      return;
    }
    this.out.push(this.encode(event.data));
    this.scheduleFlush();
  }

  reject(): void {
    this.rejected += 1;
    this.scheduleLazy();
  }

  private encode(data: unknown): Item {
    if (
      isPlainObject(data) &&
      data.type === P.STATE_UPDATE &&
      isPlainObject(data.state) &&
      Object.keys(data).length === 2
    ) {
      const item = this.encodeState(data.state);
      if (item) return item;
    }
    this.prevJson = null; // the next snapshot goes whole
    const json = toJson(data);
    if (json === undefined) return { [P.ITEM_UNREADABLE]: `a ${typeof data} that cannot be JSON` };
    return { [P.ITEM_EVENT]: JSON.parse(json) };
  }

  /** Only the properties that differ from the previous snapshot. Each value is kept as a
   * type-tagged key (so `1` and `true` differ): primitives directly, objects as JSON text. */
  private encodeState(state: Json): Item | null {
    const full = this.prevJson === null;
    const next = new Map<string, string>();
    const changes: Json = {};
    for (const key in state) {
      const value = state[key];
      if (value === undefined) continue;
      let repr: string | undefined;
      if (value === null || typeof value === "string" || typeof value === "boolean") {
        repr = `${typeof value}:${value}`;
      } else if (typeof value === "number") {
        repr = Number.isFinite(value) ? `number:${value}` : "object:null"; // JSON sends null
      } else if (typeof value === "object") {
        repr = toJson(value);
      }
      if (repr === undefined) return null; // a bigint, a function…: send the message as is
      next.set(key, repr);
      if (full || this.prevJson!.get(key) !== repr) {
        changes[key] = typeof value === "object" && value !== null ? JSON.parse(repr) : value;
      }
    }
    const item: Item = { [P.ITEM_STATE]: changes };
    if (full) item[P.ITEM_FULL] = true;
    else {
      const removed = [...this.prevJson!.keys()].filter((k) => !next.has(k));
      if (removed.length) item[P.ITEM_REMOVED] = removed;
    }
    this.prevJson = next;
    this.snapshot = state;
    this.changed();
    return item;
  }

  // Batch only while a burst is under way: a message is sent on the next microtask unless
  // BURST_SENDS batches already went out within BURST_WINDOW, so a reply never waits for a
  // timer; within a burst, at most one batch per BURST_WINDOW.
  private scheduleFlush(): void {
    if (this.timer !== null || this.microtask) return;
    const now = performance.now();
    if (now - this.sendTimes[0] >= BURST_WINDOW) {
      this.microtask = true;
      queueMicrotask(() => {
        this.microtask = false;
        this.flush();
      });
      return;
    }
    const wait = Math.max(0, this.sendTimes[BURST_SENDS - 1] + BURST_WINDOW - now);
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private scheduleLazy(): void {
    if (this.timer !== null || this.microtask || this.lazyTimer !== null) return;
    this.lazyTimer = setTimeout(() => this.flush(), LAZY_FLUSH);
  }

  /** Send what is pending; ``release`` also tells the kernel we give the session up. */
  flush(release = false): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.lazyTimer !== null) clearTimeout(this.lazyTimer);
    this.timer = this.lazyTimer = null;
    const content: Json = { kind: P.BATCH, events: this.out, frontend: this.frontendId };
    let worth = this.out.length > 0;
    if (this.posted > this.ackSent || release) {
      content.posted = this.ackSent = this.posted;
      worth = true;
    }
    if (release) content.released = true;
    if (this.rejected) {
      content.rejected = this.rejected;
      this.rejected = 0;
      worth = true;
    }
    if (!worth) return;
    this.out = [];
    this.sendTimes.shift();
    this.sendTimes.push(performance.now());
    this.model.send(content);
  }

  dismissNotices(): void {
    this.model.send({ kind: P.DISMISS });
  }
}
