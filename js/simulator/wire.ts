// The wire names the simulator page speaks. Those js/protocol.ts already has come from there;
// the rest are spelled here, and tests/unit/test_simulator_source.py checks each against Python
// (upscope_widget/protocol.py, errors.py and simulator/_control.py).

import * as P from "../protocol";

export {
  ACTION_EMOJI_CONFETTI,
  ACTION_END_SESSION,
  ACTION_FORCE_REFRESH,
  ACTION_HISTORY_BACK,
  ACTION_HISTORY_FORWARD,
  ACTION_RELOAD_PAGE,
  ACTION_REQUEST_CONTROL,
  ACTION_REQUEST_FULL_TAB,
  ACTION_SET_ACTIVE_CONNECTION,
  ACTION_SET_CURRENT_URL,
  ACTION_SET_MODE,
  ACTION_SET_MUTED,
  ACTION_STOP_FULL_TAB,
  ACTION_SWITCH_COLOR,
  ACTION_TOGGLE_AUDIO,
  ACTION_TOGGLE_VIDEO,
} from "../protocol";
export {
  AUDIO_ACTIVE,
  AUDIO_OFF,
  AUDIO_RINGING,
  CONTROL_CURSOR,
  CONTROL_DRAWING,
  CONTROL_POINTER,
  CONTROL_TOOL_FOR_MODE,
  EVENT_CUSTOM_MESSAGE,
  EVENT_ERROR,
  EVENT_SESSION_ENDED,
  MODE_VISITOR_SCREEN,
  STATE_UPDATE,
  STATUS_TERMINATED,
  TOOL_CURSOR,
  TOOL_DRAW,
  TOOL_POINTER,
} from "../protocol";

// --- instructions js/protocol.ts does not name (the toolbar never sends them) ---
export const ACTION_BEGIN_VIDEO = "beginVideo";
export const ACTION_END_VIDEO = "endVideo";
export const ACTION_RUN_CONSOLE_COMMAND = "runConsoleCommand";
export const ACTION_SEND_CUSTOM_MESSAGE = "sendCustomMessage";

/** Every instruction of the protocol: the page has a handler for each (the type makes sure). */
export const INSTRUCTION_ACTIONS = [
  P.ACTION_END_SESSION,
  P.ACTION_SET_MODE,
  P.ACTION_SWITCH_COLOR,
  P.ACTION_TOGGLE_AUDIO,
  P.ACTION_TOGGLE_VIDEO,
  P.ACTION_SET_MUTED,
  ACTION_BEGIN_VIDEO,
  ACTION_END_VIDEO,
  P.ACTION_FORCE_REFRESH,
  P.ACTION_HISTORY_BACK,
  P.ACTION_HISTORY_FORWARD,
  P.ACTION_RELOAD_PAGE,
  P.ACTION_REQUEST_CONTROL,
  P.ACTION_REQUEST_FULL_TAB,
  ACTION_RUN_CONSOLE_COMMAND,
  ACTION_SEND_CUSTOM_MESSAGE,
  P.ACTION_SET_ACTIVE_CONNECTION,
  P.ACTION_SET_CURRENT_URL,
  P.ACTION_STOP_FULL_TAB,
  P.ACTION_EMOJI_CONFETTI,
] as const;
export type InstructionAction = (typeof INSTRUCTION_ACTIONS)[number];

// --- error codes the page raises (errors.py documents each) ---
export const ERROR_DATA = "connection:data";
export const ERROR_USER_NOT_FOUND = "connection:user_not_found";
export const ERROR_USER_NOT_ONLINE = "connection:user_not_online";
export const ERROR_REMOTE_CONTROL_INACTIVE = "remote_control:inactive";
export const ERROR_ELEMENT_NOT_ALLOWED = "remote_control:element_not_allowed";
export const ERROR_CLICK_NOT_ALLOWED = "remote_control:click_not_allowed";
export const ERROR_TYPE_NOT_ALLOWED = "remote_control:type_not_allowed";

// --- state values js/protocol.ts does not name ---
export const STATUS_WAITING = "waiting";
export const STATUS_PENDING_REQUEST = "pendingRequest";
export const STATUS_ACTIVE = "active";
export const STATUS_SNAPSHOT_RECEIVED = "snapshotReceived";
export const STATUS_VIEWER_READY = "viewerReady";
export const MODE_VISITOR_BROWSER = "visitor_browser";
export const MODE_AGENT_SCREEN = "agent_screen";
export const IDLENESS_ACTIVE = "active";
/** videoAgentState is "off" or one of these prefixes followed by the agent's observer id. */
export const VIDEO_OFF = "off";
export const VIDEO_AUTHORIZING = "authorizing:";
export const VIDEO_ACTIVE = "active:";
/** The sessionEnded event's reasons. */
export const REASON_ENDED = "ended";
export const REASON_ERROR = "error";
export type EndReason = typeof REASON_ENDED | typeof REASON_ERROR;

// --- simulator control messages (SimulatorControl and ReplaySession in Python) ---
export const CONTROL_PREFIX = "upscope-sim:";
export const SIM_VISITOR_SENDS = "upscope-sim:visitorSends";
export const SIM_OPEN_TAB = "upscope-sim:openTab";
export const SIM_CLOSE_TAB = "upscope-sim:closeTab";
export const SIM_NAVIGATE = "upscope-sim:navigate";
export const SIM_RAISE_ERROR = "upscope-sim:raiseError";
export const SIM_DISCONNECT = "upscope-sim:disconnect";
export const SIM_SET_LATENCY = "upscope-sim:setLatency";
export const SIM_END = "upscope-sim:end";
export const REPLAY_PLAY = "upscope-sim:replayPlay";
export const REPLAY_PAUSE = "upscope-sim:replayPause";
export const REPLAY_SEEK = "upscope-sim:replaySeek";

