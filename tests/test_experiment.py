"""The API: simulate, expected, compare; workers; common random numbers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import INTERVENTION, SCENARIOS

import sim
from sim.scenario import Scenario


def test_zero_effect_zero_cost_strategy_gives_exactly_zero(toy):
    plan = toy.with_changes({"intervention": {"start_year": 2025, "ramp_up_years": 3}})
    cmp = sim.compare(toy, plan, replications=3, seed=2)
    for key, arr in cmp.arrays.items():
        if key in ("total_roi", "total_payback_year"):
            assert np.isnan(arr).all(), key  # nothing invested: no ROI, no payback
        else:
            assert np.all(arr == 0), key


def test_identical_results_for_one_and_two_workers(toy):
    plan = toy.with_changes({"intervention": {"start_year": 2025, "hazard_ratios": {"mid": {"placed": 0.5}}}})
    a = sim.compare(toy, plan, replications=4, seed=8, workers=1)
    b = sim.compare(toy, plan, replications=4, seed=8, workers=2)
    for key in a.arrays:
        np.testing.assert_array_equal(a.arrays[key], b.arrays[key])


def test_expected_engine_is_one_word_away(toy):
    e = sim.simulate(toy, engine="expected")
    d = sim.simulate(toy, replications=2, seed=1)
    assert list(e.yearly.columns) == list(d.yearly.columns)
    assert e.replications == 1 and len(e.yearly) == 10 * 3
    assert sim.expected(toy).yearly.equals(e.yearly)


def test_strategy_that_works_avoids_placements(toy):
    plan = toy.with_changes({"intervention": {"start_year": 2024, "hazard_ratios": {"mid": {"placed": 0.3}}}})
    cmp = sim.compare(toy, plan, replications=5, seed=3)
    s = cmp.summary
    assert s.loc["placement_entries_avoided", "p5"] > 0
    assert s.loc["npv", "mean"] > 0
    assert {"mean", "median", "p5", "p95", "unit"} <= set(s.columns)
    assert "2024" in s.loc["npv", "unit"]


def test_compare_refuses_different_areas(toy):
    other = toy.with_changes({"population.children": 1})
    with pytest.raises(ValueError, match="different areas"):
        sim.compare(toy, other, replications=1)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"discounting.periods": [{"from_year": 0, "rate": 0.06}]}, "discounting"),
        ({"discounting.to_year": 2026}, "discounting"),
        ({"price_year": 2021}, "price_year"),
        ({"currency": "EUR"}, "currency"),
        ({"prices": {"index": {"2023": 100.0, "2024": 105.0}}}, "the \\[prices\\] index"),
    ],
)
def test_compare_and_psa_refuse_a_strategy_that_counts_money_otherwise(toy, changes, key):
    """A comparison counts money by the baseline's rules: a strategy's own would be ignored without a word."""
    from sim.analysis.uncertainty import psa

    toy = toy.with_changes({"prices": {"index": {"2023": 100.0, "2024": 104.0}}})
    plan = toy.with_changes({"intervention": INTERVENTION, **changes})
    for run in (lambda: sim.compare(toy, plan, engine="expected"), lambda: psa(toy, plan, draws=2)):
        with pytest.raises(ValueError, match=f"must count money alike .* differ in {key};"):
            run()
    sim.compare(toy, toy.with_changes({"intervention": INTERVENTION}), engine="expected")  # alike: compared
    # An index that adds a year (for a cost line of its own) and agrees on the rest counts alike.
    longer = toy.with_changes(
        {"intervention": INTERVENTION, "prices": {"index": {"2024": 104.0, "2025": 107.0}}}
    )
    sim.compare(toy, longer, engine="expected")


def test_compare_refuses_a_strategy_that_counts_placements_otherwise(toy):
    """A strategy calling a step no placement would have its children counted as placements avoided."""
    plan = toy.with_changes(
        {"intervention": INTERVENTION, "steps.placed.placement": False, "steps.mid.placement": True}
    )
    with pytest.raises(ValueError, match="must count placements alike, .* for mid, placed;"):
        sim.compare(toy, plan, engine="expected")


def test_compare_warns_about_a_number_outside_the_intervention_that_differs_between_arms(toy):
    """A price changed in the strategy only would be counted as its saving: Python says so, as the CLI does."""
    import warnings

    from sim.scenario.plausibility import PlausibilityWarning

    plan = toy.with_changes({"name": "plan", "intervention": INTERVENTION})
    dearer = plan.with_changes({"steps.placed.cost_per_year": 600_000})
    with pytest.warns(PlausibilityWarning, match="key 'steps.placed.cost_per_year': 500,000 in toy, 600,000"):
        sim.compare(toy, dearer, engine="expected")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.compare(toy, plan, engine="expected")  # only [intervention] differs


def test_compare_and_psa_refuse_arms_that_count_adult_life_differently(toy):
    adult = {"cost_per_year": {"placed": 40_000.0}}
    with_adult = toy.with_changes({"adult": adult})
    with pytest.raises(ValueError, match="only one of them has an \\[adult\\] table"):
        sim.compare(toy, with_adult, replications=1)
    dearer = toy.with_changes({"adult": {"cost_per_year": {"placed": 80_000.0}}})
    with pytest.raises(ValueError, match="they differ in an \\[adult\\] table"):
        sim.psa(with_adult, dearer, draws=1)


def test_bad_arguments(toy):
    with pytest.raises(ValueError, match="engine"):
        sim.simulate(toy, engine="fast")
    with pytest.raises(ValueError, match="replications"):
        sim.simulate(toy, replications=0)


def test_national_baseline_lands_near_danish_statistics():
    """The projection from 2024 stays near the 2023 statistics: placed 0-17 about 11,800,
    about 3,400 new placements a year, foster 63 %, institution ~31 % (2018-2023 are
    checked year by year in test_calibrate)."""
    base = sim.load_scenario(SCENARIOS / "denmark-baseline.toml")
    t = sim.expected(base).yearly
    placed = t[t.placement]
    by_year = placed.groupby("year")[["stock_end", "placement_entries"]].sum().loc[2024:]
    assert by_year["stock_end"].between(11_800 * 0.93, 11_800 * 1.07).all()
    assert by_year["placement_entries"].between(3_400 * 0.93, 3_400 * 1.07).all()
    mix = placed[placed.year == 2030].set_index("step").stock_end
    mix = mix / mix.sum()
    assert 0.55 < mix["foster"] < 0.68 and 0.26 < mix["institution"] < 0.36


def test_scenario_type_is_exported():
    assert sim.Scenario is Scenario


def test_national_baseline_with_aftercare_lands_near_13900():
    """With aftercare to 23 on: near the 13,400-13,900 placed aged 0-22 of 2020-2023 (DST)."""
    t = sim.expected(sim.load_scenario(SCENARIOS / "denmark-baseline-aftercare.toml")).yearly
    placed = t[t.placement].groupby("year").stock_end.sum()
    assert placed.loc[2020:2023].between(13_400 * 0.97, 13_900 * 1.03).all()
    assert placed.loc[2024:].between(13_900 * 0.95, 13_900 * 1.05).all()


def test_comparison_reports_waiting_avoided(toy):
    base = toy.with_changes(
        {"steps.placed.capacity": {"places": 200, "overflow_to": "mid", "max_wait_years": 0.5}}
    )
    plan = base.with_changes(
        {"intervention": {"start_year": 2025, "extra_places": {"placed": {"places": 150}}}}
    )
    s = sim.compare(base, plan, replications=3, seed=2).summary
    assert s.loc["waiting_years_avoided", "p5"] > 0
    assert s.loc["overflows_avoided", "mean"] > 0
    t = sim.simulate(base, replications=1, seed=2).yearly
    placed = t[t.step == "placed"]
    assert (placed["places"] == 200).all() and placed["utilisation"].between(0.5, 1.2).all()


def test_expected_engine_refuses_capacity_but_not_unlimited(toy):
    from sim.engines.expected import EngineNotApplicable

    with pytest.raises(EngineNotApplicable, match="capacity"):
        sim.expected(toy.with_changes({"steps.placed.capacity": {"places": 10}}))
    unlimited = sim.expected(toy.with_changes({"steps.placed.capacity": {"places": "unlimited"}}))
    np.testing.assert_array_equal(unlimited.measures["stock_end"], sim.expected(toy).measures["stock_end"])


@pytest.mark.slow
def test_identical_results_on_a_dask_local_cluster(toy, tmp_path):
    """Same seed, same numbers: one process, two local workers, and Dask."""
    distributed = pytest.importorskip("distributed")
    plan = toy.with_changes({"intervention": {"start_year": 2025, "hazard_ratios": {"mid": {"placed": 0.5}}}})
    one = sim.compare(toy, plan, replications=4, seed=8, workers=1)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            on_dask = sim.compare(toy, plan, replications=4, seed=8, workers=client)
            by_address = sim.simulate(plan, replications=2, seed=8, workers=cluster.scheduler_address)
            from sim.cli import main as cli

            assert (
                cli(
                    [
                        "run",
                        str(SCENARIOS / "municipality-template.toml"),
                        "--engine",
                        "expected",
                        "--scheduler",
                        cluster.scheduler_address,
                        "--out",
                        str(tmp_path / "dask"),
                    ]
                )
                == 0
            )
    for key in one.arrays:
        np.testing.assert_array_equal(one.arrays[key], on_dask.arrays[key])
    local = sim.simulate(plan, replications=2, seed=8, workers=2)
    for m in local.measures:
        np.testing.assert_array_equal(local.measures[m], by_address.measures[m])


def test_progress_bar_is_silent_when_not_on_a_terminal(toy, capsys):
    sim.simulate(toy, replications=2, seed=1, workers=1, progress=True)
    sim.compare(toy, toy, replications=2, seed=1, workers=2, progress=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_every_function_that_takes_a_scenario_takes_a_path(tmp_path):
    """``sim.simulate("file.toml")`` once failed with AttributeError: a researcher's first try."""
    base_file = SCENARIOS / "municipality-template.toml"
    plan_file = SCENARIOS / "municipality-early-detection.toml"
    base, plan = sim.load_scenario(base_file), sim.load_scenario(plan_file)
    by_path = sim.compare(str(base_file), plan_file, engine="expected")
    by_scenario = sim.compare(base, plan, engine="expected")
    pd.testing.assert_frame_equal(by_path.summary, by_scenario.summary)
    assert sim.expected(base_file).scenario == base
    assert sim.simulate(str(base_file), engine="expected").scenario == base
    with pytest.raises(TypeError, match="a Scenario or the path of a scenario file, not dict"):
        sim.simulate({"name": "x"})
    with pytest.raises(sim.ScenarioError, match="no-such-file.toml"):
        sim.simulate(tmp_path / "no-such-file.toml")
    uncertain = (
        SCENARIOS / "municipality-uncertain.toml",
        SCENARIOS / "municipality-early-detection-uncertain.toml",
    )
    assert sim.psa(*uncertain, draws=3).draws == 3
    assert not sim.tornado(*map(str, uncertain)).table.empty


# ---------------------------------------------------------------------------
# Every number a file gives moves a figure
# ---------------------------------------------------------------------------


def _numbers(node: object, key: str = "") -> list[tuple[str, float]]:
    """Every number of a scenario's tables by dotted key (not inside lists, which changes cannot reach)."""
    if isinstance(node, dict):
        return [n for k, v in node.items() for n in _numbers(v, f"{key}.{k}" if key else str(k))]
    if isinstance(node, int | float):  # yes/no too (a step that is a placement)
        return [(key, node)]
    return []


# Numbers that may move nothing in these pairs, and why.
NO_FIGURE = (
    # Every cost line is in the scenario's own price year: the index converts nothing.
    "prices.index.",
    # The costs are written in the price year: it names their prices, it converts nothing.
    "price_year",
    # The area's children: it says which area a file describes (and scales plausible ranges).
    "population.children",
)
# Numbers that cannot move alone: changed, the file is no longer valid.
NOT_ALONE = (
    "start_year",  # the discount year must stay within the years
    "population.leaving_age",  # the age bands end at it
    "intervention.cost_per_child_reached",  # 0 here, and needs reached_steps
    "intervention.extra_caseworkers",  # 0 here, and needs a [casework] table
    # 0 here: adult.cost_per_year holds these outcomes' money already (it would count twice).
    "adult.outcomes.employed_at_30.cost_per_year",
    "adult.outcomes.disability_pension_at_30.cost_per_year",
    "adult.outcomes.no_youth_education_at_25.cost_per_year",
)


def _moved(scenario: Scenario, key: str, value: float) -> Scenario:
    """The scenario with one number 10 % up (a share or a payer's part: the others in its table give
    way; a yes/no turned over)."""
    parent, _, name = key.rpartition(".")
    if isinstance(value, bool):
        return scenario.with_changes({key: not value})
    if parent.endswith(("shares", "payers")):  # tables that sum to one
        table = scenario.to_dict()
        for part in parent.split("."):
            table = table[part]
        up = min(1.0, value * 1.1 if value else 0.05)
        rest = 1.0 - value
        shares = {k: (up if k == name else v * (1.0 - up) / rest) for k, v in table.items()}
        return scenario.with_changes({parent: shares})
    return scenario.with_changes(
        {key: value + 2 if isinstance(value, int) else (value * 1.1 if value else 0.5)}
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pair", "side"),
    [
        (("municipality-template.toml", "municipality-early-detection.toml"), "strategy"),
        (("municipality-template.toml", "municipality-early-detection.toml"), "baseline"),
        (("municipality-lifetime.toml", "municipality-early-detection-lifetime.toml"), "strategy"),
    ],
)
def test_every_number_of_a_file_moves_a_figure(pair, side):
    """A number that changes nothing is an input ignored without a word (as a strategy's own discount
    rate and a cost per child reached without steps were): each one, 10 % up, moves the comparison."""
    base, plan = (sim.load_scenario(SCENARIOS / name) for name in pair)

    def figures(b: Scenario, s: Scenario) -> list[float]:
        """Every headline mean of the comparison (adult life and each payer's NPV included)."""
        return sim.compare(b, s, engine="expected").summary["mean"].fillna(-1.0).tolist()

    before = figures(base, plan)
    changed = plan if side == "strategy" else base
    still, refused, tried = [], [], 0
    for key, value in _numbers(changed.to_dict()):
        if key.startswith(NO_FIGURE):
            continue
        try:
            other = _moved(changed, key, value)
            try:
                after = figures(other, plan) if side == "baseline" else figures(base, other)
            except sim.errors.PairError:  # a number both arms must share (years, money, adult life): in both
                after = figures(_moved(base, key, value), _moved(plan, key, value))
        except (sim.errors.ScenarioError, sim.errors.PairError):
            refused.append(key)
            continue
        tried += 1
        if after == before:
            still.append(key)
    assert not still, f"numbers that move no figure in {pair[side == 'strategy']}: {still}"
    assert not [k for k in refused if not k.startswith(NOT_ALONE)]  # every other number was tried
    assert tried > 50


def test_the_analytic_engines_tables_are_checked_before_they_reach_a_report(monkeypatch):
    """Its means are printed as exact; a table that does not add up must stop the run as a bug."""
    from sim.engines import expected
    from sim.engines.invariants import InvariantError
    from sim.run import experiment

    base = sim.load_scenario(SCENARIOS / "municipality-template.toml")
    real = expected.expected_measures

    def broken(st, *args, **kwargs):
        m = real(st, *args, **kwargs)
        m["stock_end"] = m["stock_end"].copy()
        m["stock_end"][2, 1] += 3.0  # three children appear from nowhere
        return m

    monkeypatch.setattr(experiment, "expected_measures", broken)
    with pytest.raises(InvariantError):
        sim.expected(base)
    # The exact means beside a simulation are checked too.
    assert experiment.analytic_is_exact(experiment.compile_staircase(base))
    with pytest.raises(InvariantError):
        experiment._exact(experiment.compile_staircase(base), "des")


def test_results_show_briefly_in_a_notebook(toy):
    """A comparison's repr names its arms and run, not every array (it once ran to 1,200 lines)."""
    plan = toy.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(toy, plan, replications=2, seed=3)
    text = repr(cmp)
    assert len(text) < 1_000 and text.count("\n") == 0, text
    assert (
        "Scenario(name='plan'" in text
        and "seed=3, replications=2" in text
        and "perspective='kommune'" in text
    )
    assert repr(toy) == "Scenario(name='toy', title='Toy staircase')"


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"seed": -1}, "seed must be a whole number of at least 0, not -1"),
        ({"seed": 1.5}, "seed must be a whole number of at least 0, not 1.5"),
        ({"replications": 2.5}, "replications must be a whole number of at least 1, not 2.5"),
        ({"replications": True}, "replications must be a whole number of at least 1, not True"),
        ({"replications": 5, "engine": "expected"}, "5 replications with the expected engine"),
    ],
)
def test_a_seed_or_replications_that_cannot_be_meant_is_refused_by_name(toy, kwargs, said):
    """Not numpy's traceback, not 2.5 replications run as 2, not 5 silently run once."""
    from sim.errors import OptionError

    with pytest.raises(OptionError, match=re.escape(said)):
        sim.compare(toy, toy, **kwargs)
    with pytest.raises(OptionError, match=re.escape(said)):
        sim.simulate(toy, **kwargs)


def test_a_precision_not_reached_is_warned_about_in_python():
    """In Python a comparison stopped at max_replications short of its target without a word (the
    command line says it under the key figures)."""
    import warnings

    from conftest import toy_dict

    d = toy_dict()
    d["steps"]["mid"]["review"] = {"interval_months": 6, "moves": {"closed": 0.1}}  # means over replications
    base = Scenario.from_dict(d)
    plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
    with pytest.warns(sim.PrecisionWarning, match=r"not reached after 10 replications .*npv ±"):
        sim.compare(base, plan, precision=1e-5, max_replications=10, workers=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sim.PrecisionWarning)
        sim.compare(base, plan, replications=10, workers=1)  # a number of replications asked for: no target
        sim.compare(base, plan, precision=0.5, max_replications=10, workers=1)  # reached
