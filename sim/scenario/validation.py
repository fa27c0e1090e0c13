"""Errors a user can act on: unknown keys with a hint, pydantic's errors with key paths."""

from __future__ import annotations

import difflib
import functools
import re
import types
import typing
from typing import Annotated, Any, Union

from pydantic import BaseModel, ValidationError

from sim.errors import DistributionError, ScenarioError
from sim.scenario.distributions import Uncertain, check

# ---------------------------------------------------------------------------
# Errors: unknown keys with a hint, pydantic errors with key paths
# ---------------------------------------------------------------------------


def _take_distributions(data: Any, file: str, path: str = "") -> tuple[Any, list[Uncertain]]:
    """Replace every distribution table by its mean; return the distributions found.

    A table with a ``dist`` key is a distribution, except a step's
    ``duration`` (whose ``dist`` names the duration law).
    """
    found: list[Uncertain] = []
    if not isinstance(data, dict):
        return data, found
    for key, value in list(data.items()):
        if not isinstance(value, dict):  # not a table: no path made (this runs at every validation)
            continue
        key_path = f"{path}.{key}" if path else key
        if "dist" in value and not _is_duration(key_path):
            try:
                check(value)
            except DistributionError as err:
                raise ScenarioError(file, key_path, str(err)) from None
            u = Uncertain(key_path, dict(value))
            data[key] = u.central()
            found.append(u)
        else:
            data[key], inner = _take_distributions(value, file, key_path)
            found += inner
    return data, found


def _is_duration(key_path: str) -> bool:
    """Whether a key is a step's ``duration`` (whose ``dist`` names the duration law)."""
    parts = key_path.split(".")
    return len(parts) == 3 and parts[0] == "steps" and parts[2] == "duration"


def _model_in(annotation: Any) -> tuple[str, Any] | None:
    """Find ``("model", M)`` or ``("dict", M)`` for a field's annotation."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("model", annotation)
    if origin is dict:
        inner = _model_in(typing.get_args(annotation)[1])
        if inner and inner[0] == "model":
            return ("dict", inner[1])
        return None
    if origin in (Union, types.UnionType):
        models = [m for a in typing.get_args(annotation) if (m := _model_in(a)) is not None]
        if len(models) == 1:
            return models[0]
    return None


@functools.lru_cache(maxsize=1024)
def _field_model(model: type[BaseModel], key: str) -> tuple[str, Any] | None:
    """:func:`_model_in` of a model's field, kept: a class's fields are fixed, and every validation asks."""
    return _model_in(model.model_fields[key].annotation)


def _check_unknown_keys(model: type[BaseModel], data: Any, file: str, path: str) -> None:
    if not isinstance(data, dict):
        return
    fields = model.model_fields
    for key, value in data.items():
        key_path = f"{path}.{key}" if path else key
        if key not in fields:
            allowed = sorted(fields)
            hint = difflib.get_close_matches(key, allowed, n=1)
            did = f" Did you mean '{hint[0]}'?" if hint else ""
            raise ScenarioError(
                file,
                key_path,
                f"unknown key.{did} Allowed here: {', '.join(allowed)}.",
            )
        found = _field_model(model, key)
        if found is None:
            continue
        kind, sub = found
        if kind == "model":
            _check_unknown_keys(sub, value, file, key_path)
        elif isinstance(value, dict):
            for name, item in value.items():
                _check_unknown_keys(sub, item, file, f"{key_path}.{name}")


def _step_named_wrong(loc: list[str], data: dict, file: str) -> ScenarioError | None:
    """A required key missing under a step name that is a typo of a real one, said as the typo.

    ``[population.initial_stock.netwrok]`` lacks ``age_shares`` and ``[steps.instituion]``
    (with only a cost) lacks ``name_da``, but the mistake is the step's name.
    """
    steps = data.get("steps") if isinstance(data.get("steps"), dict) else {}
    if len(loc) >= 3 and loc[0] == "steps":
        name, others = loc[1], [k for k in steps if k != loc[1]]
        hint = difflib.get_close_matches(name, others, n=1)
        if hint:
            return ScenarioError(
                file,
                f"steps.{name}",
                f"a new step '{name}' (it has no {loc[2]}). Did you mean the step '{hint[0]}'? "
                f"A new step needs name_da, name_en and its other keys.",
            )
    if len(loc) >= 4 and loc[:2] == ["population", "initial_stock"] and loc[2] not in steps:
        hint = difflib.get_close_matches(loc[2], list(steps), n=1)
        did = f" Did you mean '{hint[0]}'?" if hint else ""
        return ScenarioError(
            file,
            f"population.initial_stock.{loc[2]}",
            f"unknown step '{loc[2]}'.{did} Allowed: {', '.join(steps)}.",
        )
    return None


def _from_pydantic(err: ValidationError, file: str, data: dict | None = None) -> ScenarioError:
    first = err.errors()[0]
    # Drop pydantic's internal union/discriminator tags from the path.
    loc = [
        str(p)
        for p in first["loc"]
        if not (
            isinstance(p, str)
            and ("[" in p or p in {"float", "int", "dict", "constrained-float", "constrained-int"})
        )
    ]
    msg = first["msg"]
    ctx = first.get("ctx", {})
    kind = first["type"]
    friendly = {
        "greater_than_equal": "must be at least {ge:g}",
        "greater_than": "must be above {gt:g}",
        "less_than_equal": "must be at most {le:g}",
        "less_than": "must be below {lt:g}",
        "float_type": "must be a number",
        "int_type": "must be a whole number (no decimals, no quotes)",
        "bool_type": "must be true or false",
        "string_type": "must be text in quotes",
        "finite_number": "must be a finite number",
    }
    if kind in friendly:
        msg = friendly[kind].format(**ctx)
    if kind == "missing":
        msg = "required key is missing"
        wrong = _step_named_wrong(loc, data or {}, file)
        if wrong is not None:
            return wrong
    if loc and loc[-1] == "places" and kind in ("int_type", "literal_error"):
        msg = 'must be a whole number of places, or "unlimited"'
    elif kind == "union_tag_invalid":
        msg = "unknown duration 'dist'; allowed: exponential, mixture, weibull, lognormal"
    given = first.get("input")
    if kind != "missing" and not isinstance(given, dict | list):
        msg += f" (got {given!r})"
    if kind == "literal_error" and isinstance(given, str):
        # A payer, a queue, a language: say which one was meant.
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = difflib.get_close_matches(given, allowed, n=1, cutoff=0.5)
        if hint:
            msg += f". Did you mean '{hint[0]}'?"
    if kind == "float_type" and isinstance(given, str) and given.strip().lower() in ("inf", "infinity"):
        msg += "; write inf without quotes for a value that never ends"
    return ScenarioError(file, ".".join(loc), msg)
