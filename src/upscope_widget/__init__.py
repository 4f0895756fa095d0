"""upscope-widget: a live Upscope co-browsing session in a notebook, driven from Python."""

from typing import TYPE_CHECKING

from ._version import __version__
from .errors import (
    NoFrontendError,
    ReadOnlyStateError,
    ReplayError,
    SessionEndedError,
    SessionErrorInfo,
    SettingError,
    UpscopeProtocolWarning,
)
from .grid import SessionGrid
from .log import LogEntry, SessionLog
from .session import UpscopeSession

if TYPE_CHECKING:
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
    from .session import ReplaySession

#: The protocol's pydantic models: imported when first asked for (pydantic takes about as long
#: to import as anywidget; a session loads them anyway when it is made).
_PROTOCOL_MODELS = frozenset({
    "Connection", "CustomMessageEvent", "EmbeddedSessionState", "ErrorEvent",
    "SessionEndedEvent", "Size", "StateUpdateEvent", "UnknownEvent", "Visitor",
})


__all__ = [
    "Connection",
    "CustomMessageEvent",
    "EmbeddedSessionState",
    "ErrorEvent",
    "LogEntry",
    "NoFrontendError",
    "ReadOnlyStateError",
    "ReplayError",
    "ReplaySession",
    "SessionEndedError",
    "SessionEndedEvent",
    "SessionErrorInfo",
    "SessionGrid",
    "SessionLog",
    "SettingError",
    "Size",
    "StateUpdateEvent",
    "UnknownEvent",
    "UpscopeProtocolWarning",
    "UpscopeSession",
    "Visitor",
    "__version__",
]


def __dir__() -> list[str]:
    # the lazily loaded names too: tab completion in a notebook lists them
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> object:
    if name in _PROTOCOL_MODELS:
        from . import protocol

        return getattr(protocol, name)
    # Replays load the simulator page's module: only when asked for, to keep the import fast.
    if name == "ReplaySession":
        from .session import ReplaySession

        return ReplaySession
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
