"""A simulated Upscope agent view, for working without an Upscope account.

``build_page(SimulatorOptions(...))`` returns one self-contained HTML page that behaves like
Upscope's embedded agent view (events, state snapshots, answers to the 20 instructions);
``SimulatorControl`` scripts the simulated visitor and service from Python.
"""

from ._control import CONTROL_ACTIONS, CONTROL_PREFIX, SimulatorControl
from ._page import DEFAULT_VISITOR, SimulatorOptions, build_page

__all__ = [
    "CONTROL_ACTIONS",
    "CONTROL_PREFIX",
    "DEFAULT_VISITOR",
    "SimulatorControl",
    "SimulatorOptions",
    "build_page",
]
