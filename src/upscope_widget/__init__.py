"""upscope-widget: a live Upscope co-browsing session in a notebook, driven from Python."""

from .errors import (
    ReadOnlyStateError,
    SessionEndedError,
    SessionError,
    UpscopeProtocolWarning,
)
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
    "ReadOnlyStateError",
    "SessionEndedError",
    "SessionEndedEvent",
    "SessionError",
    "Size",
    "StateUpdateEvent",
    "UnknownEvent",
    "UpscopeProtocolWarning",
    "UpscopeSession",
    "Visitor",
    "__version__",
]
