"""The scenario file's JSON Schema, generated from the schema, for editors that complete and check keys.

Editors read it through the first line of a scenario file,
``#:schema ./trappesim.schema.json`` (Even Better TOML in VS Code, Taplo).
It is looser than Trappesim in two ways, on purpose: no key is required (a
file that ``extends`` another may leave out anything), and every number may
be written as a distribution (``{ dist = "gamma", mean = ..., sd = ... }``).
What it cannot see (steps named in transitions exist, shares sum to one, ...)
``trappesim check`` tells.
"""

from __future__ import annotations

import copy
from typing import Any

from sim.scenario.distributions import ALLOWED_KEYS, UNIVARIATE
from sim.scenario.schema import Scenario


def _distribution(dist: str) -> dict[str, Any]:
    """One distribution as a TOML inline table: ``dist`` and its parameters."""
    props: dict[str, Any] = {"dist": {"const": dist}, "source": {"type": "string"}}
    props["bounds"] = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    for key in sorted(ALLOWED_KEYS[dist]):
        # A Dirichlet's mean is a table of shares; every other parameter is a number.
        props[key] = {"type": "object"} if (dist, key) == ("dirichlet", "mean") else {"type": "number"}
    return {"type": "object", "properties": props, "required": ["dist"], "additionalProperties": False}


def _walk(node: Any) -> Any:
    """Let every number be a distribution and every table of shares a Dirichlet; drop ``required``."""
    if isinstance(node, list):
        return [_walk(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _walk(v) for k, v in node.items() if k != "required"}
    if node.get("type") in ("number", "integer"):
        return {"anyOf": [node, {"$ref": "#/$defs/Distribution"}]}
    extra = node.get("additionalProperties")
    if node.get("type") == "object" and isinstance(extra, dict) and "anyOf" in extra:
        return {"anyOf": [node, {"$ref": "#/$defs/Dirichlet"}]}
    return node


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file.

    Returns
    -------
    dict
        Plain data; ``trappesim schema`` prints it as JSON.
    """
    schema = _walk(copy.deepcopy(Scenario.model_json_schema()))
    defs = schema.setdefault("$defs", {})
    defs["Distribution"] = {
        "description": "An uncertain number: runs use its mean, psa draws it.",
        "oneOf": [_distribution(d) for d in UNIVARIATE],
    }
    defs["Dirichlet"] = _distribution("dirichlet")
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Another scenario file (relative to this one) whose keys this file changes.",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Trappesim scenario file",
        **{k: v for k, v in schema.items() if k != "title"},
    }
