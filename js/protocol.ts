// The few wire names the frontend needs. Python defines them all (upscope_widget/protocol.py and
// upscope_widget/_bridge.py); tests/unit/test_js_protocol.py fails if this file drifts from them.

/** The vendor's state event: the only event the frontend looks into (to send only changes). */
export const STATE_UPDATE = "upscope.sessionState.update";

// kernel -> frontend
export const INSTRUCTIONS = "instructions";
export const OWNER = "owner";
export const DELIVERED = "delivered";
// frontend -> kernel
export const HELLO = "hello";
export const BATCH = "batch";
export const DISMISS = "dismiss";

// batch items
export const ITEM_STATE = "s";
export const ITEM_REMOVED = "x";
export const ITEM_FULL = "f";
export const ITEM_EVENT = "e";
export const ITEM_UNREADABLE = "u";

/** State keys the status card and header draw. */
export const KEY_STATUS = "sessionStatus";
export const KEY_CURRENT_URL = "currentUrl";
export const KEY_VISITOR = "visitor";
export const KEY_CONNECTED = "connected";
