"""The API reference shows every public method of the session, the mixins' ones included.

``docs/api/session.md`` lists the methods that ``UpscopeSession`` takes from its two mixins
(mkdocstrings would otherwise leave out all inherited members, or show AnyWidget's too).
A method added to a mixin but not to that list would vanish from the reference.
"""

from __future__ import annotations

import re
from pathlib import Path

from upscope_widget._features import FeatureMethods
from upscope_widget._instructions import InstructionMethods

PAGE = Path(__file__).resolve().parents[2] / "docs" / "api" / "session.md"


def _public(cls: type) -> set[str]:
    return {name for name in vars(cls) if not name.startswith("_")}


def test_the_session_reference_lists_every_mixin_method() -> None:
    text = PAGE.read_text(encoding="utf-8")
    listed = text.split("inherited_members:", 1)[1]
    names = set(re.findall(r"^\s+- (\w+)$", listed, re.M))
    expected = _public(InstructionMethods) | _public(FeatureMethods)
    assert len(expected) == 31
    assert names == expected, (
        f"missing from {PAGE.name}: {sorted(expected - names)}; "
        f"not methods of the mixins: {sorted(names - expected)}"
    )


ROOT = PAGE.parents[2]
PATH_IN_DOCSTRING = re.compile(r"``([A-Za-z0-9_.-]+/[A-Za-z0-9_./-]*)``")


def test_every_path_the_source_points_readers_to_exists() -> None:
    """A path quoted in the package's source (``js/protocol.ts``) is in the repository."""
    package = ROOT / "src" / "upscope_widget"
    missing = []
    quoted = 0
    for path in package.rglob("*.py"):
        for name in PATH_IN_DOCSTRING.findall(path.read_text(encoding="utf-8")):
            quoted += 1
            if not any((base / name).exists() for base in (ROOT, package, path.parent)):
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert quoted >= 5
    assert missing == []
