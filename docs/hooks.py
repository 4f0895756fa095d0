"""Build-time code for the documentation site (loaded by mkdocs.yml); documentation from the code.

- An MkDocs hook: the protocol's tables, generated at build time. A page asks for a table with a
  marker comment on a line of its own, e.g. ``<!-- generated:state -->``, replaced by a Markdown
  table built from ``upscope_widget.protocol``, the session's traits and
  ``upscope_widget.errors``. So the mapping of wire names to Python names is written once, in the
  code, and the build fails (``mkdocs build --strict``) when it cannot be made, e.g. a documented
  instruction without its method.
- The names a page quotes in `code` must exist in the code: a page that carries
  ``<!-- check-names -->`` (the architecture page) fails the strict build when it names a
  function, constant, field or file that ``js/`` and ``src/`` do not have.
- Two griffe extensions for the API reference (mkdocstrings' python handler):
  a trait's ``help=`` text is its docstring (the session's traits are documented once, in their
  ``help=``, which traitlets also shows in ``session.traits()``; without this, mkdocstrings would
  not list them at all); and docstrings written for ``help()`` and editors read well as
  Markdown: Sphinx roles (``:attr:`state```) as plain code (`` `state` ``), bare doctests as
  code blocks.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import griffe
from pydantic import BaseModel
from pydantic.alias_generators import to_snake

from upscope_widget import UpscopeSession, protocol
from upscope_widget.errors import ERROR_DESCRIPTIONS

_MARKER = re.compile(r"^<!-- generated:([a-z-]+) -->$", re.M)
_CHECK_NAMES = "<!-- check-names -->"
_ROOT = Path(__file__).resolve().parents[1]
_SOURCES = ("js", "src/upscope_widget")
# mkdocs counts warnings of loggers under "mkdocs": in strict mode, each fails the build
_LOG = logging.getLogger("mkdocs.hooks.upscope")
_SESSION = "upscope_widget.UpscopeSession"
_ROLE = re.compile(r":(?:attr|meth|class|func|data|exc|mod|obj):`~?([^`]+)`")


def plain_roles(text: str) -> str:
    """``:attr:`state``` -> `` `state` ``: Markdown has no Sphinx roles."""
    return _ROLE.sub(r"`\1`", text)


def _row(*cells: str) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return "\n".join([_row(*head), "|" + "---|" * len(head), *(_row(*r) for r in rows)])


def _first_line(doc: str | None) -> str:
    return plain_roles((doc or "").strip().split("\n\n", 1)[0].replace("\n", " "))


def state_table() -> str:
    """One row per state property: the trait, its wire name, its help text."""
    traits = UpscopeSession.class_traits()
    rows = []
    for name, wire in protocol.STATE_FIELDS.items():
        if name not in traits:
            raise ValueError(f"state property {wire!r} has no trait {name!r} on UpscopeSession")
        rows.append((f"[`{name}`][{_SESSION}.{name}]", f"`{wire}`", str(traits[name].help or "")))
    return _table(("trait", "wire property", "meaning"), rows)


def instructions_table() -> str:
    """One row per documented instruction: the method, the wire action, its parameters."""
    rows = []
    for action, model in protocol.INSTRUCTION_PARAMS.items():
        method = to_snake(action)
        function = getattr(UpscopeSession, method, None)
        if not callable(function):
            raise ValueError(f"instruction {action!r} has no method UpscopeSession.{method}")
        params = ", ".join(
            f"`{field.alias or name}`" + ("" if field.is_required() else " (optional)")
            for name, field in model.model_fields.items()
        )
        rows.append((
            f"[`{method}()`][{_SESSION}.{method}]",
            f"`{action}`",
            params or "-",
            _first_line(function.__doc__),
        ))
    return _table(("method", "wire action", "wire parameters", "what it does"), rows)


def events_table() -> str:
    """One row per event type: the wire type, its model, its fields."""
    models: list[type[BaseModel]] = [
        protocol.StateUpdateEvent,
        protocol.SessionEndedEvent,
        protocol.CustomMessageEvent,
        protocol.ErrorEvent,
    ]
    types = {model.model_fields["type"].default: model for model in models}
    if set(types) != set(protocol.EVENT_TYPES):
        raise ValueError(f"event models {sorted(types)} differ from {protocol.EVENT_TYPES}")
    rows = []
    for wire, model in types.items():
        fields = ", ".join(f"`{n}`" for n in model.model_fields if n != "type")
        rows.append((
            f"`{wire}`",
            f"[`{model.__name__}`][upscope_widget.{model.__name__}]",
            fields,
            _first_line(model.__doc__).split(": ", 1)[-1],
        ))
    return _table(("wire type", "model", "fields", "meaning"), rows)


def errors_table() -> str:
    """One row per documented error code, with the sentence users see."""
    rows = [(f"`{code}`", description) for code, description in ERROR_DESCRIPTIONS.items()]
    return _table(("code", "what it means"), rows)


TABLES: dict[str, Callable[[], str]] = {
    "state": state_table,
    "instructions": instructions_table,
    "events": events_table,
    "errors": errors_table,
}


def _source_words() -> set[str]:
    words: set[str] = set()
    for top in _SOURCES:
        for path in (_ROOT / top).rglob("*"):
            if path.suffix in (".ts", ".py"):
                words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path.read_text()))
    return words


def _source_files() -> set[str]:
    return {p.name for top in _SOURCES for p in (_ROOT / top).rglob("*") if p.is_file()}


def missing_names(markdown: str) -> list[str]:
    """Return the names quoted in `code` (outside code blocks) that the sources lack.

    A quoted span counts from its leading name: ``Bridge.pump`` checks ``Bridge`` and ``pump``;
    ``_owner = A`` checks ``_owner``. A span with a ``/`` or a file suffix is a path, checked
    against the repository (or, a bare file name, against the sources' file names).
    """
    words, files = _source_words(), _source_files()
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    missing = []
    for span in sorted(set(re.findall(r"`([^`\n]+)`", text))):
        if re.fullmatch(r"[\w./-]+\.(py|ts|md|json|toml|yml)|[\w.-]+(/[\w.-]+)*/", span):
            if not ((_ROOT / span).exists() or span in files):
                missing.append(span)
            continue
        lead = re.match(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(?=$|[ (\[{=])", span)
        if lead is None or "*" in span:
            continue
        missing.extend(f"{part} (in `{span}`)" for part in lead.group(0).split(".")
                       if part not in words)
    return missing


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Replace each ``<!-- generated:NAME -->`` line with its table; check quoted names."""
    if _CHECK_NAMES in markdown:
        for name in missing_names(markdown):
            _LOG.warning("%s names %s, which is nowhere in %s: the page and the code must use "
                         "the same names", page.file.src_uri, name, " or ".join(_SOURCES))

    def table(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in TABLES:
            raise ValueError(
                f"{page.file.src_uri}: no generated table {name!r}; known: {sorted(TABLES)}"
            )
        return TABLES[name]()

    return _MARKER.sub(table, markdown)


# --- griffe extensions (API reference) ---------------------------------------------------------


def _trait_call(value: ast.AST) -> tuple[str, str] | None:
    """``(help text, the trait's type name)`` of ``Type(..., help="...")``, else None."""
    for node in ast.walk(value):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if (
                    keyword.arg == "help"
                    and isinstance(keyword.value, ast.Constant)
                    and isinstance(keyword.value.value, str)
                ):
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    return keyword.value.value, name
    return None


class TraitHelpAsDocstring(griffe.Extension):
    """Give every class attribute assigned ``Something(help="...")`` that text as docstring.

    The trait's construction code is not shown (its ``help=`` is the docstring now); a trait
    that mirrors the session's state (a ``SessionTrait``) is labelled read-only.
    """

    def on_attribute_instance(
        self, *, node: ast.AST | griffe.ObjectNode, attr: griffe.Attribute, **kwargs: Any
    ) -> None:
        """Set the docstring of a trait that has none from its ``help=``."""
        if attr.docstring is not None or not isinstance(node, ast.Assign | ast.AnnAssign):
            return
        if node.value is None or not isinstance(attr.parent, griffe.Class):
            return
        found = _trait_call(node.value)
        if found:
            text, kind = found
            attr.docstring = griffe.Docstring(text, lineno=node.lineno, parent=attr)
            attr.value = None
            attr.labels.clear()
            attr.labels.add("trait")
            if kind == "SessionTrait":
                attr.labels.add("read-only")


def markdown_docstring(text: str) -> str:
    """Sphinx roles as code, and bare doctest paragraphs (``>>>``) as fenced ``pycon`` blocks."""
    lines, out, fenced = plain_roles(text).split("\n"), [], False
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        fenced ^= stripped.startswith("```")
        if fenced:
            out.append(line)
            continue
        indent = line[: len(line) - len(stripped)]
        doctest = stripped.startswith((">>> ", "... "))
        before = lines[i - 1].lstrip().startswith((">>> ", "... ")) if i else False
        after = i + 1 < len(lines) and lines[i + 1].lstrip().startswith((">>> ", "... "))
        if doctest and not before:
            out.append(indent + "```pycon")
        out.append(line)
        if doctest and not after:
            out.append(indent + "```")
    return "\n".join(out)


class MarkdownDocstrings(griffe.Extension):
    """Docstrings written for ``help()`` and editors, made readable as Markdown."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, once the whole tree is loaded."""
        if obj.docstring is not None:
            obj.docstring.value = markdown_docstring(obj.docstring.value)
