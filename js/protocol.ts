// The few wire names the frontend needs. Python defines them all (upscope_widget/protocol.py and
// upscope_widget/_bridge.py); tests/unit/test_js_protocol.py fails if this file drifts from them.

/** The vendor's state event: the only event the frontend looks into (to send only changes). */
export const STATE_UPDATE = "upscope.sessionState.update";
// The other event types: a message shaped like one of these from a wrong window is counted.
export const EVENT_SESSION_ENDED = "sessionEnded";
export const EVENT_CUSTOM_MESSAGE = "customMessage";
export const EVENT_ERROR = "error";
export const EVENT_TYPES: readonly string[] = [
  STATE_UPDATE,
  EVENT_SESSION_ENDED,
  EVENT_CUSTOM_MESSAGE,
  EVENT_ERROR,
];

/** Inbound limits: a value nested deeper, or a message longer as JSON, is not forwarded
 * (Python's JSON decoder recurses, and a deep value would break the whole batch). */
export const MAX_DEPTH = 64;
export const MAX_JSON_CHARS = 1048576;
/** The most properties of a snapshot forwarded; the rest are left out, and counted. */
export const MAX_STATE_PROPERTIES = 256;

// kernel -> frontend
export const KIND_INSTRUCTIONS = "instructions";
export const OWNER = "owner";
export const DELIVERED = "delivered";
// frontend -> kernel
export const HELLO = "hello";
export const BATCH = "batch";
export const DISMISS = "dismiss";
export const LOAD_TIMEOUT = "loadTimeout";

// batch items
export const ITEM_STATE = "s";
export const ITEM_REMOVED = "x";
export const ITEM_FULL = "f";
export const ITEM_EVENT = "e";
export const ITEM_UNREADABLE = "u";
export const ITEM_TOOLBAR = "t";
export const ITEM_INVALID = "i";
export const ITEM_LEFT_OUT = "o";

/** State keys the status card and header draw. */
export const KEY_SESSION_STATUS = "sessionStatus";
export const KEY_CURRENT_URL = "currentUrl";
export const KEY_VISITOR = "visitor";
export const KEY_CONNECTED = "connected";

// --- the toolbar ---------------------------------------------------------------------------
// It draws these state keys and sends these instructions (the drift test checks each against
// upscope_widget/protocol.py: actions, their wire parameters, and the enum values it compares).
export const KEY_CONTROL_TOOL = "controlTool";
export const KEY_COLOR = "color";
export const KEY_AUDIO_STATE = "audioState";
export const KEY_MUTED = "muted";
export const KEY_IS_VIDEO_ON = "isVideoOn";
export const KEY_MODE = "mode";
export const KEY_CONNECTIONS = "connections";
export const KEY_ACTIVE_CONNECTION_ID = "activeConnectionId";
export const KEY_DATA_BOUNCE_SPEED = "dataBounceSpeed";
export const KEY_OBSERVERS_COUNT = "observersCount";

export const ACTION_END_SESSION = "endSession";
export const ACTION_SET_MODE = "setMode";
export const ACTION_SWITCH_COLOR = "switchColor";
export const ACTION_TOGGLE_AUDIO = "toggleAudio";
export const ACTION_SET_MUTED = "setMuted";
export const ACTION_TOGGLE_VIDEO = "toggleVideo";
export const ACTION_HISTORY_BACK = "historyBack";
export const ACTION_HISTORY_FORWARD = "historyForward";
export const ACTION_RELOAD_PAGE = "reloadPage";
export const ACTION_FORCE_REFRESH = "forceRefresh";
export const ACTION_SET_CURRENT_URL = "setCurrentUrl";
export const ACTION_SET_ACTIVE_CONNECTION = "setActiveConnection";
export const ACTION_REQUEST_CONTROL = "requestControl";
export const ACTION_REQUEST_FULL_TAB = "requestFullTab";
export const ACTION_STOP_FULL_TAB = "stopFullTab";
export const ACTION_EMOJI_CONFETTI = "emojiConfetti";

export const PARAM_MODE = "mode";
export const PARAM_COLOR = "color";
export const PARAM_ON = "on";
export const PARAM_MUTED = "muted";
export const PARAM_URL = "url";
export const PARAM_CONNECTION_ID = "connectionId";
export const PARAM_EMOJI = "emoji";

/** setMode's values, and the controlTool each one shows as. */
export const TOOL_DRAW = "draw";
export const TOOL_POINTER = "pointer";
export const TOOL_CURSOR = "cursor";
export const CONTROL_DRAWING = "drawing";
export const CONTROL_POINTER = "pointer";
export const CONTROL_CURSOR = "cursor";
/** What controlTool shows for each setMode value (Python: protocol.CONTROL_TOOL_FOR_MODE). */
export const CONTROL_TOOL_FOR_MODE: Readonly<Record<string, string>> = {
  [TOOL_DRAW]: CONTROL_DRAWING,
  [TOOL_POINTER]: CONTROL_POINTER,
  [TOOL_CURSOR]: CONTROL_CURSOR,
};
export const AUDIO_OFF = "off";
export const AUDIO_RINGING = "ringing";
export const AUDIO_ACTIVE = "active";
export const MODE_VISITOR_SCREEN = "visitor_screen";
export const STATUS_TERMINATED = "terminated";
