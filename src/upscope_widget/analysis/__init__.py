"""Analysis of saved sessions: keep (JSON Lines), summarize and plot session logs.

The entry points are methods of :class:`~upscope_widget.SessionLog` (``save``, ``load``,
``concat``, ``summary``, ``plot``, ``replay_states``) and ``UpscopeSession.summary()`` /
``UpscopeSession.replay()``. pandas and matplotlib are needed only for ``to_dataframe()`` and
``plot()``: they come with the ``analysis`` extra (``pip install 'upscope-widget[analysis]'``).
"""

from .store import FORMAT, FORMAT_VERSION
from .summary import LatencyStats, SessionSummary

__all__ = ["FORMAT", "FORMAT_VERSION", "LatencyStats", "SessionSummary"]
