"""Calibration: parameter recovery, exact data, identification, bad data files, the shipped baseline."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import SCENARIOS, toy_dict

import sim
from sim.analysis.calibrate import (
    CalibrationError,
    Observed,
    calibrate,
    exit_share,
    fit_stay_mixture,
    model_values,
    read_observed,
    write_calibrated,
)
from sim.cli import main
from sim.outputs import language as L

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
    assert (
        "(was 500); note on the old value: case system 2023" in text
    )  # the old comment is kept after the stamp
    assert "[transitions.placed]" in text or "transitions" in text  # an inherited key is added
    again = sim.load_scenario(out)
    assert again.population.entries_per_year == pytest.approx(600, rel=1e-3)
    from sim.errors import OutputExistsError

    with pytest.raises(OutputExistsError):  # a TrappesimError, and a FileExistsError as before
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
            ["row 2, column step", "'plaed'", "allowed"],
        ),
        (
            "year,measure,step,value\n2024,stock_end,placed,-5\n2025,stock_end,placed,1\n",
            ["row 2, column value", "at least 0"],
        ),
        ("year,measure,step,value\n2024,stock_end,placed,150\n", ["only 2024", "at least two years"]),
        ("year,measure,step,value\n2024,stocks,placed,150\n", ["unknown measure 'stocks'"]),
        ("year,measure,step,value,colour\n2024,stock_end,placed,150,red\n", ["'colour'", "unknown column"]),
        ("year,measure,step,value\n2024,stock_end,placed,150\n2024,stock_end,placed,151\n", ["given twice"]),
        # The issue: "11.500" in a comma-separated file was read as 11.5 and the fit ran to an extreme.
        (
            "year,measure,step,value\n2024,stock_end,placed,150\n2025,stock_end,placed,11.500\n",
            ["row 3, column value", "'11.500' is ambiguous", "11.5 or 11500"],
        ),
        (
            'year,measure,step,value\n2024,stock_end,placed,150\n2025,stock_end,placed,"0,5"\n',
            ["row 3, column value", "'0,5' cannot be read", "'.' is the decimal mark"],
        ),
        (
            "year,measure,step,value\n2024,stock_end,placed,150\n2025,stock_end,placed,0,5\n",
            ["row 3: 5 values but 4 columns", "decimal comma"],
        ),
        (
            "year;measure;step;value\n2024;stock_end;placed;150\n2025;stock_end;placed;0.5\n",
            ["row 3, column value", "'0.5' cannot be read", "semicolon", "11,5"],
        ),
        (
            "year;measure;step;value\n2024;stock_end;placed;150\n2025;stock_end;placed;\n",
            ["row 3, column value", "empty"],
        ),
        (
            "year;measure;step;value\n2024,5;stock_end;placed;150\n2025;stock_end;placed;1\n",
            ["row 2, column year", "whole year"],
        ),
        (
            "year;measure;step;value;sd\n2024;stock_end;placed;150;-1\n2025;stock_end;placed;1;\n",
            ["row 2, column sd", "positive"],
        ),
        (
            "year measure step value\n2024 stock_end placed 150\n",
            ["missing column(s)", "commas, or by semicolons"],
        ),
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


@pytest.mark.charts
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


# ---------------------------------------------------------------------------
# Files from Danish Excel: semicolons, decimal commas, "." between thousands
# ---------------------------------------------------------------------------


def danish_excel(path, rows: list[list[str]], encoding: str = "utf-8-sig", sep_line: bool = False) -> None:
    """Write rows as Danish Excel saves "CSV": semicolons, "11.500" and "0,16", CRLF line ends.

    ``utf-8-sig`` is "CSV UTF-8" (with a byte-order mark); ``cp1252`` is the
    plain "CSV" of Danish Windows. Numbers are formatted here by hand, not by
    the code under test.
    """

    def da(text: str) -> str:
        if not text:
            return text
        whole, _, decimals = text.partition(".")
        groups = []
        while len(whole) > 3:
            whole, groups = whole[:-3], [whole[-3:], *groups]
        return ".".join([whole, *groups]) + ("," + decimals if decimals else "")

    import csv
    import io

    header, *body = rows
    value, sd = header.index("value"), header.index("sd")
    text = io.StringIO()
    if sep_line:
        text.write("sep=;\r\n")
    writer = csv.writer(
        text, delimiter=";", lineterminator="\r\n"
    )  # quotes a text with ";" in it, as Excel does
    writer.writerow(header)
    for r in body:
        r = list(r)
        r[value], r[sd] = da(r[value]), da(r[sd])
        writer.writerow(r)
    path.write_bytes(text.getvalue().encode(encoding))


SHIPPED = SCENARIOS / "data" / "denmark-observed.csv"


@pytest.fixture(scope="module")
def national() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "denmark-baseline.toml")


@pytest.mark.parametrize(
    "encoding, sep_line", [("utf-8-sig", False), ("cp1252", False), ("utf-8-sig", True), ("utf-8", False)]
)
def test_the_shipped_data_saved_by_danish_excel_read_the_same(national, tmp_path, encoding, sep_line):
    import csv

    rows = list(csv.reader(SHIPPED.open(encoding="utf-8")))
    rows[1][-1] = "Danmarks Statistik, børn og unge anbragt"  # a Danish letter in Windows-1252 too
    danish = tmp_path / "observed-da.csv"
    danish_excel(danish, rows, encoding, sep_line)
    assert b"13.823" in danish.read_bytes() and b"0,16" in danish.read_bytes()  # really Danish
    plain = tmp_path / "observed.csv"
    with plain.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    a, b = read_observed(danish, national), read_observed(plain, national)
    pd.testing.assert_frame_equal(a.rows, b.rows)
    assert a.left_out == b.left_out and len(a.rows) == 13
    assert a.rows.loc[a.rows["measure"].eq("stock_end") & a.rows["year"].eq(2019), "value"].tolist() == [
        11500.0
    ]


@pytest.mark.parametrize(
    "text, danish, value",
    [
        ("11.500", True, 11500.0),
        ("1.234,5", True, 1234.5),
        ("1.234.567", True, 1234567.0),
        ("0,16", True, 0.16),
        ("13823", True, 13823.0),
        ("1234,5", True, 1234.5),
        ("11500", False, 11500.0),
        ("0.16", False, 0.16),
        ("11.5", False, 11.5),
        ("1.2345", False, 1.2345),
    ],
)
def test_numbers_in_both_conventions(text, danish, value):
    from sim.analysis.calibrate import _number

    assert _number(text, danish, count=True) == value


@pytest.mark.parametrize(
    "text, danish, count, words",
    [
        ("0.16", True, False, "cannot be read"),  # a decimal point in a Danish file
        ("11.5", True, True, "cannot be read"),
        ("0.160", True, True, "cannot be read"),  # not thousands: a group cannot start with 0
        ("12 500", True, True, "not a number"),
        ("11.500", False, True, "ambiguous"),  # a count in a comma file: 11.5 or 11500?
        ("1.500", False, True, "ambiguous"),
        ("1.234.567", False, True, "cannot be read"),
        ("11,500", False, True, "cannot be read"),
        ("abc", False, True, "not a number"),
    ],
)
def test_numbers_that_cannot_be_read_or_could_be_read_two_ways_are_refused(text, danish, count, words):
    from sim.analysis.calibrate import _number

    with pytest.raises(ValueError, match=words):
        _number(text, danish, count)


def test_a_share_with_three_decimals_in_a_comma_file_is_not_ambiguous():
    from sim.analysis.calibrate import _number

    assert _number("0.160", False, count=False) == 0.16
    assert _number("1.500", False, count=False) == 1.5  # not a count: "1.500" cannot mean 1500 children


def test_a_danish_file_with_a_stray_decimal_point_names_its_row_and_column(write_scenario, tmp_path, capsys):
    scenario = write_scenario(toy_dict())
    data = tmp_path / "observed.csv"
    data.write_bytes(
        "\ufeffyear;measure;step;value\r\n2024;stock_end;placed;1.150\r\n2025;stock_end;placed;160.5\r\n".encode()
    )
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
    assert code == 2 and err.startswith(
        f"trappesim: error: {data}: row 3, column value: '160.5' cannot be read"
    )
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "scenario-calibrated.toml").exists()


def test_calibrating_to_a_danish_file_gives_the_same_fit(toy, tmp_path):
    obs = observed_from(toy, 0.02)
    rows = [["year", "measure", "step", "value", "sd"]] + [
        [str(r.year), r.measure, r.step, f"{r.value:.4f}", f"{r.sd:.4f}"] for r in obs.rows.itertuples()
    ]
    danish, plain = tmp_path / "da.csv", tmp_path / "plain.csv"
    danish_excel(danish, rows)
    plain.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    assert "," in danish.read_text(encoding="utf-8-sig").splitlines()[1]  # decimal commas
    a = calibrate(toy, read_observed(danish, toy), ["transitions.placed.closed"], 0)
    b = calibrate(toy, read_observed(plain, toy), ["transitions.placed.closed"], 0)
    assert a.chi2 == b.chi2 and a.table["fitted"].equals(b.table["fitted"])


# ---------------------------------------------------------------------------
# A fit that fails writes nothing and exits non-zero
# ---------------------------------------------------------------------------


def _units_wrong(toy, tmp_path) -> Path:
    """Observed placed children given in hundreds: no rate can match them."""
    obs = observed_from(toy, 0.02)
    rows = obs.rows.drop(columns="source").copy()
    placed = rows["measure"].eq("stock_end") & rows["step"].eq("placed")
    rows.loc[placed, "value"] /= 100
    rows.loc[placed, "sd"] /= 100
    path = tmp_path / "observed.csv"
    rows.to_csv(path, index=False, float_format="%.6f")
    return path


@pytest.mark.parametrize(
    "lang, words",
    [
        ("en", ["the fit failed, so nothing was written", "more than 10 per degree of freedom is refused"]),
        ("da", ["tilpasningen mislykkedes, så intet blev skrevet", "over 10 pr. frihedsgrad afvises"]),
    ],
)
def test_a_failed_fit_exits_1_and_writes_no_scenario_and_no_folder(
    write_scenario, tmp_path, capsys, toy, lang, words
):
    scenario = write_scenario(toy_dict(), "toy.toml")
    data = _units_wrong(toy, tmp_path)
    out = tmp_path / "cal"
    args = [
        "calibrate",
        str(scenario),
        "--observed",
        str(data),
        "--fit",
        "transitions.mid.placed",
        "transitions.placed.closed",
    ]
    code = main([*args, "--out", str(out), "--lang", lang])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert all(w in captured.err for w in words) and "Traceback" not in captured.err
    assert not out.exists() and not (tmp_path / "toy-calibrated.toml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["observed.csv", "toy.toml"]  # nothing hidden either


def test_what_makes_a_fit_fail(toy, tmp_path):
    import dataclasses

    good = calibrate(toy, observed_from(toy, 0.02), TRUE_KEYS, 0)
    assert good.problem() is None
    assert "did not converge" in dataclasses.replace(good, success=False, message="too many steps").problem()
    assert "standard errors on average" in dataclasses.replace(good, chi2=11.0 * good.dof).problem()
    assert dataclasses.replace(good, chi2=9.0 * good.dof).problem() is None
    extreme = good.table.assign(identified=False, reason="extreme")
    assert "ran to an extreme value" in dataclasses.replace(good, table=extreme).problem()
    wide = good.table.assign(identified=False, reason="wide")
    assert "none of the keys" in dataclasses.replace(good, table=wide).problem()
    assert "ikke" in dataclasses.replace(good, success=False).problem("da")
    failed = dataclasses.replace(good, success=False)
    src = tmp_path / "toy.toml"
    src.write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    with pytest.raises(CalibrationError, match="not written: the fit failed"):
        write_calibrated(failed, src, tmp_path / "out.toml", "obs.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.toml"]


def test_a_failed_fit_is_not_checked_with_the_simulation(toy, monkeypatch):
    """The DES check of an absurd fit could take very long (rates at extremes); it is skipped."""
    import sim.analysis.calibrate as calibration

    obs = observed_from(toy, 0.02)
    obs.rows.loc[obs.rows["step"].eq("placed"), "value"] /= 100
    ran = []
    real = calibration.simulate
    monkeypatch.setattr(calibration, "simulate", lambda *a, **k: ran.append(k.get("engine")) or real(*a, **k))
    cal = calibrate(toy, obs, ["transitions.mid.placed", "transitions.placed.closed"], des_replications=3)
    assert cal.problem() is not None and "des" not in ran and "des_z" not in cal.fit


def test_a_check_with_one_simulation_run_is_not_called_agreement(write_scenario, tmp_path, capsys, toy):
    """One run has no standard error: its gap is given in per cent, not as "0.0 standard errors"
    (a z of 0, which read as perfect agreement); few runs are said to make a rough check."""
    scenario = write_scenario(toy_dict(), "toy.toml")
    data = tmp_path / "observed.csv"
    observed_from(toy, 0.02).rows.drop(columns="source").to_csv(data, index=False)
    fit = ["--fit", "transitions.placed.closed", "--lang", "en"]
    args = ["calibrate", str(scenario), "--observed", str(data), *fit]
    assert main([*args, "--des-replications", "1", "--out", str(tmp_path / "one")]) == 0
    printed = capsys.readouterr().out
    assert "DES check (1 run): largest relative gap to the analytic fit" in printed
    assert "standard errors" not in printed.split("DES check")[1].split("\n")[0].replace(
        "no standard error", ""
    )
    assert np.isnan(pd.read_csv(tmp_path / "one" / "fit.csv")["des_z"]).all()
    (tmp_path / "toy-calibrated.toml").unlink()
    assert main([*args, "--des-replications", "3", "--out", str(tmp_path / "three")]) == 0
    printed = capsys.readouterr().out
    assert "standard errors (largest relative gap" in printed and "only large gaps show" in printed


def test_calibrate_prints_in_the_scenario_language_or_lang(write_scenario, tmp_path, capsys, toy):
    scenario = write_scenario(toy_dict(language="da"), "toy.toml")
    data = tmp_path / "observed.csv"
    observed_from(toy, 0.02).rows.drop(columns="source").to_csv(data, index=False)
    args = ["calibrate", str(scenario), "--observed", str(data), "--fit", "transitions.placed.closed"]
    assert main([*args, "--des-replications", "2", "--out", str(tmp_path / "da")]) == 0
    printed = capsys.readouterr().out
    assert "kalibreret til" in printed and "frihedsgrader" in printed and "Kontrol med simulering" in printed
    # The worst row in words ("2028 afgang, Mellem"), not its keys ("2028 closed mid").
    line = next(line for line in printed.splitlines() if "størst" in line).split("størst", 1)[1]
    fit = pd.read_csv(tmp_path / "da" / "fit.csv")
    worst = fit.iloc[int(np.argmax(np.abs(fit["rel_error"].to_numpy())))]
    assert f"{worst['measure']} {worst['step']}" not in line, line
    assert L.step_name(toy, worst["step"], "da") in line, line
    assert "Kalibreret scenarie skrevet til" in printed and "Resultater skrevet til" in printed
    assert re.search(r"0,\d+ +-> +0,\d+", printed)  # decimal commas
    assert "degrees of freedom" not in printed
    (tmp_path / "toy-calibrated.toml").unlink()
    assert main([*args, "--des-replications", "0", "--out", str(tmp_path / "en"), "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert "calibrated to" in printed and "degrees of freedom" in printed and "Results written to" in printed
    assert re.search(r"0\.\d+ +-> +0\.\d+", printed)


def test_calibrate_takes_paths_and_one_key_as_every_function_does(toy, tmp_path):
    """read_observed(csv, "scenario.toml") raised AttributeError, calibrate(s, "obs.csv", ...) too, and
    fit="transitions.mid.placed" was read letter by letter ("key 't'")."""
    from sim.errors import OptionError

    path = tmp_path / "toy.toml"
    path.write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    csv = tmp_path / "obs.csv"
    observed_from(toy).rows.to_csv(csv, index=False)
    assert read_observed(csv, path).rows.equals(read_observed(csv, toy).rows)
    by_path = calibrate(path, csv, "transitions.mid.placed", des_replications=0)
    by_object = calibrate(toy, read_observed(csv, toy), ["transitions.mid.placed"], des_replications=0)
    pd.testing.assert_frame_equal(by_path.table, by_object.table)
    for bad in (-1, 2.5):
        with pytest.raises(
            OptionError, match=f"des_replications must be a whole number of at least 0, not {bad}"
        ):
            calibrate(toy, csv, "transitions.mid.placed", des_replications=bad)
