"""Means with their Monte Carlo errors, the range of outcomes, and replications by precision."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import SCENARIOS, smaller, toy_dict

import sim
from sim.model.staircase import compile_staircase
from sim.run.estimates import (
    BATCH,
    CHILDREN_FLOOR,
    MIN_REPLICATIONS,
    Target,
    agreement,
    analytic_is_exact,
    next_replications,
    ratio_standard_error,
    standard_error,
    t_quantile,
)
from sim.run.experiment import centred, compare, expected, share_row, simulate, wilson_interval
from sim.scenario import Scenario


def _capped(**changes) -> Scenario:
    """A small toy with 70 places on 'placed' (they bind): the analytic engine does not apply."""
    d = toy_dict(horizon_years=6, **changes)
    d["population"]["entries_per_year"] = 300
    d["steps"]["placed"]["capacity"] = {"places": 70, "wait_on": "mid"}
    d["population"]["initial_stock"]["placed"]["children"] = 40
    return Scenario.from_dict(d)


STRATEGY = {"start_year": 2025, "cost_per_year": 2e6, "hazard_ratios": {"mid": {"placed": 0.5}}}


# -- the statistics, by hand -----------------------------------------------------


def test_student_t_quantiles():
    assert t_quantile(2) == pytest.approx(12.706, rel=1e-4)
    assert t_quantile(10) == pytest.approx(2.262, rel=1e-3)
    assert t_quantile(10_000) == pytest.approx(1.960, rel=1e-3)
    assert t_quantile(1) == math.inf


def test_t_quantiles_and_p_values_are_scipy_stats_own():
    """Taken from scipy.special (scipy.stats costs start-up time): the same numbers, to the bit."""
    from scipy import stats

    for n in (2, 3, 5, 10, 31, 1000):
        assert t_quantile(n) == stats.t.ppf(0.975, n - 1)
        y = np.linspace(0, 1, n) ** 2
        ok = agreement(y, 0.3)
        assert ok["p"] == 2 * stats.t.sf(abs(ok["z"]), n - 1)


@pytest.mark.parametrize(("k", "n"), [(0, 200), (7, 200), (200, 200), (1, 1)])
def test_a_share_gives_no_standard_error_of_0_when_every_run_agrees(k, n):
    """The plug-in binomial standard error is 0 at a share of 0 or 1: a precision 200 draws do not
    have. It is left empty there (Wilson's interval says what they do); elsewhere sqrt(p(1-p)/n)."""
    row = share_row("probability_npv_positive", np.arange(n) < k, "share of draws", "draws").iloc[0]
    p = k / n
    assert row["mean"] == p
    assert (row["mc_low"], row["mc_high"]) == wilson_interval(k, n)
    if 0 < k < n:
        assert row["mc_se"] == pytest.approx(np.sqrt(p * (1 - p) / n), rel=1e-12)
    else:
        assert np.isnan(row["mc_se"])
        assert row["mc_high"] - row["mc_low"] > 0.01  # the interval still says how sure


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 40, 100, 1000, 12345])
def test_wilson_interval_is_scipys_to_the_bit(n):
    from scipy import stats

    for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert wilson_interval(k, n) == (ci.low, ci.high)


def test_standard_error_of_a_mean_and_of_a_constant():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert float(standard_error(y)) == pytest.approx(np.std(y, ddof=1) / 2)
    assert float(standard_error(np.full(5, 3.2e8))) == 0.0  # a fixed cost: no error, not float noise
    assert np.isnan(standard_error(np.array([1.0])))
    np.testing.assert_allclose(standard_error(np.array([[1.0, 5.0], [3.0, 5.0]])), [1.0, 0.0])


def test_ratio_standard_error_is_the_delta_method():
    rng = np.random.default_rng(1)
    den = rng.normal(100, 1, 4000)
    num = 2 * den + rng.normal(0, 5, 4000)
    # num/den = 2 + noise/den: its error is about sd(noise)/100/sqrt(n).
    assert ratio_standard_error(num, den) == pytest.approx(5 / 100 / math.sqrt(4000), rel=0.05)


def test_a_target_near_zero_is_measured_against_its_reference():
    near_zero = Target("placement_entries_avoided", mean=1.0, se=1.0, reference=CHILDREN_FLOOR)
    assert near_zero.tolerance(0.02) == pytest.approx(1.0)  # to within one child
    big = Target("npv", mean=5e6, se=1.0, reference=1e6)
    assert big.tolerance(0.02) == pytest.approx(1e5)
    assert Target("x", 10.0, 0.0, 10.0).half_width(3) == 0.0  # exact: no error


def test_replications_grow_by_what_the_error_says_in_whole_batches():
    ok = Target("a", mean=100.0, se=0.5, reference=100.0)  # half-width ~1.1 < 2
    assert next_replications(10, [ok], 0.02, 200) == 10
    far = Target("a", mean=100.0, se=2.0, reference=100.0)  # half-width 4.5: 5x the replications
    n = next_replications(10, [ok, far], 0.02, 200)
    assert n % BATCH == 0 and 50 <= n <= 70
    assert next_replications(10, [far], 0.02, 30) == 30  # never beyond the most
    assert next_replications(30, [far], 0.02, 30) == 30


def test_agreement_says_how_often_chance_gives_such_a_gap():
    y = np.array([9.0, 11.0, 10.0, 10.0])
    ok = agreement(y, 10.2)
    assert ok["z"] == pytest.approx(-0.2 / (np.std(y, ddof=1) / 2))
    assert 0.5 < ok["p"] < 1 and ok["gap_share"] == pytest.approx(0.2 / 10.2)
    assert agreement(y, 20.0)["p"] < 1e-3


def test_centred_moves_the_replications_not_their_spread():
    y = np.array([1.0, 2.0, 6.0])
    c = centred(y, 10.0)
    assert c.mean() == pytest.approx(10.0)
    np.testing.assert_allclose(np.diff(c), np.diff(y))


# -- where the analytic engine is exact -------------------------------------------


def test_which_arms_the_analytic_engine_solves_exactly(toy):
    assert analytic_is_exact(compile_staircase(toy))
    assert not analytic_is_exact(compile_staircase(_capped()))
    d = toy_dict()
    d["steps"]["placed"]["duration"] = {"dist": "weibull", "mean_years": 2.0, "shape": 0.7}
    assert not analytic_is_exact(compile_staircase(Scenario.from_dict(d)))
    d = toy_dict()
    d["steps"]["mid"]["review"] = {"interval_months": 6, "moves": {"low": 0.2}}
    assert not analytic_is_exact(compile_staircase(Scenario.from_dict(d)))


def test_exact_means_are_the_analytic_engines_and_the_range_is_around_them(toy):
    plan = toy.with_changes(
        {
            "intervention": {
                "start_year": 2025,
                "cost_per_year": 1e6,
                "hazard_ratios": {"mid": {"placed": 0.7}},
            }
        }
    )
    cmp = compare(toy, plan, seed=3)
    exp = compare(toy, plan, engine="expected")
    assert cmp.base.replications == MIN_REPLICATIONS and cmp.mean_from == "exact"
    s, e = cmp.summary, exp.summary
    for metric in ("placement_entries_avoided", "npv", "roi", "payback_year", "investment_pv"):
        assert s.loc[metric, "mean"] == pytest.approx(e.loc[metric, "mean"], rel=1e-12)
        assert s.loc[metric, "mc_se"] == 0.0
    # The range of outcomes is the replications' spread, around the exact mean.
    npv = cmp.arrays["total_npv"]
    lo, hi = np.percentile(npv - npv.mean() + s.loc["npv", "mean"], [5, 95])
    assert (s.loc["npv", "p5"], s.loc["npv", "p95"]) == pytest.approx((lo, hi))
    assert s.loc["npv", "p5"] < s.loc["npv", "mean"] < s.loc["npv", "p95"]
    # The yearly tables are the same means, and add up to the totals.
    y = cmp.yearly
    assert y["placement_entries_avoided"].sum() == pytest.approx(s.loc["placement_entries_avoided", "mean"])
    assert (y["placement_entries_avoided_mc_se"] == 0).all()
    # The simulation's own means are kept, as a check that the engines agree.
    agree = cmp.agreement.set_index("metric")
    assert set(agree.index) == {"placement_entries_avoided", "placement_child_years_avoided", "npv"}
    assert (agree["p"] > 1e-3).all()
    assert agree.loc["npv", "simulation_mean"] == pytest.approx(npv.mean())


def test_ratio_and_payback_ranges_are_those_of_the_centred_replications(toy):
    """With exact means, ROI and payback come from the same centred replications as NPV.

    Before, they were the raw replications': with 3 of them a national run
    printed ROI 1.86 with a range of 1.91 to 1.94, the mean outside its own range.
    """
    plan = toy.with_changes(
        {
            "intervention": {
                "start_year": 2025,
                "cost_per_year": 3e6,
                "hazard_ratios": {"mid": {"placed": 0.6}},
            }
        }
    )
    cmp = compare(toy, plan, seed=5, replications=3)
    assert cmp.mean_from == "exact"
    npv, inv = cmp.outcomes("total_npv"), cmp.outcomes("total_investment_pv")
    np.testing.assert_allclose(cmp.outcomes("total_roi"), npv / inv)
    s = cmp.summary
    lo, hi = np.percentile(npv / inv, [5, 95])
    assert (s.loc["roi", "p5"], s.loc["roi", "p95"]) == pytest.approx((lo, hi))
    # The centred NPVs keep their exact mean; their ROIs bracket the exact ROI, whatever the seed.
    assert npv.min() <= s.loc["npv", "mean"] <= npv.max()
    assert (npv / inv).min() <= s.loc["roi", "mean"] <= (npv / inv).max()
    # Payback of each centred cumulative series: the first year it stays at or above zero.
    cum = cmp.outcomes("cum_net_savings_discounted")
    years = cmp.years
    for pay, row in zip(cmp.outcomes("total_payback_year"), cum):
        if np.isnan(pay):
            assert row[-1] < 0 or (row < 0).any()
        else:
            at = int(np.flatnonzero(years == pay)[0])
            assert (row[at:] >= -1e-6 * max(1.0, np.abs(row).max())).all()
            assert at == 0 or row[at - 1] < 0 or years[at - 1] < 2025


def test_a_run_with_exact_means_has_its_yearly_tables_from_the_analytic_engine(toy):
    res = simulate(toy, seed=1)
    exp = expected(toy)
    np.testing.assert_allclose(res.yearly["stock_end"], exp.yearly["stock_end"])
    assert (res.yearly["stock_end_mc_se"] == 0).all()
    assert res.summary.loc["placement_entries", "mean_from"] == "exact"


@pytest.mark.slow
@pytest.mark.parametrize("children", [None, 30_000])
def test_the_municipal_headline_does_not_move_with_the_seed(children):
    """Issue 12's acceptance: over seeds the printed NPV spreads by at most 3 % and lies within
    its own interval of the analytic engine's value (here: is it, the engine being exact)."""
    base = sim.load_scenario(SCENARIOS / "municipality-template.toml")
    plan = sim.load_scenario(SCENARIOS / "municipality-early-detection.toml")
    if children is not None:  # a smaller municipality: entries scale with its children
        base = base.with_changes(smaller(base, children))
        plan = plan.with_changes(smaller(plan, children))
    exact = compare(base, plan, engine="expected").summary.loc["npv", "mean"]
    npvs = []
    for seed in (1, 7, 20240101):
        s = compare(base, plan, seed=seed).summary.loc["npv"]
        assert s["mc_low"] <= exact <= s["mc_high"]
        npvs.append(s["mean"])
    assert (max(npvs) - min(npvs)) / abs(np.mean(npvs)) <= 0.03


# -- elsewhere: replications by precision ------------------------------------------


def test_replications_run_until_the_precision_is_reached():
    plan = _capped(intervention=STRATEGY)
    base = _capped()
    loose = compare(base, plan, seed=2, precision=0.5)
    tight = compare(base, plan, seed=2, precision=0.02, max_replications=40)
    assert loose.mean_from == "replications"
    assert loose.base.replications < tight.base.replications <= 40
    # Batches are fixed by the results: the first replications are the same.
    n = loose.base.replications
    np.testing.assert_array_equal(tight.arrays["total_npv"][:n], loose.arrays["total_npv"])
    for tg in loose.precision_targets():
        assert tg.half_width(n) <= tg.tolerance(0.5)
    s = tight.summary.loc["npv"]
    assert s["mc_se"] == pytest.approx(
        np.std(tight.arrays["total_npv"], ddof=1) / math.sqrt(tight.base.replications)
    )
    assert s["mc_low"] < s["mean"] < s["mc_high"]


def test_a_fixed_number_of_replications_is_that_number():
    res = simulate(_capped(), replications=3, seed=1)
    assert res.replications == 3 and res.precision is None


def test_the_same_seed_gives_the_same_numbers_on_any_number_of_workers():
    plan = _capped(intervention=STRATEGY)
    one = compare(_capped(), plan, seed=5, precision=0.2, workers=1)
    two = compare(_capped(), plan, seed=5, precision=0.2, workers=2)
    assert one.base.replications == two.base.replications
    np.testing.assert_array_equal(one.arrays["total_npv"], two.arrays["total_npv"])
    assert one.summary.equals(two.summary)


def test_the_batches_of_a_precision_share_their_worker_processes(monkeypatch):
    """Batch after batch on the same kept processes, not new ones per batch (each new process pays
    for its first memory), and ended with the run."""
    import sim.run.experiment as experiment
    from sim.run.workers import LocalWorkers

    seen = []
    real = experiment._map

    def recording(fn, tasks, workers, progress=False):
        seen.append((workers, None if workers._pool is None else frozenset(workers._pool._processes)))
        return real(fn, tasks, workers, progress)

    monkeypatch.setattr(experiment, "_map", recording)
    plan = _capped(intervention=STRATEGY)
    compare(_capped(), plan, seed=5, precision=0.05, max_replications=30, workers=2)
    assert len(seen) >= 2, "the precision should take more than one batch here"
    kept = {id(w) for w, _ in seen}
    assert len(kept) == 1 and isinstance(seen[0][0], LocalWorkers)
    assert seen[0][1] is None and len({p for _, p in seen[1:]}) == 1  # started once, then the same
    assert seen[0][0]._pool is None  # ended with the run


@pytest.mark.slow
def test_the_standard_error_is_the_spread_of_means_over_independent_seeds():
    """Twelve independent 10-replication means spread as their stated standard error says."""
    scenario = _capped()
    means, ses = [], []
    for seed in range(12):
        s = simulate(scenario, replications=10, seed=1000 + seed).summary
        means.append(s.loc["placement_entries", "mean"])
        ses.append(s.loc["placement_entries", "mc_se"])
    ratio = np.std(means, ddof=1) / np.sqrt(np.mean(np.square(ses)))
    # With 12 means the ratio of the two estimates of one sd lies within 0.5-1.6 (about 99 %).
    assert 0.5 < ratio < 1.6


def test_options_out_of_range_are_refused(toy):
    with pytest.raises(ValueError, match="precision"):
        simulate(toy, precision=0)
    with pytest.raises(ValueError, match="max_replications"):
        simulate(toy, max_replications=3)


def test_the_manifest_records_how_precise_the_means_are(tmp_path):
    from sim.outputs.results import write_results

    plan = _capped(intervention=STRATEGY)
    cmp = compare(_capped(), plan, seed=2, precision=0.5)
    inputs = {}
    out = write_results(cmp, tmp_path / "out", inputs, ["trappesim"], 0.0)
    meta = json.loads((out / "manifest.json").read_text())
    p = meta["precision"]
    assert p["means"] == "replications" and p["target"] == 0.5
    assert p["replications"] == meta["replications"] == cmp.base.replications
    assert set(p["reached"]) == {"placement_entries_avoided", "npv"}
    assert all(v <= 0.5 for v in p["reached"].values())


def test_a_precision_not_reached_is_said_with_the_figures_and_the_replications_needed():
    from sim.outputs import language as L
    from sim.outputs.report import interval_notes

    plan = _capped(intervention=STRATEGY)
    cmp = compare(_capped(), plan, seed=2, precision=0.02, max_replications=10)
    notes = interval_notes(cmp, "en")
    assert notes[0].startswith(
        "Precision: ± the half-width of the 95 % interval of each mean over 10 replications"
    )
    short = [n for n in notes if n.startswith("Not reached after 10 replications: ")]
    assert len(short) == 1 and "replications would reach it" in short[0]
    # Each figure that fell short with its own precision, not the worst one's for all.
    for tg in cmp.precision_targets():
        if tg.reached(10) > 0.02:
            assert f"± {L.percent(tg.reached(10), 'en', 1)}" in short[0]
    needed = int(short[0].split("about ")[1].split(" replications")[0].replace(",", ""))
    worst = max(tg.half_width(10) / tg.tolerance(0.02) for tg in cmp.precision_targets())
    assert needed == pytest.approx(10 * worst**2, rel=0.2)  # the error falls as 1/sqrt(n)
    assert notes[-1].startswith("Range of outcomes: where the actual figure may fall by chance")
    assert notes[-1].endswith(
        "With 10 replications its ends are rough: more replications (--replications) pin them down."
    )


def test_the_replications_needed_are_said_to_two_figures(monkeypatch):
    """An estimate from the spread of a few replications: "about 31,000", not "about 31,130"."""
    from sim.outputs import report
    from sim.outputs.report import interval_notes

    cmp = compare(_capped(), _capped(intervention=STRATEGY), seed=2, precision=0.02, max_replications=10)
    monkeypatch.setattr(report, "next_replications", lambda *a: 31_130)
    assert "about 31,000 replications would reach it" in " ".join(interval_notes(cmp, "en"))
    assert "omkring 31.000 kørsler ville nå det" in " ".join(interval_notes(cmp, "da"))


def test_figures_that_went_the_other_way_are_said_without_a_double_negative():
    from sim.outputs.report import key_figures

    worse = {"start_year": 2025, "hazard_ratios": {"mid": {"placed": 1.5}}}  # more placements
    cmp = compare(Scenario.from_dict(toy_dict()), Scenario.from_dict(toy_dict(intervention=worse)), seed=1)
    kf = key_figures(cmp, "en").set_index("metric")
    s = cmp.summary
    assert s.loc["placement_entries_avoided", "mean"] < 0
    row = kf.loc["placement_entries_avoided"]
    assert (
        row["label"] == "New placements added"
        and row["centre"] == -s.loc["placement_entries_avoided", "mean"]
    )
    assert (row["p5"], row["p95"]) == (
        -s.loc["placement_entries_avoided", "p95"],
        -s.loc["placement_entries_avoided", "p5"],
    )
    assert kf.loc["placed_at_end_avoided", "label"] == "More placed at end of horizon"
    assert not row["text"].startswith("-")


def test_the_check_of_the_engines_gives_its_gap_in_standard_errors(toy):
    """ "Within 39.9 %" of 10 replications read as a model 40 % off; the standard errors say it is chance."""
    from sim.outputs import language as L
    from sim.outputs.report import interval_notes

    plan = toy.with_changes({"name": "plan", "intervention": STRATEGY})
    cmp = compare(toy, plan, replications=10, seed=3)
    z = float(np.nanmax(np.abs(cmp.agreement["z"].to_numpy(dtype=float))))
    note = interval_notes(cmp, "en")[0].replace(L.NBSP, " ")
    assert cmp.agreement["p"].min() >= 0.01  # as chance gives
    assert f"at most {L.number(z, 'en', 1)} standard errors, as chance in 10 replications gives" in note
    assert "standardfejl" in interval_notes(cmp, "da")[0]


def test_a_gap_chance_gives_rarely_is_not_called_what_chance_gives(toy, monkeypatch):
    """A tutorial's 3.9 standard errors (p = 0.003) read "as chance in 10 replications gives"."""
    from sim.outputs import language as L
    from sim.outputs.report import interval_notes

    plan = toy.with_changes({"name": "plan", "intervention": STRATEGY})
    cmp = compare(toy, plan, replications=10, seed=3)
    agree = cmp.agreement.copy()
    worst = int(np.argmax(np.abs(agree["z"].to_numpy(dtype=float))))
    for p, said in ((0.0034, "more than is usual"), (0.02, "as chance in 10 replications gives")):
        agree = agree.copy()
        agree.loc[agree.index[worst], "p"] = p
        monkeypatch.setitem(cmp.__dict__, "agreement", agree)  # the cached table, one p-value changed
        note = interval_notes(cmp, "en")[0].replace(L.NBSP, " ")
        assert said in note and ("p = 0.003" in note) == (p < 0.01)
        assert "Advarsel" not in " ".join(interval_notes(cmp, "da"))  # above 0.001: no warning
