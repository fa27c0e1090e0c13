"""Plausible ranges and hard limits: implausible input is flagged before it runs."""

from __future__ import annotations

import copy
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from conftest import INTERVENTION, REPO, SCENARIOS, toy_dict
from generated import scenario_dicts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.cli import main
from sim.outputs.report import key_figures
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.scenario import plausibility as P

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


def cli(*args: object) -> int:
    return main([str(a) for a in args])


def _strategy(folder: Path, text: str, extends: str = "municipality-template.toml") -> Path:
    """A strategy file beside copies of the shipped scenarios, written as a planner would."""
    for f in SHIPPED:
        target = folder / f.name
        if not target.exists():
            target.write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / "plan.toml"
    path.write_text(f'extends = "{extends}"\nname = "plan"\n{text}', encoding="utf-8")
    return path


def _plan(**iv) -> dict:
    return {**copy.deepcopy(INTERVENTION), **iv}


def _keys(findings) -> list[str]:
    return [f.key for f in findings]


# ---------------------------------------------------------------------------
# The shipped scenarios are clean
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_loads_without_a_warning(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", P.PlausibilityWarning)
        scenario = load_scenario(path)
    assert P.check_scenario(scenario, path) == []


PAIRS = [
    ("denmark-baseline", "denmark-early-detection"),
    ("municipality-template", "municipality-early-detection"),
    ("municipality-foster-shortage", "municipality-foster-recruitment"),
    ("municipality-lifetime", "municipality-early-detection-lifetime"),
    ("municipality-uncertain", "municipality-early-detection-uncertain"),
]
"""Each shipped strategy with the baseline it is compared with (README: scenario files)."""


def test_every_shipped_strategy_has_its_pair():
    strategies = {p.stem for p in SHIPPED if load_scenario(p).intervention is not None}
    assert strategies == {plan for _, plan in PAIRS}


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p[1])
def test_every_shipped_pair_differs_only_in_its_intervention(pair):
    base, plan = (SCENARIOS / f"{name}.toml" for name in pair)
    assert P.check_arms(load_scenario(base), load_scenario(plan), base, plan) == []


def test_every_pair_the_readme_runs_is_clean():
    """The README's pairs (the docs' pairs: tests/test_docs.py)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pairs = set(re.findall(r"trappesim \w+ (scenarios/\S+\.toml) (scenarios/\S+\.toml)", readme))
    assert len(pairs) >= 2
    for base, plan in pairs:
        assert P.check_arms(load_scenario(REPO / base), load_scenario(REPO / plan)) == [], (base, plan)


# ---------------------------------------------------------------------------
# The issue's examples
# ---------------------------------------------------------------------------

ISSUE = [
    (
        "[intervention.hazard_ratios.home]\nfoster = 85\n",
        "intervention.hazard_ratios.home.foster",
        "85",
        "0.2-5",
    ),
    (
        "[intervention.entry]\nextra_entries_share = 10\n",
        "intervention.entry.extra_entries_share",
        "10",
        "0-1.2",
    ),
    ("[transitions.home]\nclosed = 33\n", "transitions.home.closed", "33", "0-12 moves per child-year"),
    (
        "[steps.institution]\ncost_per_year = 1.2\n",
        "steps.institution.cost_per_year",
        "1.2",
        "0, or 1,000-5,000,000 DKK per child-year",
    ),
    (
        "[intervention]\ncost_per_year = 1.2\n",
        "intervention.cost_per_year",
        "1.2",
        "0, or 1-20,000 DKK per child in the area",
    ),
]


@pytest.mark.parametrize(("text", "key", "value", "range_"), ISSUE, ids=[i[1] for i in ISSUE])
def test_the_issues_examples_are_flagged_with_file_key_value_and_range(tmp_path, text, key, value, range_):
    head = "[intervention]\nstart_year = 2025\ncost_per_year = 21_000_000\n"
    if text.startswith("[intervention]\n"):
        head, text = "", "[intervention]\nstart_year = 2025\n" + text.split("\n", 1)[1]
    path = _strategy(tmp_path, head + text)
    with pytest.warns(P.PlausibilityWarning) as caught:
        plan = load_scenario(path)
    found = [f for f in P.check_scenario(plan, path) if f.key == key]
    assert len(found) == 1
    line = str(found[0])
    assert line.startswith(f"{path}: key '{key}': value {value}")
    assert f"outside the plausible range {range_}" in line
    assert found[0].bound.reason in line
    assert any(str(w.message) == line for w in caught)


def test_the_issues_strategy_that_gave_minus_107994_placements_avoided_is_flagged(tmp_path):
    path = _strategy(
        tmp_path,
        "[intervention]\nstart_year = 2025\ncost_per_year = 21_000_000\n"
        "[intervention.hazard_ratios.home]\nfoster = 85\n"
        "[intervention.entry]\nextra_entries_share = 10\n",
    )
    with pytest.warns(P.PlausibilityWarning):
        plan = load_scenario(path)
    keys = _keys(P.check_scenario(plan, path))
    assert keys == ["intervention.hazard_ratios.home.foster", "intervention.entry.extra_entries_share"]


def test_a_unit_cost_changed_only_in_the_strategy_is_named_with_both_files_and_values(tmp_path):
    path = _strategy(
        tmp_path,
        "[intervention]\nstart_year = 2025\ncost_per_year = 21_000_000\n"
        "[steps.institution]\ncost_per_year = 1_300_000\n",
    )
    base_path = tmp_path / "municipality-template.toml"
    found = P.check_arms(load_scenario(base_path), load_scenario(path), base_path, path)
    assert _keys(found) == ["steps.institution.cost_per_year"]
    line = str(found[0])
    assert line.startswith(f"{base_path} and {path}: key 'steps.institution.cost_per_year': ")
    assert f"1,160,000 in {base_path}, 1,300,000 in {path}" in line
    assert "counted as the strategy's effect" in line
    assert (found[0].other_value, found[0].value) == (1_160_000, 1_300_000)


def test_arm_differences_cover_rates_prices_payers_and_distributions_but_not_the_intervention(toy):
    dearer = toy.with_changes(
        {
            "name": "other name",
            "title": "other title",
            "intervention": _plan(),
            "transitions.low.closed": 0.9,
            "steps.placed.payers": {"kommune": 0.5, "stat": 0.5},
            "steps.mid.cost_per_year": {"dist": "gamma", "mean": 100_000, "sd": 10_000},
            "discounting.periods": [{"from_year": 0, "rate": 0.03}],
        }
    )
    found = P.check_arms(toy, dearer, "base.toml", "plan.toml")
    assert sorted(_keys(found)) == [
        "discounting.periods",
        "steps.mid.cost_per_year",
        "steps.placed.payers.kommune",
        "steps.placed.payers.stat",
        "transitions.low.closed",
    ]
    by_key = {f.key: str(f) for f in found}
    assert by_key["discounting.periods"].startswith(
        "base.toml and plan.toml: key 'discounting.periods': [{from_year = 0, rate = 0.035}, "
    )
    assert "not given in base.toml, 0.5 in plan.toml" in by_key["steps.placed.payers.stat"]
    assert (
        '100,000 in base.toml, {dist = "gamma", mean = 100,000, sd = 10,000} in plan.toml'
        in (by_key["steps.mid.cost_per_year"])
    )


def test_a_finding_names_the_file_that_writes_the_number(write_scenario):
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = 1.2
    base = write_scenario(d, "base.toml")
    plan = write_scenario({"extends": "base.toml", "name": "plan", "intervention": _plan()}, "plan.toml")
    with pytest.warns(P.PlausibilityWarning, match=re.escape(f"{base}: key 'steps.placed.cost_per_year'")):
        scenario = load_scenario(plan)
    (found,) = P.check_scenario(scenario, plan)
    assert found.file == str(base)


# ---------------------------------------------------------------------------
# Relative bounds and distributions
# ---------------------------------------------------------------------------


def test_places_stock_and_entries_are_measured_against_the_children_in_the_area(toy):
    capped = toy.with_changes({"steps.placed.capacity": {"places": 180, "wait_on": "mid"}})
    assert P.check_scenario(capped) == []
    small = capped.with_changes({"population.children": 1_500})
    found = {f.key: str(f) for f in P.check_scenario(small)}
    assert list(found) == [
        "population.entries_per_year",
        "population.initial_stock.low.children",
        "steps.placed.capacity.places",
    ]  # 150 on 'placed' is 100 per 1,000: at the bound, not beyond
    assert (
        "value 600 (400 per 1,000 of the 1,500 children in population.children) is outside the plausible range 1-150"
        in found["population.entries_per_year"]
    )
    assert (
        "value 300 (200 per 1,000 of the 1,500 children in population.children)"
        in found["population.initial_stock.low.children"]
    )
    assert (
        "value 180 (120 per 1,000 of the 1,500 children in population.children)"
        in found["steps.placed.capacity.places"]
    )


def test_the_programme_cost_is_measured_per_child_in_the_area(toy):
    ok = toy.with_changes({"intervention": _plan(cost_per_year=400 * 20_000)})
    assert P.check_scenario(ok) == []
    lavish = toy.with_changes({"intervention": _plan(cost_per_year=30_000 * 20_000)})
    assert _keys(P.check_scenario(lavish)) == ["intervention.cost_per_year"]
    none = toy.with_changes({"intervention": _plan(cost_per_year=0, one_off_cost=1e6)})
    assert P.check_scenario(none) == []  # 0: no yearly cost (a cost at the start)


def test_a_caseload_and_a_price_factor_are_derived(toy):
    casework = {"caseworkers": 10, "cases": 2_000, "reference_caseload": 48, "cost_per_caseworker": 500_000}
    heavy = toy.with_changes({"casework": casework})
    (found,) = P.check_scenario(heavy)
    assert found.key == "casework.caseworkers"
    assert "a caseload of 200 cases per caseworker" in str(found)
    planned = heavy.with_changes({"intervention": _plan()})
    assert _keys(P.check_scenario(planned)) == ["casework.caseworkers"]  # once, not for 0 extra caseworkers
    lavish = heavy.with_changes({"intervention": _plan(extra_caseworkers=990)})  # 2 cases each
    assert _keys(P.check_scenario(lavish)) == ["casework.caseworkers", "intervention.extra_caseworkers"]
    assert "a caseload of 2 cases per caseworker" in str(P.check_scenario(lavish)[1])
    priced = toy.with_changes(
        {"prices": {"index": {"2024": 100.0, "2010": 30.0}}, "steps.placed.price_year": 2010}
    )
    (found,) = P.check_scenario(priced)
    assert found.key == "steps.placed.price_year"
    assert "value 2,010 (price factor 3.33 to 2024 prices)" in str(found)


def test_an_uncertain_number_is_checked_at_its_1st_and_99th_percentiles(toy):
    tight = toy.with_changes({"steps.placed.cost_per_year": {"dist": "gamma", "mean": 500_000, "sd": 50_000}})
    assert P.check_scenario(tight) == []
    wide = toy.with_changes(
        {"transitions.placed.closed": {"dist": "lognormal", "median": 3.0, "p95": 10.0}}
    )  # its mean is fine, its 99th percentile is not
    (found,) = P.check_scenario(wide)
    assert found.key == "transitions.placed.closed"
    assert "the 99th percentile of its lognormal distribution" in str(found)


def test_money_ranges_apply_to_danish_kroner_only(toy):
    cheap = toy.with_changes({"steps.placed.cost_per_year": 1.2})
    assert _keys(P.check_scenario(cheap)) == ["steps.placed.cost_per_year"]
    assert P.check_scenario(cheap.with_changes({"currency": "EUR"})) == []


def test_with_changes_warns_about_what_it_changes_and_from_dict_is_silent(toy):
    """A researcher's typo in Python (33 for 0.33) is warned about as a file's is; ``from_dict``, which
    also reads results folders back, and searches that set numbers themselves (``warn=False``) are not."""
    with pytest.warns(P.PlausibilityWarning, match="transitions.low.closed"):
        toy.with_changes({"transitions.low.closed": 33.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error", P.PlausibilityWarning)
        toy.with_changes({"transitions.low.closed": 33.0}, warn=False)
        Scenario.from_dict(toy_dict(transitions={**toy_dict()["transitions"], "low": {"closed": 33.0}}))


# ---------------------------------------------------------------------------
# Random values: in range never, far out always
# ---------------------------------------------------------------------------

# (key in the toy with a plan, row); the value is set as written (no relative measure).
_DIRECT = [
    ("transitions.low.closed", "transitions.*.*"),
    ("transitions.mid.placed.6-11", "transitions.*.*"),
    ("intervention.hazard_ratios.mid.placed", "intervention.hazard_ratios.*.*"),
    ("intervention.entry.extra_entries_share", "intervention.entry.extra_entries_share"),
    ("steps.placed.cost_per_year", "steps.*.cost_per_year"),
    ("steps.mid.entry_cost", "steps.*.entry_cost"),
    ("population.children", "population.children"),
]


def _row(pattern: str) -> P.Bound:
    return next(b for b in P.PLAUSIBLE if pattern in b.keys)


_PLANNED = Scenario.from_dict(toy_dict()).with_changes({"name": "plan", "intervention": _plan()})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(_DIRECT),
    where=st.floats(0, 1),
    far=st.floats(2, 1e4),
    below=st.booleans(),
)
def test_random_numbers_in_range_never_warn_and_far_out_always_do(which, where, far, below):
    key, pattern = which
    row = _row(pattern)
    low = max(row.low, 1e-6)
    inside = math.exp(math.log(low) + where * (math.log(row.high) - math.log(low)))  # log-uniform
    inside = min(max(inside, row.low), row.high)  # exp(log(x)) may miss x in the last digit
    if key == "population.children":
        inside = float(round(inside))
    if key.endswith("extra_entries_share") and row.low == 0:
        inside = where * row.high
    changes = {key: int(inside) if key == "population.children" else inside}
    assert key not in _keys(P.check_scenario(_PLANNED.with_changes(changes)))
    hard = min(
        [b.high for b in P.LIMITS if b.measure == "" and any(P._matches(k, key, b.bands) for k in b.keys)],
        default=1e6,  # a hazard ratio's limit is on the rate it scales: 1e9 / 0.3
    )
    if below and row.low > 0:
        out = row.low / far
    else:
        out = min(row.high * far, hard)  # far out, but not refused
    changes = {key: int(out) if key == "population.children" else out}
    if key == "population.children" and changes[key] < 1:
        changes[key] = 1
    assert key in _keys(P.check_scenario(_PLANNED.with_changes(changes)))


# ---------------------------------------------------------------------------
# Hard limits: values that cannot give finite results
# ---------------------------------------------------------------------------

# (key, the hard limit, a value beyond it); the plan is the toy with its strategy.
_CASEWORK = {"caseworkers": 10, "cases": 480, "reference_caseload": 48, "cost_per_caseworker": 500_000}
_LIMIT_CASES = [
    ("steps.placed.cost_per_year", 1e9, 1e308),
    ("steps.mid.entry_cost", 1e9, 2e9),
    ("intervention.cost_per_year", 1e15, 1e16),
    ("intervention.one_off_cost", 1e15, 1e308),
    ("intervention.cost_per_child_reached", 1e9, 1e10),
    ("population.children", 10**9, 10**10),
    ("population.initial_stock.low.children", 10**9, 10**12),
    ("population.entries_per_year", 1e9 / 1.1, 1e12),  # the plan adds 10 %
    ("intervention.entry.extra_entries_share", 1_000, 1e5),
    ("transitions.low.closed", 1e6, 1e300),
    ("transitions.mid.placed.12-17", 1e6, 1e300),
    ("intervention.hazard_ratios.mid.placed", 1e9 / 0.3, 1e300),
    ("discounting.periods.0.rate", -0.1, -0.5),
    ("adult.cost_per_year.placed", 1e9, 1e308),
    ("steps.placed.duration.short_mean_years", 1e-4, 1e-300),
    ("steps.placed.duration.long_mean_years", 1e4, 1e308),
    ("casework.cost_per_caseworker", 1e9, 1e308),
    ("prices.index.2010", 0.1, 1e-300),  # price factor 1,000 at the limit
    ("steps.mid.review.interval_months", 0.01, 1e-300),  # the caseload is the reference: as written
    ("casework.cases", 1e9, 1e10),
]


def _at(key: str, value: float) -> tuple[Scenario, Scenario]:
    base_changes: dict = {
        "steps.placed.duration": {
            "dist": "mixture",
            "short_share": 0.3,
            "short_mean_years": 0.5,
            "long_mean_years": 8,
        },
        "adult": {"cost_per_year": {"placed": 40_000}},
        "casework": dict(_CASEWORK),
        "steps.mid.review": {"interval_months": 6, "moves": {"closed": 0.3}},
        "prices": {"index": {"2024": 100.0, "2010": 80.0}},
        "steps.low.price_year": 2010,
    }
    base = Scenario.from_dict(toy_dict()).with_changes(base_changes)
    iv = _plan(reached_steps=["mid"], cost_per_child_reached=1_000, entry={"extra_entries_share": 0.1})
    changes = {key: int(value) if isinstance(value, int) else value}
    if key.startswith("discounting"):
        changes = {"discounting.periods": [{"from_year": 0, "rate": value}]}
    if key.startswith("intervention"):
        plan = base.with_changes({"name": "plan", "intervention": iv, **changes})
    else:
        if key.startswith("prices"):
            changes = {"prices.index.2010": value, "prices.index.2024": 100.0}
        base = base.with_changes(changes)
        plan = base.with_changes({"name": "plan", "intervention": iv})
    # Validated as a file would be (with_changes leaves hazard ratios to break-even's search).
    return Scenario.from_dict(base.to_dict()), Scenario.from_dict(plan.to_dict())


@pytest.mark.parametrize(("key", "limit", "beyond"), _LIMIT_CASES, ids=[c[0] for c in _LIMIT_CASES])
def test_at_its_hard_limit_a_number_gives_finite_printed_results(key, limit, beyond):
    base, plan = _at(key, limit)
    cmp = sim.compare(base, plan, engine="expected")
    values = cmp.summary["mean"].to_numpy(dtype=float)
    assert np.isfinite(values[~np.isnan(values)]).all()
    assert not np.isnan(cmp.summary.loc["npv", "mean"])
    for lang in ("da", "en"):
        assert key_figures(cmp, lang)["text"].str.len().min() > 0  # the 1e308 crash was here


@pytest.mark.parametrize(("key", "limit", "beyond"), _LIMIT_CASES, ids=[c[0] for c in _LIMIT_CASES])
def test_beyond_its_hard_limit_a_number_is_refused_naming_key_value_and_range(key, limit, beyond):
    with pytest.raises(ScenarioError) as err:
        _at(key, beyond)
    shown = "steps.low.price_year" if key.startswith("prices") else key
    assert err.value.key == shown
    assert "outside the allowed range" in err.value.message
    assert re.search(r"allowed range -?[\d.,e+-]+(( to |-)[\d.,e+-]+| months or more)", err.value.message)


def test_a_distribution_whose_draws_can_reach_beyond_a_hard_limit_is_refused(toy):
    with pytest.raises(ScenarioError, match="a draw of this normal distribution can reach") as err:
        toy.with_changes({"steps.placed.cost_per_year": {"dist": "normal", "mean": 500_000, "sd": 1e300}})
    assert err.value.key == "steps.placed.cost_per_year"
    toy.with_changes({"steps.placed.cost_per_year": {"dist": "gamma", "mean": 500_000, "sd": 200_000}})
    bounded = {"dist": "gamma", "mean": 500_000, "sd": 50_000, "bounds": [400_000, 1e308]}
    with pytest.raises(
        ScenarioError, match="its tornado bounds set it to 1e\\+308, outside the allowed range"
    ):
        toy.with_changes({"steps.placed.cost_per_year": bounded})


def test_a_hazard_ratio_is_limited_with_its_rate_in_files_and_draws(write_scenario, toy):
    d = toy_dict(intervention=_plan(hazard_ratios={"mid": {"placed": 1e300}}))
    path = write_scenario(d, "hr.toml")
    with pytest.raises(ScenarioError, match="moves per child-year on a rate of 0.3") as err:
        load_scenario(path)
    assert (err.value.file, err.value.key) == (str(path), "intervention.hazard_ratios.mid.placed")
    wide = {"dist": "normal", "mean": 0.7, "sd": 1e9}  # its mean is fine, its tail is not
    with pytest.raises(ScenarioError, match="a draw of this normal distribution can reach .* moves per"):
        Scenario.from_dict(toy_dict(intervention=_plan(hazard_ratios={"mid": {"placed": wide}})))


def test_break_even_still_searches_ratios_beyond_the_limit_and_finds_no_break_even(toy):
    from sim.analysis.uncertainty import break_even

    dear = _plan(cost_per_year=5e9, hazard_ratios={"low": {"closed": 2.0}})  # never pays back
    r = break_even(toy, toy.with_changes({"name": "plan", "intervention": dear}), on="effect")
    assert r.value == math.inf  # 2 ** 64 on a rate of 1 is beyond the file limit: searched, not refused


def test_the_effective_review_interval_has_a_hard_limit(toy):
    review = {"interval_months": 6, "moves": {"closed": 0.3}}
    casework = {"caseworkers": 1e6, "cases": 100, "reference_caseload": 48}
    with pytest.raises(ScenarioError, match="months at the caseload") as err:
        toy.with_changes({"steps.mid.review": review, "casework": casework})
    assert err.value.key == "steps.mid.review.interval_months"


def test_1e308_is_refused_through_the_cli_with_exit_2_and_no_folder(write_scenario, tmp_path, capsys):
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = 1e308
    path = write_scenario(d)
    out = tmp_path / "results"
    for command in (["check", path], ["run", path, "--engine", "expected", "--out", out]):
        assert cli(*command) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert f"{path}: key 'steps.placed.cost_per_year': value 1e+308 is outside the allowed range" in err
    assert not out.exists()


# ---------------------------------------------------------------------------
# The command line: warnings first, --strict stops
# ---------------------------------------------------------------------------


def _toy_pair(folder: Path, base_changes: dict | None = None, plan_changes: dict | None = None):
    base = toy_dict()
    for key, value in (base_changes or {}).items():
        node = base
        *head, last = key.split(".")
        for part in head:
            node = node[part]
        node[last] = value
    plan = {"extends": "base.toml", "name": "plan", "intervention": _plan(), **(plan_changes or {})}
    (folder / "base.toml").write_text(tomli_w.dumps(base), encoding="utf-8")
    (folder / "plan.toml").write_text(tomli_w.dumps(plan), encoding="utf-8")
    return folder / "base.toml", folder / "plan.toml"


def test_warnings_come_before_anything_runs_and_strict_stops_with_nothing_written(tmp_path, capsys):
    base, plan = _toy_pair(
        tmp_path,
        {"transitions.low.closed": 33.0},
        {"steps": {"placed": {"cost_per_year": 600_000}}},
    )
    out = tmp_path / "out"
    assert cli("compare", base, plan, "--engine", "expected", "--out", out, "--strict") == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"trappesim: warning: {base}: key 'transitions.low.closed': value 33 is outside the plausible "
        f"range 0-12 moves per child-year ({_row('transitions.*.*').reason})",
        f"trappesim: warning: {base} and {plan}: key 'steps.placed.cost_per_year': 500,000 in {base}, "
        f"600,000 in {plan}: a number outside [intervention] that differs between the arms is counted as "
        "the strategy's effect; give it once, in the baseline (a strategy's changes belong in [intervention])",
        "trappesim: error: --strict: 2 warning(s) above; correct the files (or leave out --strict to run "
        "with them); nothing was run or written",
    ]
    assert not out.exists() and not list(tmp_path.glob(".out*"))
    assert cli("compare", base, plan, "--engine", "expected", "--out", out) == 0
    err = capsys.readouterr().err
    assert err.index("trappesim: warning:") < err.index("trappesim: compare:")
    assert (out / "comparison.csv").is_file()


@pytest.mark.parametrize(
    "command",
    [
        ["check", "{plan}"],
        ["run", "{plan}", "--engine", "expected"],
        ["compare", "{base}", "{plan}", "--engine", "expected"],
        ["psa", "{base}", "{plan}", "--draws", "2", "-w", "1"],
        ["tornado", "{base}", "{plan}"],
        ["sensitivity", "{base}", "{plan}", "-n", "2", "-w", "1"],
        ["breakeven", "{base}", "{plan}"],
        ["calibrate", "{plan}", "--observed", "{observed}", "--fit", "transitions.low.mid"],
    ],
    ids=lambda c: c[0],
)
def test_every_command_that_loads_scenarios_warns_and_takes_strict(tmp_path, capsys, command):
    unc = {"dist": "gamma", "mean": 10_000, "sd": 1_000}
    base, plan = _toy_pair(tmp_path, {"steps.low.cost_per_year": unc, "steps.mid.cost_per_year": unc})
    plan.write_text(
        plan.read_text(encoding="utf-8") + "\n[transitions.low]\nclosed = 33.0\n", encoding="utf-8"
    )
    observed = tmp_path / "observed.csv"
    observed.write_text("year,measure,step,value\n2024,stock_end,low,300\n2025,stock_end,low,280\n")
    args = [a.format(base=base, plan=plan, observed=observed) for a in command]
    out = tmp_path / "out"
    assert cli(*args, "--strict", *([] if args[0] in ("check", "breakeven") else ["--out", out])) == 2
    err = capsys.readouterr().err
    assert f"trappesim: warning: {plan}: key 'transitions.low.closed': value 33 " in err
    assert "trappesim: error: --strict:" in err
    assert not out.exists()


def test_psa_tornado_and_sensitivity_with_nothing_uncertain_exit_2_with_advice(tmp_path, capsys):
    base, plan = _toy_pair(tmp_path)
    for command in ("psa", "tornado", "sensitivity"):
        out = tmp_path / command
        assert cli(command, base, plan, "--out", out) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert f"{command}: no number in either file is given as a distribution" in err
        assert 'dist = "gamma"' in err
        assert not out.exists()


def test_every_row_has_a_reason_and_a_range():
    for row in (*P.PLAUSIBLE, *P.LIMITS):
        assert row.reason and row.low <= row.high and row.keys


def test_files_given_in_the_wrong_order_or_twice_are_warned_about():
    from sim.scenario.plausibility import check_arms

    base = Scenario.from_dict(toy_dict())
    plan = Scenario.from_dict(toy_dict(intervention=INTERVENTION))
    swapped = check_arms(plan, base, "plan.toml", "base.toml")
    assert any("are the two files given in the wrong order" in str(f) for f in swapped)
    twice = check_arms(base, base, "base.toml", "base.toml")
    assert [f.key for f in twice] == ["intervention"]
    assert "the same scenario" in str(twice[0])
    assert not any(f.key == "intervention" for f in check_arms(base, plan, "base.toml", "plan.toml"))


def test_a_price_year_that_relabels_inherited_money_is_warned_about(tmp_path):
    """A planner's price_year = 2024 over the national 2019 costs counted them as 2024 prices."""
    base = toy_dict(price_year=2019)
    (tmp_path / "base.toml").write_text(tomli_w.dumps(base), encoding="utf-8")
    child = 'extends = "base.toml"\nname = "mine"\nprice_year = 2024\n'
    (tmp_path / "mine.toml").write_text(child, encoding="utf-8")
    mine = load_scenario_quietly(tmp_path / "mine.toml")
    (found,) = [f for f in P.check_scenario(mine, tmp_path / "mine.toml") if f.key == "price_year"]
    assert found.file == str(tmp_path / "mine.toml") and found.value == 2024
    assert "differs from the price year 2019 of base.toml" in str(found)
    assert "'steps.low.cost_per_year') are 2019 figures and are counted as 2024 prices" in str(found)
    # Its own money written again in its price year, or the same price year: nothing to say.
    money = ("cost_per_year", "entry_cost")
    own = child + "".join(
        f"[steps.{s}]\n" + "".join(f"{k} = {v[k]}\n" for k in money if k in v)
        for s, v in base["steps"].items()
    )
    (tmp_path / "own.toml").write_text(own, encoding="utf-8")
    assert not [f for f in P.check_scenario(load_scenario_quietly(tmp_path / "own.toml"), tmp_path / "own.toml")
                if f.key == "price_year"]  # fmt: skip
    same = 'extends = "base.toml"\nname = "same"\nprice_year = 2019\n'
    (tmp_path / "same.toml").write_text(same, encoding="utf-8")
    assert not P.check_scenario(load_scenario_quietly(tmp_path / "same.toml"), tmp_path / "same.toml")


def load_scenario_quietly(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.PlausibilityWarning)
        return sim.load_scenario(path)


def test_a_strategy_that_starts_after_the_horizon_is_warned_about(toy):
    late = toy.with_changes(
        {"name": "late", "intervention": {**INTERVENTION, "start_year": 2050}}, warn=False
    )
    (found,) = [f for f in P.check_scenario(late) if f.key == "intervention.start_year"]
    assert "2050 is after the last simulated year, 2033: the strategy does nothing" in str(found)
    assert not [
        f
        for f in P.check_scenario(toy.with_changes({"intervention": INTERVENTION}))
        if f.key.startswith("intervention.start")
    ]


def test_a_strategy_with_an_effect_and_no_cost_is_warned_about(toy):
    free = {"start_year": 2025, "hazard_ratios": {"mid": {"placed": 0.7}}}
    plan = toy.with_changes({"name": "free", "intervention": free}, warn=False)
    (found,) = [f for f in P.check_scenario(plan) if f.key == "intervention.cost_per_year"]
    assert "changes how children move but costs nothing" in str(found)
    paid = toy.with_changes({"name": "paid", "intervention": {**free, "one_off_cost": 1e6}}, warn=False)
    nothing = toy.with_changes({"name": "none", "intervention": {"start_year": 2025}}, warn=False)
    for quiet in (paid, nothing):  # a cost, or no effect to cost anything
        assert not [f for f in P.check_scenario(quiet) if f.key == "intervention.cost_per_year"]


def test_a_warning_points_at_the_users_line_not_the_librarys(tmp_path):
    """sim.compare("file.toml", ...) warned from sim/scenario/files.py, a line of the library's."""
    d = toy_dict()
    d["transitions"]["low"]["closed"] = 33.0
    (tmp_path / "base.toml").write_text(tomli_w.dumps(d), encoding="utf-8")
    plan = {"extends": "base.toml", "name": "plan", "intervention": INTERVENTION}
    (tmp_path / "plan.toml").write_text(tomli_w.dumps(plan), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim.compare(tmp_path / "base.toml", tmp_path / "plan.toml", engine="expected")
        sim.load_scenario(tmp_path / "base.toml").with_changes({"steps.placed.cost_per_year": 1.2})
    said = [w for w in caught if issubclass(w.category, P.PlausibilityWarning)]
    assert len(said) >= 3 and {w.filename for w in said} == {__file__}, [(w.filename, w.lineno) for w in said]


def _foster_rates(scenario: Scenario, home: dict, closed: dict) -> Scenario:
    """The national baseline's foster step (a mixture of stays) leaving by band only to home or closed."""
    return scenario.with_changes(
        {"transitions.foster": {"home": home, "network": 0.0, "institution": 0.0, "closed": closed}},
        warn=False,
    )


def test_a_duration_law_whose_clock_runs_far_faster_or_slower_in_a_band_is_flagged():
    base = load_scenario(SCENARIOS / "denmark-baseline.toml")
    # Rates out of foster in 6-11 and 12-17 total 900 times those of 0-5, where the mixture holds.
    fast = _foster_rates(
        base, {"0-5": 0.001, "6-11": 0.3, "12-17": 0.3}, {"0-5": 0.0, "6-11": 0.6, "12-17": 0.6}
    )
    found = [f for f in P.check_scenario(fast, "x.toml") if f.key == "transitions.foster"]
    assert [(f.value, "'6-11'" in f.message) for f in found] == [
        (pytest.approx(900), True),
        (pytest.approx(900), False),
    ]
    assert "last 1/900 as long as the law says" in str(found[0])
    # And a 900th of it in 12-17: stays there 900 times as long.
    slow = _foster_rates(
        base, {"0-5": 0.3, "6-11": 0.3, "12-17": 0.001}, {"0-5": 0.6, "6-11": 0.6, "12-17": 0.0}
    )
    (finding,) = [f for f in P.check_scenario(slow, "x.toml") if f.key == "transitions.foster"]
    assert "last 900 times as long" in finding.message and "'12-17'" in finding.message
    # Ten times is still allowed (the shipped aftercare band runs 4.4 times as fast).
    ten = _foster_rates(
        base, {"0-5": 0.09, "6-11": 0.3, "12-17": 0.3}, {"0-5": 0.0, "6-11": 0.6, "12-17": 0.6}
    )
    assert not [f for f in P.check_scenario(ten, "x.toml") if f.key == "transitions.foster"]


def test_a_band_whose_clock_stops_or_hits_the_engines_cap_is_flagged_as_the_engines_run_it():
    base = load_scenario(SCENARIOS / "denmark-baseline.toml")
    # No rates out of foster in 12-17: its clock stops there.
    stopped = _foster_rates(
        base, {"0-5": 0.3, "6-11": 0.3, "12-17": 0.0}, {"0-5": 0.6, "6-11": 0.6, "12-17": 0.0}
    )
    (finding,) = [f for f in P.check_scenario(stopped, "x.toml") if f.key == "transitions.foster"]
    assert finding.value == 0 and "total 0 in age band '12-17'" in finding.message
    # A reference band of 1e-9: the engines run the other bands' clocks at FASTEST_CLOCK, not 9e8.
    capped = _foster_rates(
        base, {"0-5": 1e-9, "6-11": 0.3, "12-17": 0.3}, {"0-5": 0.0, "6-11": 0.6, "12-17": 0.6}
    )
    found = [f for f in P.check_scenario(capped, "x.toml") if f.key == "transitions.foster"]
    assert [f.value for f in found] == [1e6, 1e6]
    assert "at least 1,000,000 times as much" in found[0].message


def _same_numbers(plain: dict) -> None:
    leaves = [(parts, v) for parts, v in P._flatten(plain, (), []) if P._is_number(v)]
    assert P._numbers(plain, (), []) == leaves


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario_dicts())
def test_the_limits_read_the_numbers_of_every_leaf(data):
    """The limits' own walk (_numbers, with its type tests inlined for speed) finds the numbers among
    _flatten's leaves, in the same order, on scenarios across the schema."""
    _same_numbers(Scenario.from_dict(data).model_dump(mode="python", exclude_none=True))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_the_limits_read_the_numbers_of_every_leaf_of_the_shipped_files(path):
    _same_numbers(load_scenario(path).model_dump(mode="python", exclude_none=True))
