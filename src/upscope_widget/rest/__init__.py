"""A client for Upscope's REST API: secure watch links and visitor look-ups.

>>> from upscope_widget.rest import UpscopeClient
>>> with UpscopeClient() as client:  # key from UPSCOPE_API_KEY
...     url = client.watch_url("abc123", agent_id="42", agent_name="Ada Lovelace")

:class:`UpscopeClient` blocks; :class:`AsyncUpscopeClient` has the same methods as coroutines.
:func:`watch_url_for_visitor` is the one-call helper ``UpscopeSession.for_visitor`` uses.
Every error derives from :class:`UpscopeAPIError`, whatever the service answers; invalid
arguments raise ``ValueError`` before anything is sent. ``timeout`` bounds each request as a
whole. At most :data:`MAX_BODY_BYTES` of an answer is read. The API key is sent only in the
``X-Api-Key`` header and never shown: an echoed key reads ``***`` wherever an answer is kept.
"""

from ._core import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_VERSION,
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_TEXT_CHARS,
)
from .async_client import AsyncUpscopeClient
from .client import UpscopeClient, watch_url_for_visitor
from .errors import (
    APINotEnabledError,
    AuthenticationError,
    ContactTeamError,
    InvalidAPIKeyError,
    MissingAPIKeyError,
    NoSubscriptionError,
    PlanLimitError,
    RateLimitedError,
    UnexpectedResponseError,
    UpscopeAPIError,
    UpscopeConnectionError,
    UpscopeHTTPError,
    UpscopeTimeoutError,
    VisitorNotFoundError,
)
from .models import PERMISSION_NAMES, Naked, Permissions, Visitor

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_VERSION",
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_TEXT_CHARS",
    "PERMISSION_NAMES",
    "APINotEnabledError",
    "AsyncUpscopeClient",
    "AuthenticationError",
    "ContactTeamError",
    "InvalidAPIKeyError",
    "MissingAPIKeyError",
    "Naked",
    "NoSubscriptionError",
    "Permissions",
    "PlanLimitError",
    "RateLimitedError",
    "UnexpectedResponseError",
    "UpscopeAPIError",
    "UpscopeClient",
    "UpscopeConnectionError",
    "UpscopeHTTPError",
    "UpscopeTimeoutError",
    "Visitor",
    "VisitorNotFoundError",
    "watch_url_for_visitor",
]
