// Talking to the host (the widget's frontend, the iframe's parent).

import { OPT } from "./options";
import { type JsonObject, LOG, warn } from "./util";
import { EVENT_ERROR } from "./wire";

// For a blob: page, self.origin is the creator's (notebook's) origin. If it is opaque
// ("null": sandboxed iframe, data: URL) we cannot name a target origin: we then post with
// "*" (everything here is simulated data) and accept messages by event.source alone.
function ownOrigin(): string | null {
  for (const candidate of [self.origin, location.origin]) {
    if (typeof candidate === "string" && candidate && candidate !== "null") return candidate;
  }
  return null;
}

export const OWN_ORIGIN = ownOrigin();
const TARGET_ORIGIN = OWN_ORIGIN || "*";
export const EMBEDDED = window.parent !== window;
if (!OWN_ORIGIN) warn("opaque origin: posting events with targetOrigin '*'");

/** The recorded timeline in replay mode (then nothing is simulated), else null. */
export const REPLAY = OPT.replay;

// In replay mode only the recorded timeline reaches the host.
let replayPosting = false;

export function post(msg: JsonObject): void {
  if (REPLAY && !replayPosting) {
    console.debug(LOG, "replay: not posting", msg && msg.type);
    return;
  }
  if (!EMBEDDED) {
    console.info(LOG, "event", msg);
    return;
  }
  try {
    window.parent.postMessage(msg, TARGET_ORIGIN);
  } catch (err) {
    console.error(LOG, err);
  }
}

/** Post a recorded message: the only way anything reaches the host in replay mode. */
export function replayPost(msg: JsonObject): void {
  replayPosting = true;
  try {
    post(msg);
  } finally {
    replayPosting = false;
  }
}

export function postError(code: string): void {
  post({ type: EVENT_ERROR, error: code });
}
