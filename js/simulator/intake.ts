// Messages from the host: source and origin check, the simulated latency queue (keeps the
// order), and deferral of what arrives before the viewer is first ready.

import { CONTROL_ANYTIME, CONTROLS } from "./controls";
import { EMBEDDED, OWN_ORIGIN, postError, REPLAY } from "./host";
import { INSTRUCTIONS, VISITOR_BOUND } from "./instructions";
import { replayControl } from "./replay";
import { deferred, inbox, S, sim } from "./state";
import { type ActionMessage, isActionMessage, LOG, safe, warn } from "./util";
import { emit } from "./view";
import { ACTION_END_SESSION, CONTROL_PREFIX, ERROR_USER_NOT_ONLINE } from "./wire";

type Kind = "i" | "c";

let inboxTimer: ReturnType<typeof setTimeout> | null = null;
let lastDue = 0;

function pump(): void {
  inboxTimer = null;
  while (inbox.length && inbox[0].due <= performance.now() + 1) {
    const next = inbox.shift();
    if (next) dispatch("i", next.msg);
  }
  if (inbox.length && !sim.ended) {
    inboxTimer = setTimeout(safe(pump), Math.max(0, inbox[0].due - performance.now()));
  }
}

function dispatch(kind: Kind, msg: ActionMessage): void {
  if (sim.ended) return;
  const anytime = kind === "i" ? msg.action === ACTION_END_SESSION : CONTROL_ANYTIME.has(msg.action);
  if (!sim.started && !anytime) {
    deferred.push([kind, msg]);
    return;
  }
  try {
    if (kind === "c") {
      const control = CONTROLS.get(msg.action);
      if (control) control(msg);
      else warn("unknown simulator control ignored:", msg.action);
      return;
    }
    const handler = INSTRUCTIONS.get(msg.action);
    if (!handler) {
      warn("unknown instruction ignored:", msg.action);
      return;
    }
    if (!S.connected && VISITOR_BOUND.has(msg.action)) {
      postError(ERROR_USER_NOT_ONLINE);
      return;
    }
    if (handler(msg) === true && !sim.ended) emit();
  } catch (err) {
    console.error(LOG, "while handling", msg.action, err);
  }
}

/** Handle what arrived before the viewer was first ready, in order. */
export function flushDeferred(): void {
  for (const [kind, msg] of deferred.splice(0)) dispatch(kind, msg);
}

function onMessage(event: MessageEvent): void {
  try {
    if (!EMBEDDED || event.source !== window.parent) return;
    if (OWN_ORIGIN && event.origin !== OWN_ORIGIN) return;
    const message: unknown = event.data;
    if (!isActionMessage(message)) return;
    if (REPLAY) {
      replayControl(message);
      return;
    }
    if (sim.ended) {
      console.debug(LOG, "session ended; ignoring", message.action);
      return;
    }
    if (message.action.indexOf(CONTROL_PREFIX) === 0) {
      dispatch("c", message);
      return;
    }
    const due = Math.max(performance.now() + sim.latencyMs, lastDue);
    lastDue = due;
    inbox.push({ msg: message, due });
    if (inboxTimer === null) pump();
  } catch (err) {
    console.error(LOG, err);
  }
}

export function installIntake(): void {
  window.addEventListener("message", onMessage);
}
