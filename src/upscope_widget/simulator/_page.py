"""Build the simulator page: ``static/simulator.html`` with the options injected.

The page is one self-contained HTML document (inline CSS and JS, no network), built by
``npm run build`` from the TypeScript sources in ``js/simulator/`` and shipped in the wheel.
The widget's frontend loads it as a ``blob:`` URL in an unsandboxed iframe, so it runs with the
notebook's origin. Options travel as JSON inside ``<script id="upscope-sim-options"
type="application/json">``; the JSON is escaped so that no value can end that element.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import re
from importlib.resources import files
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._control import MAX_LATENCY_MS, check_json_object

__all__ = ["DEFAULT_VISITOR", "SimulatorOptions", "build_page", "page_options", "page_template"]

DEFAULT_VISITOR: Final[dict[str, Any]] = {
    "shortId": "GH1906",
    "uniqueId": "sim-visitor-0001",
    "lookupCode": "4821",
    "callName": "Grace Hopper",
    "email": "grace.hopper@example.com",
    "identities": ["Grace Hopper", "grace.hopper@example.com"],
    "tags": ["simulated", "returning-customer"],
    "isOnline": True,
    "isInSession": True,
    "lastUrl": "https://shop.acme-outfitters.example/",
    "lastSeenAt": "2024-05-01T09:30:00Z",
    "browserName": "Chrome",
    "deviceName": "MacBook Pro",
    "deviceType": "desktop",
    "locationCity": "Arlington",
    "locationCountry": "US",
    "locationCountryName": "United States",
    "ipAddress": "203.0.113.42",
}
"""The visitor shown when :attr:`SimulatorOptions.visitor` is ``None`` (camelCase fields)."""

_OPTIONS_PLACEHOLDER: Final = '"__UPSCOPE_SIM_OPTIONS__"'
_HASH_PLACEHOLDER: Final = "'__UPSCOPE_SIM_SCRIPT_HASH__'"
_MAIN_SCRIPT: Final = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_SCRIPT_ESCAPES: Final = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


class SimulatorOptions(BaseModel):
    """How the simulated session behaves. Strict: no coercion (``"yes"`` is not a bool).

    Attributes:
        require_authorization: The visitor must accept the session first (the status passes
            through ``pendingRequest``; remote control also takes longer to be granted).
        allow_console: ``runConsoleCommand`` runs (shown in a console pane); when false it is
            refused with an ``error`` event ``remote_control:element_not_allowed``.
        visitor: The ``visitor`` of the session state, a JSON object with camelCase fields;
            ``None`` uses :data:`DEFAULT_VISITOR`.
        seed: Seeds the page's random generator (``dataBounceSpeed`` drift and other random
            choices) for reproducible runs; ``None`` picks a random seed.
        time_scale: Multiplies every simulated delay (start-up, ringing, grants, drift
            period...): 0 runs them as fast as possible, still asynchronously and in order
            (the drift period never goes below 100 ms). At most 100.
        latency_ms: Extra delay, in ms, before the page answers each instruction (not scaled by
            ``time_scale``). Change it later with ``SimulatorControl.set_latency``.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    require_authorization: bool = False
    allow_console: bool = False
    visitor: dict[str, Any] | None = None
    seed: int | None = None
    time_scale: float = Field(default=1.0, ge=0, le=100, allow_inf_nan=False)
    latency_ms: int = Field(default=0, ge=0, le=MAX_LATENCY_MS)

    @field_validator("visitor")
    @classmethod
    def _visitor_is_json(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_json_object(value, "visitor")


def page_options(options: SimulatorOptions) -> dict[str, Any]:
    """Return the JSON object the page reads: ``options`` with camelCase names and defaults."""
    visitor = options.visitor if options.visitor is not None else DEFAULT_VISITOR
    return {
        "requireAuthorization": options.require_authorization,
        "allowConsole": options.allow_console,
        "visitor": copy.deepcopy(visitor),
        # The page's PRNG takes 32 bits; reduce here so JS number precision cannot matter.
        "seed": None if options.seed is None else options.seed & 0xFFFFFFFF,
        "timeScale": options.time_scale,
        "latencyMs": options.latency_ms,
    }


def _json_for_script(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    for raw, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def page_template() -> str:
    """Return the built page as shipped, placeholders unfilled (``static/simulator.html``).

    Raises:
        RuntimeError: The page is not built (a source checkout without ``npm run build``).
    """
    page = files("upscope_widget") / "static" / "simulator.html"
    if not page.is_file():
        raise RuntimeError(
            f"the simulator page is not built ({page} is missing): "
            "install the package with `pip install -e .` (needs Node.js/npm) "
            "or run `npm install && npm run build`."
        )
    return page.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def _template() -> str:
    html = page_template()
    if html.count(_OPTIONS_PLACEHOLDER) != 1 or html.count(_HASH_PLACEHOLDER) != 1:
        raise RuntimeError("simulator.html must contain each placeholder exactly once")
    scripts = _MAIN_SCRIPT.findall(html)
    if len(scripts) != 1:
        raise RuntimeError("simulator.html must contain exactly one attribute-less <script>")
    # The Content-Security-Policy allows only this script (no inline handlers, no network).
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode()
    return html.replace(_HASH_PLACEHOLDER, f"'sha256-{digest}'")


def build_page(
    options: SimulatorOptions | None = None, replay: dict[str, Any] | None = None
) -> str:
    """Return the simulator page (a complete HTML document) with ``options`` injected.

    Args:
        options: The simulation's options; ``None`` means ``SimulatorOptions()``.
        replay: Puts the page in replay mode: instead of simulating, it plays this recorded
            timeline (``Timeline.page_data()`` from :mod:`upscope_widget.simulator.replay`).

    Returns:
        The HTML text, ready for ``new Blob([html], {type: "text/html"})`` in the frontend.
    """
    if options is None:
        options = SimulatorOptions()
    injected = page_options(options)
    if replay is not None:
        injected["replay"] = replay
    return _template().replace(_OPTIONS_PLACEHOLDER, _json_for_script(injected), 1)
