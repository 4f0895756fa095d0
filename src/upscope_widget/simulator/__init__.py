"""A simulated Upscope agent view, for working without an Upscope account.

``build_page(SimulatorOptions(...))`` returns one self-contained HTML page that behaves like
Upscope's embedded agent view (events, state snapshots, answers to the 20 instructions);
``SimulatorControl`` scripts the simulated visitor and service from Python.
"""

from ._control import CONTROL_ACTIONS, CONTROL_PREFIX, REPLAY_ACTIONS, SimulatorControl
from ._page import DEFAULT_VISITOR, SimulatorOptions, build_page

__all__ = [
    "CONTROL_ACTIONS",
    "CONTROL_PREFIX",
    "DEFAULT_VISITOR",
    "REPLAY_ACTIONS",
    "SimulatorControl",
    "SimulatorOptions",
    "build_page",
]
