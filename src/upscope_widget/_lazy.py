"""Modules loaded on first use rather than on ``import upscope_widget``.

pydantic and the protocol's models take about as long to import as anywidget itself; a
notebook that only imports the package should not wait for them. They load with the first
session, in the thread that makes it (``UpscopeSession.__init__`` calls :func:`load_now`), so
no comm thread ever races the load.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """Return the module ``name``, to be executed when one of its attributes is first read."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:  # pragma: no cover - our own module is there
        raise ImportError(f"cannot find module {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


def load_now(module: ModuleType) -> None:
    """Run a lazy module's code now, in this thread (reading any attribute of it does)."""
    vars(module)
