"""The protocol's 20 instructions as methods, mixed into ``UpscopeSession``.

Each method builds its wire message and hands it to the session's one outbound path
(``_instruct``), which validates, numbers, logs and tells ``on_instruction``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._lazy import lazy_module

if TYPE_CHECKING:
    from . import protocol
else:
    protocol = lazy_module("upscope_widget.protocol")  # pydantic: loaded with the first session


class InstructionMethods:
    """One method per instruction; ``send_instruction`` for any of them by wire name."""

    def _instruct(self, action: str, params: dict[str, Any], source: str = "python",
                  *, allow_unknown: bool = False) -> None:
        raise NotImplementedError  # the session's one outbound path

    def send_instruction(
        self,
        action: str,
        /,
        *,
        allow_unknown: bool = False,
        source: str = "python",
        **params: Any,
    ) -> None:
        """Send an instruction by its wire name, validated like the method for it.

        ``session.send_instruction("setMode", mode="draw")`` is ``session.set_mode("draw")``.
        An action this version does not know raises ``ValueError`` unless ``allow_unknown=True``
        (then its parameters are only checked to be JSON); a near miss of a known action
        (``"setcurrenturl"``) is always refused, since it would skip that action's checks.
        ``source`` says who sends it, as the log and ``on_instruction`` show it: ``"python"``
        (code in a cell), ``"agent"`` (a model's tool call) or ``"mcp"`` (the MCP endpoint).
        """
        self._instruct(action, params, source, allow_unknown=allow_unknown)

    def end_session(self) -> None:
        """Terminate the session (``endSession``)."""
        self._instruct(protocol.END_SESSION, {})

    def set_mode(self, mode: str | None) -> None:
        """Choose the agent's tool: ``"draw"``, ``"pointer"``, ``"cursor"`` or ``None``."""
        self._instruct(protocol.SET_MODE, {"mode": mode})

    def switch_color(self, color: str | None = None) -> None:
        """Set the agent's color, or without one cycle through the built-in colors."""
        self._instruct(protocol.SWITCH_COLOR, {} if color is None else {"color": color})

    def toggle_audio(self, on: bool) -> None:
        """Turn the audio call on (``True``) or off (``False``)."""
        self._instruct(protocol.TOGGLE_AUDIO, {"on": on})

    def toggle_video(self) -> None:
        """Toggle video streaming."""
        self._instruct(protocol.TOGGLE_VIDEO, {})

    def set_muted(self, muted: bool) -> None:
        """Mute (``True``) or unmute (``False``) the agent's audio."""
        self._instruct(protocol.SET_MUTED, {"muted": muted})

    def begin_video(self) -> None:
        """Begin video streaming."""
        self._instruct(protocol.BEGIN_VIDEO, {})

    def end_video(self) -> None:
        """End video streaming."""
        self._instruct(protocol.END_VIDEO, {})

    def force_refresh(self) -> None:
        """Force a refresh of the session."""
        self._instruct(protocol.FORCE_REFRESH, {})

    def history_back(self) -> None:
        """Navigate back in the visitor's history."""
        self._instruct(protocol.HISTORY_BACK, {})

    def history_forward(self) -> None:
        """Navigate forward in the visitor's history."""
        self._instruct(protocol.HISTORY_FORWARD, {})

    def reload_page(self) -> None:
        """Reload the visitor's current page."""
        self._instruct(protocol.RELOAD_PAGE, {})

    def request_control(self) -> None:
        """Ask the visitor for control of the session."""
        self._instruct(protocol.REQUEST_CONTROL, {})

    def request_full_tab(self) -> None:
        """Ask for full-tab control."""
        self._instruct(protocol.REQUEST_FULL_TAB, {})

    def run_console_command(self, command: str) -> None:
        """Run a JavaScript command in the visitor's console."""
        self._instruct(protocol.RUN_CONSOLE_COMMAND, {"command": command})

    def send_custom_message(self, message: dict[str, Any]) -> None:
        """Send a JSON object to the visitor's SDK."""
        self._instruct(protocol.SEND_CUSTOM_MESSAGE, {"message": message})

    def set_active_connection(self, connection_id: str) -> None:
        """View another visitor connection (tab), by an id from :attr:`connections`."""
        self._instruct(protocol.SET_ACTIVE_CONNECTION, {"connection_id": connection_id})

    def set_current_url(self, url: str) -> None:
        """Navigate the visitor's page to an absolute ``http:``/``https:`` URL."""
        self._instruct(protocol.SET_CURRENT_URL, {"url": url})

    def stop_full_tab(self) -> None:
        """Stop full-tab control."""
        self._instruct(protocol.STOP_FULL_TAB, {})

    def emoji_confetti(self, emoji: str) -> None:
        """Rain confetti of ``emoji`` on the visitor's page."""
        self._instruct(protocol.EMOJI_CONFETTI, {"emoji": emoji})
