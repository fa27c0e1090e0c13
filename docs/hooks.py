"""MkDocs hook: the reference pages written from the code at build time, so they cannot drift.

A page asks for a generated part with a marker on a line of its own:

- ``<!-- trappesim:scenario-file -->``: every table and key of the scenario
  file, walked from the pydantic models in :mod:`sim.scenario.schema` (type,
  default and allowed range from the annotations and ``Field`` constraints;
  meaning and unit from the docstring under each field);
- ``<!-- trappesim:cli -->``: every command and option, from
  :func:`sim.cli.build_parser`;
- ``<!-- trappesim:plausible -->`` and ``<!-- trappesim:limits -->``: the
  plausible ranges and hard limits, from :mod:`sim.scenario.plausibility`.
"""

from __future__ import annotations

import argparse
import re
import types
import typing
from typing import Any, Literal, Union

import annotated_types as at
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

MARKERS = ("scenario-file", "cli", "plausible", "limits")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for name in MARKERS:
        marker = f"<!-- trappesim:{name} -->"
        if marker in markdown:
            markdown = markdown.replace(marker, GENERATORS[name]())
    return markdown


# ---------------------------------------------------------------------------
# The scenario file
# ---------------------------------------------------------------------------

PLACEHOLDER = {
    "steps": "<step>",
    "initial_stock": "<step>",
    "extra_places": "<step>",
    "outcomes": "<outcome>",
    "transitions": "<from>",
    "hazard_ratios": "<from>",
}
"""What stands for the free-named key of a table of tables (``steps.<step>``)."""


def _constraints(metadata: list) -> list[str]:
    out = []
    for m in metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(m, attr, None)
            if isinstance(m, at.BaseMetadata) and value is not None:
                out.append(f"{sign} {value:g}" if isinstance(value, float) else f"{sign} {value}")
        if getattr(m, "min_length", None):
            out.append(f"at least {m.min_length} item")
    return out


def _split(tp: Any) -> tuple[Any, list]:
    """A type without its ``Annotated`` wrapper, and the wrapper's constraints."""
    meta: list = []
    while typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        tp, extra = args[0], args[1:]
        for m in extra:
            meta.extend(getattr(m, "metadata", []) or [m])
    return tp, meta


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _options(tp: Any) -> list[Any]:
    tp, _ = _split(tp)
    if typing.get_origin(tp) in (Union, types.UnionType):
        return [o for a in typing.get_args(tp) for o in _options(a)]
    return [tp]


KEYS = {
    "transitions": ("from-step", "to-step or `closed`", "age band"),
    "hazard_ratios": ("from-step", "to-step or `closed`"),
    "moves": ("to-step or `closed`",),
    "entry_age_shares": ("age band",),
    "age_shares": ("age band",),
    "entry_step_shares": ("step",),
    "share": ("step",),
    "cost_per_year": ("step", "age band"),
    "index": ("year",),
}
"""What the keys of a table of numbers are, level by level (``transitions.<from>.<to>``)."""


def _type_text(tp: Any, keys: tuple[str, ...] = (), meta: list | None = None) -> str:
    """The type in words, with its constraints: ``number ≥ 0``, ``table: step → number ≥ 0, ≤ 1``."""
    tp, inner = _split(tp)
    meta = [*(meta or []), *inner]
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        parts = [_type_text(a, keys, meta) for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    cons = _constraints(meta)
    suffix = (" " + ", ".join(cons)) if cons else ""
    if origin is Literal:
        values = [f"`{v!r}`".replace("'", '"') for v in typing.get_args(tp)]
        return values[0] if len(values) == 1 else "one of " + ", ".join(values)
    if origin is dict:
        key, value = typing.get_args(tp)
        key, _ = _split(key)
        if typing.get_origin(key) is Literal:
            words = " / ".join(f"`{v}`" for v in typing.get_args(key))
        else:
            words = keys[0] if keys else "key"
        return f"table: {words} → {_type_text(value, keys[1:])}"
    if origin is tuple:
        return f"list of {_type_text(typing.get_args(tp)[0])}{suffix}"
    if _is_model(tp):
        return "table"
    name = {float: "number", int: "whole number", str: "text", bool: "true or false"}.get(tp, str(tp))
    return name + suffix


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if value is PydanticUndefined and field.default_factory is not None:
        value = field.default_factory()
    if value is None:
        return "none"
    if _is_model(type(value)):
        return "see its table"
    if isinstance(value, tuple) and value and _is_model(type(value[0])):
        return "; ".join(", ".join(f"{k} = {v}" for k, v in v.model_dump().items()) for v in value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(repr(v) for v in value) + "]" if value else "empty"
    if isinstance(value, dict):
        return "empty" if not value else repr(value)
    if isinstance(value, str):
        return f'"{value}"' if value else '"" (empty)'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _meaning(field: Any) -> tuple[str, str]:
    text = " ".join((field.description or "").split())
    text = text.replace("``", "`")
    if " Unit: " in text:
        meaning, unit = text.rsplit(" Unit: ", 1)
        return meaning, unit.rstrip(".")
    return text, ""


def _anchor(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def _cell(text: str) -> str:
    """Text for a table cell: ``|`` escaped, and ``<`` and ``>`` outside code spans."""
    parts = text.replace("|", "\\|").split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _sections(model: type[BaseModel], path: str, out: list[tuple[str, type[BaseModel], str]]) -> None:
    """Every table of the scenario file, in the order a reader meets them."""
    out.append((path, model, ""))
    for name, field in model.model_fields.items():
        sub = f"{path}.{name}" if path else name
        for option in _options(field.annotation):
            if _is_model(option):
                if option.model_fields.get("dist") is not None:  # a duration law
                    dist = typing.get_args(option.model_fields["dist"].annotation)[0]
                    out.append((sub, option, dist))
                else:
                    _sections(option, sub, out)
            elif typing.get_origin(option) is tuple and _is_model(typing.get_args(option)[0]):
                _sections(typing.get_args(option)[0], f"{sub}[]", out)
            elif typing.get_origin(option) is dict:
                value = typing.get_args(option)[1]
                for inner in _options(value):
                    if _is_model(inner):
                        _sections(inner, f"{sub}.{PLACEHOLDER.get(name, '<key>')}", out)


def _field_type(path: str, name: str, field: Any) -> str:
    options = _options(field.annotation)
    sub = f"{path}.{name}" if path else name
    if name == "duration":
        return "table with `dist` (see the duration tables below)"
    if any(_is_model(o) for o in options):
        return f"table ([`[{sub}]`](#{_anchor(sub)}))"
    for o in options:
        if typing.get_origin(o) is dict and any(_is_model(i) for i in _options(typing.get_args(o)[1])):
            inner = f"{sub}.{PLACEHOLDER.get(name, '<key>')}"
            return f"tables ([`[{inner}]`](#{_anchor(inner)}))"
        if typing.get_origin(o) is tuple and _is_model(typing.get_args(o)[0]):
            return f"list of tables ([`[[{sub}]]`](#{_anchor(sub)}))"
    return _type_text(field.annotation, KEYS.get(name, ()), list(field.metadata))


def scenario_file() -> str:
    from sim.scenario.schema import Scenario

    sections: list[tuple[str, type[BaseModel], str]] = []
    _sections(Scenario, "", sections)
    lines: list[str] = []
    for path, model, dist in sections:
        if path.endswith("[]"):
            title = f"`[[{path[:-2]}]]` (each item of the list)"
        else:
            title = f'`[{path}]` with `dist = "{dist}"`' if dist else (f"`[{path}]`" if path else "Top level")
        anchor = _anchor(f"{path}-{dist}" if dist else path or "top-level")
        lines += [f"### {title} {{#{anchor}}}", ""]
        doc = " ".join((model.__doc__ or "").split()).replace("``", "`")
        if doc and not doc.startswith("A validated, immutable"):
            lines += [doc, ""]
        lines += ["| key | type and allowed values | unit | default | meaning |", "|---|---|---|---|---|"]
        for name, field in model.model_fields.items():
            meaning, unit = _meaning(field)
            lines.append(
                f"| `{name}` | {_cell(_field_type(path, name, field))} | {_cell(unit)} "
                f"| {_cell(_default(field))} | {_cell(meaning)} |"
            )
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _option_rows(parser: argparse.ArgumentParser) -> list[str]:
    formatter = parser._get_formatter()
    rows = ["| argument | meaning | default |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        if action.option_strings:
            names = ", ".join(f"`{o}`" for o in action.option_strings)
            if action.nargs != 0:
                names += f" `{formatter._format_args(action, action.dest.upper())}`"
        else:
            names = f"`{formatter._format_args(action, action.dest.upper())}`"
        help_text = formatter._expand_help(action) if action.help else ""
        if action.required and action.option_strings:
            help_text += " (required)"
        default = action.default
        shown = (
            ""
            if default in (None, False, [], argparse.SUPPRESS) or not action.option_strings
            else f"`{default}`"
        )
        rows.append(f"| {names} | {_cell(help_text)} | {shown} |")
    return rows


def cli() -> str:
    from sim.cli import build_parser

    parser = build_parser()
    subs = _subparsers(parser)
    lines = ["```text", parser.format_usage().strip(), "```", ""]
    lines += ["| command | what it does |", "|---|---|"]
    helps = {
        a.dest: a.help
        for a in next(
            a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        )._get_subactions()
    }
    lines += [f"| [`{name}`](#trappesim-{name}) | {_cell(helps.get(name) or '')} |" for name in subs]
    lines += [
        "",
        "`trappesim --version` prints the version; `trappesim COMMAND --help` prints a command's options.",
        "",
    ]
    for name, sub in subs.items():
        text = _cell(helps.get(name) or "")
        lines += [
            f"## `trappesim {name}` {{#trappesim-{name}}}",
            "",
            # The first letter up, the rest as written (str.capitalize would write "json schema", "npv").
            text[:1].upper() + text[1:] + ".",
            "",
        ]
        lines += ["```text", " ".join(sub.format_usage().split()).removeprefix("usage: "), "```", ""]
        lines += _option_rows(sub)
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Plausible ranges and hard limits
# ---------------------------------------------------------------------------


def plausible() -> str:
    from sim.scenario import plausibility as P

    return P.markdown_table(P.PLAUSIBLE)


def limits() -> str:
    from sim.scenario import plausibility as P

    return P.markdown_table(P.LIMITS)


GENERATORS = {"scenario-file": scenario_file, "cli": cli, "plausible": plausible, "limits": limits}
