"""The scenario file's JSON Schema: generated from the schema, shipped beside the scenarios, and right.

Editors check scenario files against it, so it must accept every valid file
(a file that is refused in the editor but runs is as bad as the reverse) and
refuse the mistakes it can see: unknown keys, numbers out of range.
"""

from __future__ import annotations

import json
import tomllib

import pytest
from conftest import REPO, SCENARIOS
from generated import scenario_dicts
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from sim.cli import main
from sim.scenario import Scenario
from sim.scenario.jsonschema import json_schema

SHIPPED = REPO / "scenarios" / "trappesim.schema.json"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_shipped_schema_is_the_generated_one(capsys):
    """It cannot drift: the file in scenarios/ is what ``trappesim schema`` prints today."""
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed) == json_schema()
    assert SHIPPED.read_text(encoding="utf-8") == printed, (
        "run: trappesim schema --out scenarios/trappesim.schema.json --force"
    )


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_scenario_points_to_the_schema_and_passes_it(path, validator):
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "#:schema ./trappesim.schema.json"
    errors = [e.message for e in validator.iter_errors(tomllib.loads(text))]
    assert errors == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario_dicts())
def test_every_valid_generated_scenario_passes_the_schema(data, validator):
    """Scenarios Trappesim accepts, across the whole schema, are accepted by the editor too."""
    Scenario.from_dict(data)  # valid by construction; the check says so if the generator drifts
    assert [e.message for e in validator.iter_errors(data)] == []


@pytest.mark.parametrize(
    "change, where",
    [
        ({"horizon_years": -3}, "horizon_years"),
        ({"steps": {"home": {"cost_per_yaer": 1.0}}}, "cost_per_yaer"),
        ({"population": {"leaving_age": "18"}}, "leaving_age"),
        ({"steps": {"home": {"duration": {"dist": "gamma", "mean_years": 2}}}}, "duration"),
        (
            {"intervention": {"cost_per_year": {"dist": "gamma", "mean": 1, "sd": 1, "mode": 2}}},
            "cost_per_year",
        ),
        ({"language": "de"}, "language"),
    ],
)
def test_mistakes_an_editor_can_see_are_refused(change, where, validator):
    errors = list(validator.iter_errors(change))
    assert errors, f"{change} passed"
    assert any(where in json.dumps(list(e.absolute_path)) + e.message for e in errors)


def test_an_extending_file_and_uncertain_numbers_pass(validator):
    """No key is required (a file that extends another may leave anything out), and a number may be a distribution."""
    strategy = {
        "extends": "denmark-baseline.toml",
        "intervention": {
            "cost_per_year": {"dist": "gamma", "mean": 470_000, "sd": 60_000},
            "hazard_ratios": {"home": {"foster": {"dist": "lognormal", "median": 0.85, "p95": 1.0}}},
        },
    }
    assert list(validator.iter_errors(strategy)) == []


def test_schema_out_writes_the_file_and_never_replaces_one_silently(tmp_path, capsys):
    target = tmp_path / "s.json"
    assert main(["schema", "--out", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == json_schema()
    assert main(["schema", "--out", str(target)]) == 2
    assert "exists; add --force" in capsys.readouterr().err
    assert main(["schema", "--out", str(target), "--force"]) == 0
