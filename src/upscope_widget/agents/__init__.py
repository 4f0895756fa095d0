"""Agent automations: LLM tools, a safe tool-call runner, awaitable effects, an MCP endpoint.

Reach them through :class:`~upscope_widget.UpscopeSession`: ``tool_specs``, ``run_tool_call``,
``run_tool_calls``, ``perform``, ``events``, ``serve_mcp``.

The MCP server needs the optional extra ``upscope-widget[agents]``; the rest needs nothing more.
"""

from .effects import EFFECTS, EffectTimeoutError, EventStream
from .tools import DEFAULT_TOOLS, FORMATS, OPT_IN_TOOLS, TOOLS

__all__ = [
    "DEFAULT_TOOLS",
    "EFFECTS",
    "FORMATS",
    "OPT_IN_TOOLS",
    "TOOLS",
    "EffectTimeoutError",
    "EventStream",
]
