"""Calibration: parameter recovery, exact data, identification, bad data files, the shipped baseline."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import SCENARIOS, toy_dict

import sim
from sim.calibrate import (
    Observed,
    calibrate,
    exit_share,
    fit_stay_mixture,
    model_values,
    read_observed,
    write_calibrated,
)
from sim.cli import main

SERIES = [
    ("stock_end", "placed"),
    ("stock_end", "mid"),
    ("stock_end", "low"),
    ("placement_entries", "placed"),
    ("exits", "mid"),
]
TRUE_KEYS = ["transitions.mid.placed", "transitions.placed.closed", "population.entries_per_year"]


def observed_from(scenario: sim.Scenario, noise: float = 0.0, seed: int = 1) -> Observed:
    """Observed rows made by the model itself, with optional relative noise of known size."""
    rows = pd.DataFrame(
        [
            {"year": y, "measure": m, "step": s, "value": 0.0, "sd": 1.0, "source": "made"}
            for y in range(2024, 2030)
            for m, s in SERIES
        ]
    )
    truth = model_values(sim.expected(scenario), rows)
    rng = np.random.default_rng(seed)
    rows["value"] = truth * (1 + noise * rng.standard_normal(len(truth)))
    rows["sd"] = np.maximum(noise, 0.01) * truth
    return Observed(rows, [], "made.csv")


@pytest.fixture(scope="module")
def toy() -> sim.Scenario:
    return sim.Scenario.from_dict(toy_dict())


def test_parameters_come_back_within_10_percent_from_a_wrong_start(toy):
    obs = observed_from(toy, noise=0.02)
    wrong = toy.with_changes(
        {
            "transitions.mid.placed": {"0-5": 0.2, "6-11": 0.4, "12-17": 0.6},  # twice the truth
            "transitions.placed.closed": 0.2,  # twice
            "population.entries_per_year": 400.0,  # two thirds
        }
    )
    cal = calibrate(wrong, obs, TRUE_KEYS, des_replications=10, seed=2)
    fitted = cal.table.set_index("key")["fitted"]
    assert fitted["transitions.mid.placed"] == pytest.approx(
        0.1, rel=0.10
    )  # the 0-5 band; others keep ratios
    assert fitted["transitions.placed.closed"] == pytest.approx(0.1, rel=0.10)
    assert fitted["population.entries_per_year"] == pytest.approx(600, rel=0.10)
    assert cal.table["identified"].all()
    bands = cal.fitted.transitions["mid"]["placed"]
    assert bands["12-17"] / bands["0-5"] == pytest.approx(3.0)  # ratios between bands kept
    # Chi-square near its degrees of freedom: the noise is what the standard errors say.
    assert 0.3 < cal.chi2 / cal.dof < 2.5
    # The DES agrees with the analytic fit within 4 standard errors on every row.
    assert np.nanmax(np.abs(cal.fit["des_z"])) < 4


def test_data_the_model_reproduces_exactly_give_back_the_original(toy, tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    original = sim.load_scenario(path)
    cal = calibrate(original, observed_from(original), TRUE_KEYS, des_replications=0)
    assert cal.chi2 < 1e-12
    np.testing.assert_allclose(cal.table["fitted"], cal.table["start"], rtol=1e-7)
    out = write_calibrated(cal, path, tmp_path / "toy-calibrated.toml", "made.csv")
    assert sim.load_scenario(out).input_hash() == original.input_hash()
    assert out.read_text(encoding="utf-8").count("calibrated to made.csv on ") == 3


def test_a_number_the_data_do_not_depend_on_is_reported_not_identified(toy):
    cal = calibrate(
        toy, observed_from(toy, 0.02), ["transitions.placed.closed", "steps.low.cost_per_year"], 0
    )
    t = cal.table.set_index("key")
    assert t.loc["transitions.placed.closed", "identified"]
    assert not t.loc["steps.low.cost_per_year", "identified"]
    assert "do not depend on it" in t.loc["steps.low.cost_per_year", "note"]


def test_writing_keeps_the_file_and_comments_and_never_replaces(tmp_path):
    base = tmp_path / "in" / "base.toml"
    base.parent.mkdir()
    base.write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    child = tmp_path / "in" / "child.toml"
    child.write_text(
        'extends = "base.toml"\nname = "child"  # my municipality\n[population]\nentries_per_year = 500  # case system 2023\n',
        encoding="utf-8",
    )
    scenario = sim.load_scenario(child)
    cal = calibrate(scenario, observed_from(sim.Scenario.from_dict(toy_dict())), TRUE_KEYS, 0)
    out = write_calibrated(cal, child, tmp_path / "out" / "child-calibrated.toml", "data/obs.csv")
    text = out.read_text(encoding="utf-8")
    assert 'extends = "../in/base.toml"' in text  # still finds its parent from the new folder
    assert "# my municipality" in text
    assert "(was 500); case system 2023" in text  # the old comment is kept after the stamp
    assert "[transitions.placed]" in text or "transitions" in text  # an inherited key is added
    again = sim.load_scenario(out)
    assert again.population.entries_per_year == pytest.approx(600, rel=1e-3)
    with pytest.raises(FileExistsError):
        write_calibrated(cal, child, out, "data/obs.csv")


# ---------------------------------------------------------------------------
# Bad data files and requests: exit 2 with a clear message
# ---------------------------------------------------------------------------


GOOD = "year,measure,step,value\n2024,stock_end,placed,150\n2025,stock_end,placed,160\n"


@pytest.mark.parametrize(
    "text, words",
    [
        ("year,step,value\n2024,placed,150\n", ["missing column(s)", "measure"]),
        (
            "year,measure,step,value\n2024,stock_end,plaed,150\n2025,stock_end,placed,1\n",
            ["row 2, step", "'plaed'", "allowed"],
        ),
        (
            "year,measure,step,value\n2024,stock_end,placed,-5\n2025,stock_end,placed,1\n",
            ["row 2, value", "at least 0"],
        ),
        ("year,measure,step,value\n2024,stock_end,placed,150\n", ["only 2024", "at least two years"]),
        ("year,measure,step,value\n2024,stocks,placed,150\n", ["unknown measure 'stocks'"]),
        ("year,measure,step,value,colour\n2024,stock_end,placed,150,red\n", ["'colour'", "unknown column"]),
        ("year,measure,step,value\n2024,stock_end,placed,150\n2024,stock_end,placed,151\n", ["given twice"]),
    ],
)
def test_bad_data_files_exit_2_with_a_clear_message(write_scenario, tmp_path, capsys, text, words):
    scenario = write_scenario(toy_dict())
    data = tmp_path / "observed.csv"
    data.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        [
            "calibrate",
            str(scenario),
            "--observed",
            str(data),
            "--fit",
            "transitions.placed.closed",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("trappesim: error: ") and str(data) in err and "Traceback" not in err
    for w in words:
        assert w in err
    assert not out.exists() and not (tmp_path / "scenario-calibrated.toml").exists()


@pytest.mark.parametrize(
    "keys, words",
    [
        (["transitions.placed.clsed"], ["not a number in the scenario"]),
        (["steps.placed"], ["not a number in the scenario"]),
        (["transitions.mid.low", "transitions.mid.low"], ["given twice"]),
    ],
)
def test_bad_keys_to_fit_exit_2(write_scenario, tmp_path, capsys, keys, words):
    scenario = write_scenario(toy_dict())
    data = tmp_path / "observed.csv"
    data.write_text(GOOD, encoding="utf-8")
    assert (
        main(
            [
                "calibrate",
                str(scenario),
                "--observed",
                str(data),
                "--fit",
                *keys,
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert all(w in err for w in words) and "Traceback" not in err


def test_rows_of_other_ages_or_years_are_left_out_with_a_reason(toy, tmp_path):
    data = tmp_path / "observed.csv"
    data.write_text(
        "year,measure,step,ages,value\n2024,stock_end,placed,0-17,150\n2024,stock_end,placed,0-22,180\n"
        "2010,stock_end,placed,,100\n2024,persons_in_year,placed,,500\n",
        encoding="utf-8",
    )
    obs = read_observed(data, toy)
    assert len(obs.rows) == 1
    reasons = " ".join(obs.left_out)
    assert "ages 0-22, the scenario models 0-17" in reasons
    assert "outside the scenario's years 2024-2033" in reasons
    assert "a measure the model does not give" in reasons
    assert obs.rows["sd"].iloc[0] == pytest.approx(150 * 0.05)  # no sd, no confidence: 5 %


def test_cli_calibrate_writes_scenario_chart_and_tables(write_scenario, tmp_path, capsys, toy):
    scenario = write_scenario(toy_dict(), "toy.toml")
    obs = observed_from(toy, 0.02)
    data = tmp_path / "observed.csv"
    obs.rows.drop(columns="source").to_csv(data, index=False)
    out = tmp_path / "cal"
    code = main(
        [
            "calibrate",
            str(scenario),
            "--observed",
            str(data),
            "--fit",
            "transitions.placed.closed",
            "--des-replications",
            "2",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "transitions.placed.closed" in printed and "root mean square error" in printed
    assert (tmp_path / "toy-calibrated.toml").is_file()
    assert (out / "charts" / "calibration.png").stat().st_size > 10_000
    fit = pd.read_csv(out / "fit.csv")
    assert {"value", "before", "after", "des_mean"} <= set(fit.columns)
    import json

    meta = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert meta["kind"] == "calibration" and set(meta["scenarios"]) == {"scenario", "calibrated"}
    assert str(data) in meta["input_files_sha256"]
    # The scenario file is never replaced: a second run refuses before fitting.
    assert (
        main(
            [
                "calibrate",
                str(scenario),
                "--observed",
                str(data),
                "--fit",
                "transitions.placed.closed",
                "--out",
                str(tmp_path / "cal2"),
            ]
        )
        == 2
    )
    assert "exists" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Short and long stays; the shipped national baseline
# ---------------------------------------------------------------------------


def test_stay_mixture_recovers_short_and_long_stays():
    share = exit_share(0.6, 0.5, 9.0)
    mean = 0.6 * 0.5 + 0.4 * 9.0
    m = fit_stay_mixture(share, mean, short_mean_years=0.5)
    assert m.short_share == pytest.approx(0.6, rel=1e-6)
    assert m.long_mean_years == pytest.approx(9.0, rel=1e-6)


def test_one_exponential_cannot_match_the_danish_exit_share():
    m = fit_stay_mixture(0.16, 3.5)
    assert m.exponential_exit_share == pytest.approx(1 - math.exp(-1 / 3.5))
    assert m.exponential_exit_share > 0.24  # one exponential: a quarter of the stock leaves each year
    assert exit_share(m.short_share, m.short_mean_years, m.long_mean_years) == pytest.approx(0.16)
    with pytest.raises(ValueError):
        fit_stay_mixture(0.9, 3.5)


@pytest.mark.slow
def test_shipped_national_baseline_reproduces_the_shipped_observations():
    """Placed children 0-17 and new placements, 2018-2023, each within 5 %."""
    base = sim.load_scenario(SCENARIOS / "denmark-baseline.toml")
    obs = read_observed(SCENARIOS / "data" / "denmark-observed.csv", base)
    rows = obs.rows[(obs.rows["step"] == "placed") & obs.rows["year"].between(2018, 2023)]
    assert set(rows["measure"]) == {"stock_end", "placement_entries"} and len(rows) == 10
    model = model_values(sim.expected(base), rows)
    rel = np.abs(model / rows["value"].to_numpy() - 1)
    assert rel.max() < 0.05, rel


def test_shipped_observed_data_name_their_sources():
    df = pd.read_csv(SCENARIOS / "data" / "denmark-observed.csv")
    assert df["source"].notna().all() and df["confidence"].isin(["H", "M", "L"]).all()
    assert set(df["year"]) == set(range(2015, 2024))  # 2015-2023, as domain.md gives them
    assert {"stock_end", "placement_entries", "persons_in_year", "stock_exit_share"} <= set(df["measure"])


def test_a_small_count_of_children_can_be_fitted(toy):
    """The toy starts with 150 placed children: a count that small still gets a slope."""
    truth = toy
    wrong = toy.with_changes({"population.initial_stock.placed.children": 100})
    cal = calibrate(wrong, observed_from(truth, 0.01), ["population.initial_stock.placed.children"], 0)
    row = cal.table.iloc[0]
    assert row["identified"] and row["fitted"] == pytest.approx(150, abs=15)


def test_keys_not_identified_are_not_written_and_stamps_do_not_stack(toy, tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    original = sim.load_scenario(path)
    keys = ["transitions.placed.closed", "steps.low.cost_per_year"]
    cal = calibrate(original, observed_from(original, 0.02), keys, 0)
    once = write_calibrated(cal, path, tmp_path / "once.toml", "obs.csv")
    text = once.read_text(encoding="utf-8")
    assert text.count("calibrated to obs.csv") == 1  # the cost, not identified, keeps its own number
    again = calibrate(sim.load_scenario(once), observed_from(original, 0.02), keys[:1], 0)
    twice = write_calibrated(again, once, tmp_path / "twice.toml", "obs.csv")
    line = next(x for x in twice.read_text(encoding="utf-8").splitlines() if "calibrated to" in x)
    assert line.count("calibrated to") == 1  # replaced, not stacked
