"""Error codes the session reports, what they mean, and the package's exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import traitlets

#: Every documented ``error`` code, with a sentence a user can act on.
ERROR_DESCRIPTIONS: dict[str, str] = {
    "connection:authentication": "The watch link was not accepted: it may be invalid or revoked.",
    "connection:data": "The session's data connection failed.",
    "connection:user_not_found": "The visitor (or the requested connection) was not found.",
    "connection:user_not_online": "The visitor is not online.",
    "connection:expired": "The watch link has expired; create a new one.",
    "connection:version_not_supported": "The visitor's Upscope SDK version is not supported.",
    "remote_control:inactive": "Remote control is not active: call request_control() first.",
    "remote_control:element_not_allowed": "The visitor's page does not allow that element.",
    "remote_control:click_not_allowed": "The visitor's page does not allow clicks.",
    "remote_control:type_not_allowed": "The visitor's page does not allow typing.",
    "remote_control:scroll_not_allowed": "The visitor's page does not allow scrolling.",
}


@dataclass(frozen=True)
class SessionErrorInfo:
    """What the session reported in an ``error`` event (information, not an exception).

    ``code`` is the wire string (``"remote_control:click_not_allowed"``), ``category`` the part
    before the colon (``"connection"`` or ``"remote_control"``; ``"unknown"`` for a code without
    one), and ``description`` a human sentence. An unknown code is kept as it came.
    """

    code: str
    category: str
    description: str

    @classmethod
    def from_code(cls, code: str) -> SessionErrorInfo:
        """Build the error for a wire code, known or not."""
        category = code.split(":", 1)[0] if ":" in code else "unknown"
        description = ERROR_DESCRIPTIONS.get(code, f"Unknown error code {code!r} from the session.")
        return cls(code=code, category=category, description=description)

    @property
    def known(self) -> bool:
        """Whether the code is one the protocol documents."""
        return self.code in ERROR_DESCRIPTIONS

    def __str__(self) -> str:
        return f"{self.code}: {self.description}"


class SessionEndedError(RuntimeError):
    """An instruction was given to a session that has already ended."""


class ReadOnlyStateError(traitlets.TraitError, AttributeError):
    """A session-state trait was assigned from Python; it only reflects the session."""


class SettingError(traitlets.TraitError, ValueError):
    """A setting of the session (``url``, ``width``, ``toolbar``, …) was given a bad value.

    A ``ValueError``, as for every bad argument; also a ``TraitError``, so that traitlets rolls
    the value back when it came from the frontend (ipywidgets applies those in a batch).
    """


class UpscopeProtocolWarning(UserWarning):
    """The iframe sent something that does not follow the protocol; the rest was applied."""


class NoFrontendError(TimeoutError):
    """An ``await`` on a session that no frontend shows: nothing can ever arrive."""


class Problem(NamedTuple):
    """Something inbound that does not follow the protocol.

    ``field`` names the state property (wire name) it concerns, or is ``None`` for a whole
    message: a field's problem is reported once until the field's value changes.
    """

    field: str | None
    text: str


#: The extra that pandas and matplotlib come with.
ANALYSIS_EXTRA = "pip install 'upscope-widget[analysis]'"


def missing_extra(what: str, module: str) -> ImportError:
    """Return the ImportError for an analysis feature whose optional dependency is missing."""
    return ImportError(f"{what} needs {module}, which comes with the 'analysis' extra: "
                       f"{ANALYSIS_EXTRA}")


class ReplayError(RuntimeError):
    """Raised when something tries to script a replay's visitor: the recording is the visitor."""
