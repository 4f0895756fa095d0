// The model-level pipe between the kernel and the session's iframe. One Bridge per widget model;
// it gates inbound messages (source AND origin), batches them to the kernel, and queues
// instructions until the iframe has loaded. It does not interpret the protocol: Python does.
import * as P from "./protocol";
import { checkWatchUrl } from "./urls";

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
/** A batch goes as soon as it holds this many items: the kernel starts applying them while the
 * rest still arrives, instead of waiting for one batch of everything. While the iframe's
 * queued messages keep coming, each next batch may hold twice as many, up to BURST_MAX_ITEMS:
 * every message costs the kernel and the server a fixed price, and the kernel is the slower. */
const BURST_ITEMS = 100;
const BURST_MAX_ITEMS = 1000;
/** Acknowledgements and rejection counts ride on the next batch, or go after this (ms). */
const LAZY_FLUSH = 150;
/** How long a new owner waits to hear what the previous one posted before posting (ms). */
const HANDOVER_WAIT = 500;
/** The queue's mark for a toolbar click (the kernel numbers its instructions from 1). */
const TOOLBAR_SEQ = 0;


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
  const check = checkWatchUrl(model.get("url"));
  if (!check.ok) return { error: `refused to load the watch link: ${check.reason}` };
  const parsed = new URL(check.url);
  return { src: parsed.href, origin: parsed.origin };
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

/** Why a JSON text may not go to the kernel (too long, or nested too deep), else null. */
export function overLimit(json: string): string | null {
  if (json.length > P.MAX_JSON_CHARS) {
    return `${json.length} characters of JSON (the limit is ${P.MAX_JSON_CHARS})`;
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > P.MAX_DEPTH) return `nested deeper than ${P.MAX_DEPTH} levels`;
    } else if (c === 93 || c === 125) depth--;
  }
  return null;
}

export type Listener = () => void;

/** What every session on a page must share, whichever copy of this module made it: anywidget
 * imports the module once per model, so a module-level registry would see one session only
 * (and count every other session's messages as forgeries). */
export interface PageBridge {
  ownsWindow(source: MessageEventSource | null): boolean;
  receive(event: MessageEvent): void;
  reject(): void;
}

const BRIDGES = Symbol.for("upscope-widget.bridges");
const LISTENER = Symbol.for("upscope-widget.listener");

type PageWindow = Window & {
  [BRIDGES]?: Map<string, PageBridge>;
  [LISTENER]?: (event: MessageEvent) => void;
};

/** The page-wide map from `_session_id` to its bridge (one map per page, on `window`). */
export function pageBridges(): Map<string, PageBridge> {
  const w = window as PageWindow;
  let bridges = w[BRIDGES];
  if (!bridges) {
    bridges = new Map();
    w[BRIDGES] = bridges;
  }
  return bridges;
}

/** Whether a message looks like one of the protocol's events: only those are worth counting
 * when they come from the wrong window; other frames' chatter is none of our business. */
export function isProtocolEvent(data: unknown): boolean {
  return isPlainObject(data) && typeof data.type === "string" && P.EVENT_TYPES.includes(data.type);
}

// One window listener per page, installed by whichever module copy registers first.
function pageListener(event: MessageEvent): void {
  const bridges = pageBridges();
  for (const bridge of bridges.values()) {
    if (bridge.ownsWindow(event.source)) {
      bridge.receive(event);
      return;
    }
  }
  if (!isProtocolEvent(event.data)) return;
  for (const bridge of bridges.values()) bridge.reject();
}

function register(id: string, bridge: PageBridge): void {
  const w = window as PageWindow;
  const bridges = pageBridges();
  if (!w[LISTENER]) {
    w[LISTENER] = pageListener;
    window.addEventListener("message", pageListener);
  }
  bridges.set(id, bridge);
}

function unregister(id: string, bridge: PageBridge): void {
  const w = window as PageWindow;
  const bridges = pageBridges();
  if (bridges.get(id) === bridge) bridges.delete(id);
  const listener = w[LISTENER];
  if (bridges.size === 0 && listener) {
    window.removeEventListener("message", listener);
    delete w[LISTENER];
  }
}

export function bridgeFor(id: string): Bridge | undefined {
  const bridge = pageBridges().get(id);
  return bridge instanceof Bridge ? bridge : undefined;
}

export class Bridge implements PageBridge {
  readonly id: string;
  private model: Model;
  frame: HTMLIFrameElement | null = null;
  private origin = "";
  private blobUrl: string | null = null;
  private loaded = false;
  /** Instructions waiting to be posted, in order. Seq 0 marks a toolbar click that came while
   * the kernel's instructions were held or queued: it waits behind them, never overtakes. */
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
  /** The pending flush after the tasks already queued (see afterQueued); 0: none. */
  private pendingYield = 0;
  private yieldSeq = 0;
  /** How many items the batch being filled before the pending flush may hold. */
  private yieldCap = BURST_ITEMS;
  private yieldPort: MessagePort | null = null;
  private yieldInPort: MessagePort | null = null;
  /** Until when a message counts as part of a burst (see scheduleFlush). */
  private burstUntil = -Infinity;
  private prevJson: Map<string, string> | null = null;
  /** The latest snapshot from this frontend's iframe, for drawing. */
  snapshot: Json | null = null;
  /** The latest `error` code and the `sessionEnded` reason the iframe posted, for drawing. */
  lastError: string | null = null;
  endedReason: string | null = null;
  /** No state arrived within `load_timeout` seconds of the iframe's creation. */
  loadFailed = false;
  private loadTimer: ReturnType<typeof setTimeout> | null = null;
  /** Who shows the iframe now: a view of this session, or a card of a session grid. */
  holder: object | null = null;
  private holderListeners = new Set<(holder: object | null) => void>();
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
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  /** Instructions the previous owner may have posted already (it never said): if it stays
   * silent, they are skipped and reported rather than posted a second time. */
  private inDoubt = new Set<number>();
  private skipped: number[] = [];
  /** The iframe has loaded and the kernel must hear it before anything is posted to it: from
   * then on, what this page was sent may have been posted, which decides the next hand-over. */
  private loadToReport = false;
  private disposed = false;
  private onKernel = (msg: unknown) => this.fromKernel(msg);
  private onUrl = () => this.resetSession();
  // A page that goes away (reload, closed tab) says what it posted and gives the session up,
  // so that the next page neither posts those again nor waits for a page that is gone.
  private onPageHide = () => this.flush(true);
  private onPageShow = (event: PageTransitionEvent) => {
    if (event.persisted) this.claim(); // back from the back/forward cache
  };

  constructor(model: Model) {
    this.model = model;
    this.id = String(model.get("_session_id"));
    register(this.id, this);
    model.on("msg:custom", this.onKernel);
    model.on("change:url", this.onUrl);
    model.on("change:_simulator_page", this.onUrl);
    window.addEventListener("pagehide", this.onPageHide);
    window.addEventListener("pageshow", this.onPageShow);
    this.claim();
  }

  /** Say hello to the kernel, which gives the session to the latest frontend to ask: a page
   * that starts (a reload, another tab) or whose user wants the session shown here. */
  claim(): void {
    if (this.disposed) return;
    this.model.send({ kind: P.HELLO, posted: this.posted, frontend: this.frontendId });
  }

  /** The model is closing: its comm is gone, so nothing may be sent or scheduled after this. */
  dispose(): void {
    this.disposed = true;
    this.model.off("msg:custom", this.onKernel);
    this.model.off("change:url", this.onUrl);
    this.model.off("change:_simulator_page", this.onUrl);
    window.removeEventListener("pagehide", this.onPageHide);
    window.removeEventListener("pageshow", this.onPageShow);
    this.clearTimers();
    this.yieldPort?.close();
    this.yieldInPort?.close();
    this.yieldPort = this.yieldInPort = null;
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.queue = [];
    this.out = [];
    this.detachFrame();
    unregister(this.id, this);
    this.listeners.clear();
    this.onReset = null;
    this.onOwnership = null;
  }

  get isDisposed(): boolean {
    return this.disposed;
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
      this.loadToReport = true;
      this.flush();
      this.prevJson = null;
      this.pump();
      this.changed();
    });
    // src before insertion: a frame inserted blank first loads about:blank, whose origin
    // would swallow instructions posted to the pinned origin.
    frame.src = source.src;
    this.frame = frame;
    this.loaded = false;
    this.watchLoad();
    return frame;
  }

  /** Until the first state arrives the views say "connecting"; after `load_timeout` seconds
   * they say what usually causes it, and so does a notice in Python. */
  private watchLoad(): void {
    if (this.loadTimer !== null) clearTimeout(this.loadTimer);
    this.loadTimer = null;
    this.loadFailed = false;
    if (this.snapshot) return;
    const seconds = Number(this.model.get("load_timeout"));
    const wait = Number.isFinite(seconds) && seconds > 0 ? seconds : 20;
    this.loadTimer = setTimeout(() => {
      this.loadTimer = null;
      if (this.snapshot || this.disposed || !this.frame) return;
      this.loadFailed = true;
      this.model.send({ kind: P.LOAD_TIMEOUT, seconds: wait, frontend: this.frontendId });
      this.changed();
    }, wait * 1000);
  }

  // --- the toolbar and other views drawn from outside the session's own ------------------

  /** The toolbar's one way out: post to the pinned origin at once (a click must not wait for
   * a busy kernel), then tell the kernel in the next batch, in order with the iframe's events.
   * Returns false, sending nothing, when this page cannot post to the iframe now. */
  postFromToolbar(message: Json): boolean {
    const target = this.frame?.contentWindow;
    if (this.disposed || !this.active || !this.loaded || !target) return false;
    if (this.hold !== null || this.queue.length) {
      this.queue.push([TOOLBAR_SEQ, message]);
      this.pump();
      return true;
    }
    this.postToolbar(target, message);
    return true;
  }

  private postToolbar(target: Window, message: Json): void {
    target.postMessage(message, this.origin);
    this.out.push({ [P.ITEM_TOOLBAR]: message });
    this.scheduleFlush();
  }

  /** A synced setting of the session (views of another widget, e.g. a grid, have no model). */
  setting(name: string): unknown {
    return this.model.get(name);
  }

  watchSetting(name: string, cb: () => void): () => void {
    this.model.on(`change:${name}`, cb);
    return () => this.model.off(`change:${name}`, cb);
  }

  /** Put the one iframe into `container` for `holder`: made if there is none, else moved
   * (with `moveBefore`, which keeps a frame alive where the browser has it: no reload, no
   * second connection). */
  placeFrame(container: HTMLElement, holder: object): HTMLIFrameElement | string {
    let frame = this.frame;
    if (frame && frame.parentElement !== container) {
      const move = (container as any).moveBefore;
      if (typeof move === "function" && frame.isConnected && container.isConnected) {
        move.call(container, frame, null);
      } else {
        // A plain move would reload the frame while we believe it loaded (and post into the
        // reload): make a new one instead, as a new view always did.
        frame = null;
      }
    }
    if (!frame) {
      const made = this.createFrame();
      if (typeof made === "string") return made;
      frame = made;
      container.append(frame);
    }
    this.setHolder(holder);
    return frame;
  }

  /** `holder` gives the iframe up (its view went away); the others may take it. */
  releaseFrame(holder: object): void {
    if (this.holder === holder) this.setHolder(null);
  }

  onHolder(cb: (holder: object | null) => void): () => void {
    this.holderListeners.add(cb);
    return () => this.holderListeners.delete(cb);
  }

  private setHolder(holder: object | null): void {
    if (this.holder === holder) return;
    this.holder = holder;
    for (const cb of [...this.holderListeners]) cb(holder);
  }

  detachFrame(): void {
    if (this.loadTimer !== null) clearTimeout(this.loadTimer);
    this.loadTimer = null;
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
    this.lastError = null;
    this.endedReason = null;
    this.loadFailed = false;
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
        if (this.holdTimer !== null) clearTimeout(this.holdTimer);
        this.holdTimer = setTimeout(() => {
          this.holdTimer = null;
          this.skipInDoubt(previous);
        }, HANDOVER_WAIT);
      }
      this.setActive(mine);
      return;
    }
    if (isPlainObject(msg) && msg.kind === P.DELIVERED) {
      const upTo = typeof msg.upTo === "number" ? msg.upTo : 0;
      this.queue = this.queue.filter(([seq]) => seq === TOOLBAR_SEQ || seq > upTo);
      this.highestReceived = Math.max(this.highestReceived, upTo);
      if (msg.by === this.hold) this.inDoubt.clear(); // it told us: nothing is in doubt
      this.unhold(msg.by as string);
      return;
    }
    if (!this.active) return; // the kernel sends them again if this page claims the session
    if (!isPlainObject(msg) || msg.kind !== P.KIND_INSTRUCTIONS || !Array.isArray(msg.items)) return;
    for (const item of msg.items) {
      if (!Array.isArray(item) || typeof item[0] !== "number" || !isPlainObject(item[1])) continue;
      const [seq, message] = item as [number, Json];
      if (seq <= this.highestReceived) continue; // a resend we already hold or posted
      this.highestReceived = seq;
      this.queue.push([seq, message]);
      if (item[2] === true) this.inDoubt.add(seq);
    }
    this.pump();
  }

  private unhold(previous: string | null): void {
    if (previous === null || this.hold !== previous) return;
    this.hold = null;
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.inDoubt.clear();
    this.pump();
  }

  /** The previous owner never said what it posted (it is gone): what it may have posted is
   * skipped, and the kernel tells the user, rather than posting anything twice. */
  private skipInDoubt(previous: string): void {
    if (this.disposed || this.hold !== previous) return;
    if (this.inDoubt.size) {
      this.skipped.push(...this.queue.filter(([seq]) => this.inDoubt.has(seq)).map(([s]) => s));
      this.queue = this.queue.filter(([seq]) => !this.inDoubt.has(seq));
    }
    this.unhold(previous);
    if (this.skipped.length) this.scheduleLazy();
  }

  private pump(): void {
    const target = this.frame?.contentWindow;
    if (!this.loaded || !target || this.hold !== null) return;
    while (this.queue.length) {
      const [seq, message] = this.queue.shift()!;
      if (seq === TOOLBAR_SEQ) {
        this.postToolbar(target, message);
        continue;
      }
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
      if (this.holdTimer !== null) clearTimeout(this.holdTimer);
      this.holdTimer = null;
      this.inDoubt.clear();
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
      // our iframe, navigated elsewhere: only what poses as the protocol is worth counting
      if (isProtocolEvent(event.data)) this.reject();
      return;
    }
    this.note(event.data);
    this.out.push(this.encode(event.data));
    this.scheduleFlush();
  }

  /** What the toolbar draws besides the snapshot: the last error, the end, the first state. */
  private note(data: unknown): void {
    if (!isPlainObject(data)) return;
    if (data.type === P.STATE_UPDATE) {
      if (this.loadTimer !== null) clearTimeout(this.loadTimer);
      this.loadTimer = null;
      if (this.loadFailed) {
        this.loadFailed = false;
        this.changed();
      }
    } else if (data.type === P.EVENT_ERROR && typeof data.error === "string") {
      this.lastError = data.error;
      this.changed();
    } else if (data.type === P.EVENT_SESSION_ENDED) {
      this.endedReason = typeof data.reason === "string" ? data.reason : "ended";
      this.changed();
    }
  }

  reject(): void {
    if (this.disposed) return;
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
    if (json === undefined) {
      return { [P.ITEM_UNREADABLE]: `a ${typeof data} that cannot be JSON (cyclic or too deep)` };
    }
    const problem = overLimit(json);
    if (problem) return { [P.ITEM_UNREADABLE]: `a message of ${problem}` };
    return { [P.ITEM_EVENT]: JSON.parse(json) };
  }

  /** Only the properties that differ from the previous snapshot. Each value is kept as a
   * type-tagged key (so `1` and `true` differ): primitives directly, objects as JSON text. */
  private encodeState(state: Json): Item | null {
    const full = this.prevJson === null;
    const next = new Map<string, string>();
    // No prototype: a property named "__proto__" must be a property like any other.
    const changes: Json = Object.create(null);
    // A property that cannot travel is named with the reason (once, until it changes); Python
    // keeps its last good value, and every other property still arrives.
    const invalid: Record<string, string> = Object.create(null);
    // A bounded count, so that a state growing key by key costs the same per snapshot; the
    // ones beyond are counted for Python to report (Python keeps the documented ones first).
    let count = 0;
    let leftOut = 0;
    for (const key in state) {
      if (++count > P.MAX_STATE_PROPERTIES) {
        leftOut = Object.keys(state).length - P.MAX_STATE_PROPERTIES;
        break;
      }
      const value = state[key];
      if (value === undefined) continue;
      let repr: string | undefined;
      let problem: string | null = null;
      if (value === null || typeof value === "boolean") {
        repr = `${typeof value}:${value}`;
      } else if (typeof value === "string") {
        repr = `string:${value}`;
        if (value.length > P.MAX_JSON_CHARS) problem = `a string of ${value.length} characters`;
      } else if (typeof value === "number") {
        repr = Number.isFinite(value) ? `number:${value}` : "object:null"; // JSON sends null
      } else if (typeof value === "object") {
        repr = toJson(value);
        if (repr === undefined) problem = "a value that cannot be JSON (cyclic or too deep)";
        else problem = overLimit(repr);
      }
      if (repr === undefined && problem === null) return null; // a bigint, a function…
      if (problem !== null) repr = `invalid:${problem}`;
      next.set(key, repr!);
      if (full || this.prevJson!.get(key) !== repr) {
        if (problem !== null) invalid[key] = problem;
        else changes[key] = typeof value === "object" && value !== null ? JSON.parse(repr!) : value;
      }
    }
    const item: Item = { [P.ITEM_STATE]: changes };
    if (Object.keys(invalid).length) item[P.ITEM_INVALID] = invalid;
    if (leftOut > 0) item[P.ITEM_LEFT_OUT] = leftOut;
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

  // Send after the tasks already queued, so that the messages the iframe posted in one go (each
  // its own task) go as one batch, and a lone reply goes at once. Within a burst (BURST_SENDS
  // batches within BURST_WINDOW: messages trickling in one by one), at most one batch per
  // BURST_WINDOW. Either way a batch also goes as soon as it holds BURST_ITEMS items. A burst
  // lasts until BURST_WINDOW passes without a batched send: while it lasts, the next message
  // waits for the batch rather than going alone.
  private scheduleFlush(): void {
    if (this.pendingYield !== 0) {
      if (this.out.length >= this.yieldCap) {
        const cap = Math.min(2 * this.yieldCap, BURST_MAX_ITEMS);
        this.flush();
        this.afterQueued(); // behind the messages still queued: the burst ends when it runs
        this.yieldCap = cap;
      }
      return;
    }
    if (this.timer !== null) {
      if (this.out.length >= BURST_ITEMS) this.burstFlush();
      return;
    }
    const now = performance.now();
    if (now >= this.burstUntil && now - this.sendTimes[0] >= BURST_WINDOW) {
      this.afterQueued();
      return;
    }
    const wait = Math.max(0, this.sendTimes[BURST_SENDS - 1] + BURST_WINDOW - now);
    this.timer = setTimeout(() => this.burstFlush(), wait);
  }

  /** Flush once the tasks queued so far have run: a MessageChannel message is queued as a
   * window's message events are, behind those already waiting (a microtask would run before
   * them, and a timer is clamped and may run later). */
  private afterQueued(): void {
    if (this.disposed) return;
    if (this.yieldPort === null) {
      const channel = new MessageChannel();
      channel.port1.onmessage = (e: MessageEvent) => {
        if (e.data !== this.pendingYield) return; // flushed meanwhile: a later one is due
        this.pendingYield = 0;
        this.yieldCap = BURST_ITEMS; // the queue ran dry: the burst, if any, is over
        this.flush();
      };
      this.yieldPort = channel.port2;
      this.yieldInPort = channel.port1;
    }
    this.pendingYield = ++this.yieldSeq;
    this.yieldPort.postMessage(this.pendingYield);
  }

  private burstFlush(): void {
    this.burstUntil = performance.now() + BURST_WINDOW;
    this.flush();
  }

  private scheduleLazy(): void {
    if (this.disposed) return;
    if (this.timer !== null || this.pendingYield !== 0 || this.lazyTimer !== null) return;
    this.lazyTimer = setTimeout(() => this.flush(), LAZY_FLUSH);
  }

  /** Send what is pending; ``release`` also tells the kernel we give the session up. */
  flush(release = false): void {
    this.clearTimers();
    if (this.disposed) return;
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
    if (this.loadToReport) {
      content.loaded = true;
      this.loadToReport = false;
      worth = true;
    }
    if (this.skipped.length) {
      content.skipped = this.skipped;
      this.skipped = [];
      worth = true;
    }
    if (!worth) return;
    this.out = [];
    this.sendTimes.shift();
    this.sendTimes.push(performance.now());
    this.model.send(content);
  }

  private clearTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.lazyTimer !== null) clearTimeout(this.lazyTimer);
    this.timer = this.lazyTimer = null;
    this.pendingYield = 0;
  }

  dismissNotices(): void {
    this.model.send({ kind: P.DISMISS });
  }
}
