"""upscope-widget: a live Upscope co-browsing session in a notebook, driven from Python."""

from .errors import (
    NoFrontendError,
    ReadOnlyStateError,
    SessionEndedError,
    SessionError,
    UpscopeProtocolWarning,
)
from .log import LogEntry, SessionLog
from .protocol import (
    Connection,
    CustomMessageEvent,
    EmbeddedSessionState,
    ErrorEvent,
    SessionEndedEvent,
    Size,
    StateUpdateEvent,
    UnknownEvent,
    Visitor,
)
from .session import UpscopeSession

__version__ = "0.1.0"

__all__ = [
    "Connection",
    "CustomMessageEvent",
    "EmbeddedSessionState",
    "ErrorEvent",
    "LogEntry",
    "NoFrontendError",
    "ReadOnlyStateError",
    "SessionEndedError",
    "SessionEndedEvent",
    "SessionError",
    "SessionLog",
    "Size",
    "StateUpdateEvent",
    "UnknownEvent",
    "UpscopeProtocolWarning",
    "UpscopeSession",
    "Visitor",
    "__version__",
]
