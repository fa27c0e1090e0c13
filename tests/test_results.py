"""Results folders: atomic writing, the manifest, and what write_results puts in a folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import INTERVENTION, PNG_MAGIC, toy_dict

import sim
from sim.outputs import results, writers
from sim.outputs.results import OutputExistsError, atomic_folder, manifest, write_results


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A baseline, a strategy extending it, and a variant extending the strategy."""
    d = tmp_path_factory.mktemp("inputs")
    paths = {"base": d / "base.toml", "plan": d / "plan.toml", "variant": d / "variant.toml"}
    paths["base"].write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    plan = {"extends": "base.toml", "name": "plan", "intervention": INTERVENTION}
    paths["plan"].write_text(tomli_w.dumps(plan), encoding="utf-8")
    variant = {"extends": "plan.toml", "name": "variant", "intervention": {"cost_per_year": 2e6}}
    paths["variant"].write_text(tomli_w.dumps(variant), encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def result(files) -> sim.Result:
    return sim.simulate(sim.load_scenario(files["base"]), replications=2, seed=3)


@pytest.fixture(scope="module")
def comparison(files) -> sim.Comparison:
    base, plan = sim.load_scenario(files["base"]), sim.load_scenario(files["plan"])
    return sim.compare(base, plan, replications=2, seed=3)


# ---------------------------------------------------------------------------
# atomic_folder
# ---------------------------------------------------------------------------


def test_atomic_folder_renames_into_place_on_success(tmp_path):
    out = tmp_path / "deep" / "er" / "results"
    with atomic_folder(out, force=False) as tmp:
        assert tmp != out and tmp.parent == out.parent and tmp.name.startswith(".")
        assert not out.exists()  # nothing visible while the body runs
        (tmp / "a.txt").write_text("a", encoding="utf-8")
    assert (out / "a.txt").read_text(encoding="utf-8") == "a"
    assert hidden(out.parent) == []


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_atomic_folder_leaves_nothing_when_the_body_raises(tmp_path, error):
    out = tmp_path / "results"
    with pytest.raises(error):
        with atomic_folder(out, force=False) as tmp:
            (tmp / "half.txt").write_text("half", encoding="utf-8")
            raise error("boom")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_folder_refuses_an_existing_folder_before_the_body_runs(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf-8")
    ran = []
    with pytest.raises(OutputExistsError, match="--force"):
        with atomic_folder(out, force=False):
            ran.append(True)
    assert ran == []
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    assert hidden(tmp_path) == []


def _old_run(out):
    """A folder as an earlier run left it: only those may be replaced with force."""
    out.mkdir()
    (out / "manifest.json").write_text('{"trappesim_version": "0"}', encoding="utf-8")
    (out / "old.txt").write_text("old", encoding="utf-8")


def test_force_keeps_the_old_folder_when_the_body_raises(tmp_path):
    out = tmp_path / "results"
    _old_run(out)
    with pytest.raises(RuntimeError):
        with atomic_folder(out, force=True) as tmp:
            (tmp / "new.txt").write_text("new", encoding="utf-8")
            # The old folder is still there while the new one is being written.
            assert (out / "old.txt").read_text(encoding="utf-8") == "old"
            raise RuntimeError("boom")
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "old.txt"]
    assert (out / "old.txt").read_text(encoding="utf-8") == "old"
    assert hidden(tmp_path) == []


def test_force_replaces_the_old_folder_after_success(tmp_path):
    out = tmp_path / "results"
    _old_run(out)
    with atomic_folder(out, force=True) as tmp:
        (tmp / "new.txt").write_text("new", encoding="utf-8")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert hidden(tmp_path) == []


def test_force_never_replaces_a_folder_that_is_not_a_run(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "README.md").write_text("mine", encoding="utf-8")
    (out / "other-run").mkdir()
    with pytest.raises(OutputExistsError, match="not a trappesim results folder"):
        with atomic_folder(out, force=True):
            pass
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "other-run"]


def test_atomic_folder_clears_a_stale_partial_folder(tmp_path):
    out = tmp_path / "results"
    with pytest.raises(RuntimeError):
        with atomic_folder(out, force=False) as tmp:
            raise RuntimeError
    tmp.mkdir()  # as if an earlier run with the same pid was killed
    (tmp / "stale.txt").write_text("stale", encoding="utf-8")
    with atomic_folder(out, force=False) as tmp2:
        (tmp2 / "fresh.txt").write_text("fresh", encoding="utf-8")
    assert [p.name for p in out.iterdir()] == ["fresh.txt"]
    assert hidden(tmp_path) == []


# ---------------------------------------------------------------------------
# What stopped runs left behind (kill -9, a power cut)
# ---------------------------------------------------------------------------


def dead_pid() -> int:
    """The process id of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=60)
    return proc.pid


def left(folder: Path, name: str, files: dict[str, str] | None = None) -> Path:
    """A hidden folder as a stopped run would have left it."""
    path = folder / name
    path.mkdir()
    for file, text in (files or {"half.csv": "year,value\n2024,"}).items():
        (path / file).write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def sleeper():
    """A process that is running (a concurrent run)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait(timeout=10)


posix_only = pytest.mark.skipif(os.name != "posix", reason="process ids are checked with POSIX signals")


@posix_only
def test_a_run_removes_what_stopped_runs_left_and_puts_replaced_results_back(tmp_path):
    gone = dead_pid()
    # Killed while writing another results folder.
    left(tmp_path, f".plan-vs-base-20261126-174512.partial-{gone}")
    # Killed while replacing 'kept' with --force, after the new one was in place.
    (tmp_path / "kept").mkdir()
    left(tmp_path, f".kept.old-{gone}")
    # Killed between the two renames: the previous results are all there is.
    left(tmp_path, f".earlier.old-{gone}", {"manifest.json": '{"trappesim_version": "0"}'})
    with atomic_folder(tmp_path / "new", force=False) as tmp:
        (tmp / "a.txt").write_text("a", encoding="utf-8")
    assert hidden(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier", "kept", "new"]
    assert (tmp_path / "earlier" / "manifest.json").is_file()  # nothing lost


@posix_only
def test_folders_of_a_run_still_going_are_left_alone(tmp_path, sleeper):
    theirs = left(tmp_path, f".other.partial-{sleeper}")  # a concurrent run, writing
    replacing = left(tmp_path, f".other2.old-{sleeper}")
    ours = left(tmp_path, f".mine.partial-{os.getpid()}")  # made by this process, after it started
    with atomic_folder(tmp_path / "new", force=False):
        pass
    assert theirs.is_dir() and replacing.is_dir() and ours.is_dir()
    assert (theirs / "half.csv").is_file()


@posix_only
def test_a_zombie_or_a_reused_process_id_does_not_keep_a_leftover(tmp_path, monkeypatch, sleeper):
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        assert wait_for_zombie(zombie.pid)
        assert not results.process_alive(zombie.pid)
    finally:
        zombie.wait(timeout=10)
    # The id of a stopped run now belongs to a process that started after the folder was last touched.
    stale = left(tmp_path, f".x.partial-{sleeper}")
    assert results.process_alive(sleeper, since=stale.stat().st_mtime)
    monkeypatch.setattr(results, "_started", lambda pid: time.time() + 60)
    assert not results.process_alive(sleeper, since=stale.stat().st_mtime)
    assert results.clear_leftovers(tmp_path) == [stale] and not stale.exists()


def wait_for_zombie(pid: int, timeout: float = 10) -> bool:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        if state == "Z":
            return True
        time.sleep(0.01)
    return False


@posix_only
def test_leftovers_only_touch_hidden_folders_of_the_known_names(tmp_path):
    gone = dead_pid()
    keep = [
        left(tmp_path, f".notes.partial-{gone}x"),  # not a process id
        left(tmp_path, f"visible.partial-{gone}"),  # not hidden
        left(tmp_path, f".somethingelse-{gone}"),
    ]
    (tmp_path / f".file.partial-{gone}").write_text("a file, not a folder", encoding="utf-8")
    assert results.clear_leftovers(tmp_path) == []
    assert all(p.exists() for p in keep) and (tmp_path / f".file.partial-{gone}").exists()


# ---------------------------------------------------------------------------
# manifest
# ---------------------------------------------------------------------------


def test_manifest_of_a_comparison_hashes_every_input_file(files, comparison):
    m = manifest(
        comparison, {"baseline": files["base"], "strategy": files["plan"]}, ["trappesim", "compare"], 1.23456
    )
    hashes = {Path(k).resolve(): v for k, v in m["input_files_sha256"].items()}
    assert hashes == {files[k].resolve(): sha256(files[k]) for k in ("base", "plan")}
    assert m["scenarios"]["baseline"]["file"] == str(files["base"])
    assert m["scenarios"]["strategy"]["file"] == str(files["plan"])
    assert m["scenarios"]["strategy"]["input_hash"] == comparison.strategy.scenario.input_hash()
    assert m["scenarios"]["strategy"]["resolved"] == comparison.strategy.scenario.to_dict()
    assert m["scenarios"]["baseline"]["resolved"] == comparison.base.scenario.to_dict()
    assert m["seed"] == 3 and m["replications"] == 2 and m["engine"] == "des"
    assert m["wall_time_seconds"] == pytest.approx(1.235)
    assert m["command"] == ["trappesim", "compare"]
    assert m["trappesim_version"] == results.version()
    assert {"python", "numpy", "pandas", "simpy"} <= m["environment"].keys()
    json.dumps(m)  # plain data


def test_manifest_follows_a_chain_of_extends(files):
    base, variant = sim.load_scenario(files["base"]), sim.load_scenario(files["variant"])
    cmp = sim.compare(base, variant, engine="expected")
    m = manifest(cmp, {"baseline": files["base"], "strategy": files["variant"]}, [], 0.0)
    hashes = {Path(k).resolve(): v for k, v in m["input_files_sha256"].items()}
    assert hashes == {p.resolve(): sha256(p) for p in files.values()}


def test_manifest_of_a_run_of_a_strategy_includes_the_file_it_extends(files):
    res = sim.simulate(sim.load_scenario(files["plan"]), engine="expected")
    m = manifest(res, {"scenario": files["plan"]}, [], 0.0)
    hashes = {Path(k).resolve(): v for k, v in m["input_files_sha256"].items()}
    assert hashes == {
        files["plan"].resolve(): sha256(files["plan"]),
        files["base"].resolve(): sha256(files["base"]),
    }
    assert set(m["scenarios"]) == {"scenario"}
    assert m["engine"] == "expected" and m["replications"] == 1


def test_manifest_input_hash_depends_on_scenarios_not_on_seed(files):
    base = sim.load_scenario(files["base"])
    a = manifest(sim.simulate(base, replications=1, seed=1), {"scenario": files["base"]}, [], 0.0)
    b = manifest(sim.simulate(base, replications=1, seed=2), {"scenario": files["base"]}, [], 0.0)
    assert a["input_hash"] == b["input_hash"] and a["seed"] != b["seed"]
    changed = sim.simulate(base.with_changes({"steps.placed.cost_per_year": 600_000}), engine="expected")
    c = manifest(changed, {"scenario": files["base"]}, [], 0.0)
    assert c["input_hash"] != a["input_hash"]


# ---------------------------------------------------------------------------
# write_results
# ---------------------------------------------------------------------------


@pytest.mark.charts
def test_write_results_for_a_result(files, result, tmp_path):
    out = tmp_path / "results"
    assert write_results(result, out, {"scenario": files["base"]}, ["trappesim", "run"], 0.5) == out
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert names == {
        "manifest.json",
        "yearly.csv",
        "summary.csv",
        "arrays.npz",
        "report.xlsx",
        "report.html",
        "charts/staircase.png",
        "charts/staircase.svg",
    }
    assert (out / "charts" / "staircase.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / "charts" / "staircase.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")

    yearly = pd.read_csv(out / "yearly.csv")
    assert list(yearly.columns) == [*result.yearly.columns, "arm"]
    assert (yearly["arm"] == "scenario").all()
    # CSV files keep a stated precision: counts to 0.01, money to whole kroner (README).
    for col, atol in (("stock_end", 0.005), ("child_years", 0.005), ("cost", 0.5), ("cost_discounted", 0.5)):
        np.testing.assert_allclose(yearly[col], result.yearly[col], rtol=0, atol=atol, err_msg=col)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["metric"]) == list(result.summary.index)
    np.testing.assert_allclose(summary["mean"], result.summary["mean"], rtol=0, atol=0.5)

    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["command"] == ["trappesim", "run"] and m["wall_time_seconds"] == 0.5
    assert m["write_seconds"] >= 0
    assert hidden(tmp_path) == []


@pytest.mark.charts
def test_write_results_for_a_comparison(files, comparison, tmp_path):
    out = tmp_path / "results"
    inputs = {"baseline": files["base"], "strategy": files["plan"]}
    write_results(comparison, out, inputs, ["trappesim", "compare"], 0.5)
    for stem in ("staircase", "placements_avoided", "payback", "placed_children", "waterfall"):
        png = (out / "charts" / f"{stem}.png").read_bytes()
        assert png.startswith(PNG_MAGIC) and len(png) > 20_000, stem  # rendered (marked `charts`)
        svg = (out / "charts" / f"{stem}.svg").read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") and len(svg) > 20_000, stem

    cmp = pd.read_csv(out / "comparison.csv")
    assert list(cmp["metric"]) == list(comparison.summary.index)
    np.testing.assert_allclose(cmp["mean"], comparison.summary["mean"], rtol=0, atol=0.5, equal_nan=True)
    cy = pd.read_csv(out / "comparison_yearly.csv")
    np.testing.assert_allclose(
        cy["cum_net_savings_discounted"], comparison.yearly["cum_net_savings_discounted"], rtol=0, atol=0.5
    )
    yearly = pd.read_csv(out / "yearly.csv")
    assert list(yearly["arm"].unique()) == ["baseline", "strategy"]
    assert len(yearly) == len(comparison.base.yearly) + len(comparison.strategy.yearly)
    assert (yearly[yearly.arm == "strategy"].step == "programme").sum() == 10  # its costs belong to no step
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["arm"]) == {"baseline", "strategy"}

    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(m["scenarios"]) == {"baseline", "strategy"}
    assert {Path(p).resolve() for p in m["input_files_sha256"]} == {
        files["base"].resolve(),
        files["plan"].resolve(),
    }


@pytest.mark.parametrize("lang", ["da", "en"])
def test_warnings_about_the_inputs_travel_with_the_figures(tmp_path, lang):
    """A number the command warns about before the run (10 meant as 10 %) is in the manifest, at the top
    of the report and on the workbook's first sheet: the terminal is not all a decision maker sees."""
    from openpyxl import load_workbook

    base = sim.Scenario.from_dict(toy_dict())
    iv = {**INTERVENTION, "entry": {"extra_entries_share": 10}}
    plan = base.with_changes({"name": "plan", "intervention": iv}, warn=False)
    cmp = sim.compare(base, plan, engine="expected")
    out = write_results(cmp, tmp_path / "warned", {}, ["trappesim", "compare"], 0.1, lang=lang)
    warned = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["warnings"]
    assert len(warned) == 1 and "intervention.entry.extra_entries_share" in warned[0]
    assert "if 10 % is meant, write 0.1" in warned[0]
    html = (out / "report.html").read_text(encoding="utf-8")
    from html import unescape

    box = unescape(html.split('<section id="warnings"')[1].split("</section>")[0])
    assert sim.outputs.language.t("inputs_warned", lang, n=1) in box and "extra_entries_share" in box
    ws = load_workbook(out / "report.xlsx").worksheets[0]
    assert ws["A3"].value == sim.outputs.language.t("inputs_warned", lang, n=1)
    assert any(warned[0] == c.value for row in ws.iter_rows() for c in row)
    # From Python, with no files: each warning names the scenario it is about.
    assert warned[0].startswith("plan: key ")
    # Files the command does not warn about: none of it.
    clean = write_results(sim.compare(base, base.with_changes({"name": "same"}), engine="expected"),
                          tmp_path / "clean", {}, ["trappesim", "compare"], 0.1, lang=lang)  # fmt: skip
    assert json.loads((clean / "manifest.json").read_text(encoding="utf-8"))["warnings"] == []
    assert 'id="warnings"' not in (clean / "report.html").read_text(encoding="utf-8")
    assert load_workbook(clean / "report.xlsx").worksheets[0]["A3"].value is None


def test_write_results_refuses_an_existing_folder(files, result, tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    with pytest.raises(OutputExistsError):
        write_results(result, out, {"scenario": files["base"]}, [], 0.0)
    assert list(out.iterdir()) == []
    write_results(result, out, {"scenario": files["base"]}, [], 0.0, force=True)
    assert (out / "manifest.json").is_file()


def _break_chart(monkeypatch, stem: str, draw) -> None:
    """Make one registered chart fail (the writers read the registry when they write)."""
    charts = [replace(c, draw=draw) if c.stem == stem else c for c in writers.CHARTS]
    monkeypatch.setattr(writers, "CHARTS", charts)


def test_write_results_leaves_nothing_when_a_chart_fails(files, comparison, tmp_path, monkeypatch):
    def broken(_cmp, _lang=None):
        raise RuntimeError("chart failed")

    _break_chart(monkeypatch, "payback", broken)
    out = tmp_path / "results"
    with pytest.raises(RuntimeError, match="chart failed"):
        write_results(comparison, out, {"baseline": files["base"], "strategy": files["plan"]}, [], 0.0)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_write_results_with_force_keeps_old_results_when_writing_fails(
    files, comparison, tmp_path, monkeypatch
):
    out = tmp_path / "results"
    _old_run(out)
    _break_chart(monkeypatch, "payback", lambda _cmp, _lang=None: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_results(
            comparison, out, {"baseline": files["base"], "strategy": files["plan"]}, [], 0.0, force=True
        )
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "old.txt"]
    assert hidden(tmp_path) == []


# ---------------------------------------------------------------------------
# load_results and remake_reports: reports remade without a rerun
# ---------------------------------------------------------------------------


def _compare_folder(files, comparison, folder: Path, lang: str | None = None) -> Path:
    inputs = {"baseline": files["base"], "strategy": files["plan"]}
    return write_results(comparison, folder, inputs, ["trappesim", "compare"], 0.5, lang=lang)


def test_a_comparison_folder_loads_back_to_the_same_tables(files, comparison, tmp_path):
    out = _compare_folder(files, comparison, tmp_path / "results")
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["kind"] == "compare"
    back = results.load_results(out)
    assert isinstance(back, sim.Comparison)
    pd.testing.assert_frame_equal(back.summary, comparison.summary)
    pd.testing.assert_frame_equal(back.yearly, comparison.yearly)
    pd.testing.assert_frame_equal(back.strategy.yearly, comparison.strategy.yearly)
    assert back.base.scenario.input_hash() == comparison.base.scenario.input_hash()
    assert (back.base.seed, back.base.replications, back.base.engine) == (3, 2, "des")


def test_a_run_folder_loads_back(files, result, tmp_path):
    out = write_results(result, tmp_path / "run", {"scenario": files["base"]}, ["trappesim", "run"], 0.1)
    back = results.load_results(out)
    assert isinstance(back, sim.Result)
    pd.testing.assert_frame_equal(back.yearly, result.yearly)
    pd.testing.assert_frame_equal(back.summary, result.summary)


def _uncertain_pair(tmp_path: Path) -> tuple[Path, Path]:
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 80_000}
    base = tmp_path / "ubase.toml"
    base.write_text(tomli_w.dumps(d), encoding="utf-8")
    plan = tmp_path / "uplan.toml"
    hr = {"dist": "lognormal", "median": 0.7, "p95": 0.95}
    iv = {**INTERVENTION, "hazard_ratios": {"mid": {"placed": hr}}}
    plan.write_text(
        tomli_w.dumps({"extends": "ubase.toml", "name": "uplan", "intervention": iv}), encoding="utf-8"
    )
    return base, plan


def test_psa_and_tornado_folders_load_back_and_join_a_comparison_report(tmp_path):
    b, p = _uncertain_pair(tmp_path)
    base, plan = sim.load_scenario(b), sim.load_scenario(p)
    inputs = {"baseline": b, "strategy": p}
    cmp_dir = write_results(
        sim.compare(base, plan, replications=2, seed=1), tmp_path / "cmp", inputs, [], 0.1
    )
    psa = sim.psa(base, plan, draws=20, seed=2)
    psa_dir = write_results(psa, tmp_path / "psa", inputs, [], 0.1)
    torn = sim.tornado(base, plan)
    torn_dir = write_results(torn, tmp_path / "tornado", inputs, [], 0.1)

    psa_back = results.load_results(psa_dir)
    pd.testing.assert_frame_equal(psa_back.summary, psa.summary)
    pd.testing.assert_frame_equal(psa_back.table, psa.table)
    torn_back = results.load_results(torn_dir)
    # tornado.csv keeps the NPV in whole kroner and the numbers varied to six significant digits.
    assert torn_back.central == pytest.approx(torn.central, abs=0.5)
    pd.testing.assert_frame_equal(
        torn_back.table, torn.table, check_exact=False, check_dtype=False, rtol=1e-6, atol=0.5
    )

    written = results.remake_reports(cmp_dir, "en", [psa_dir, torn_dir])
    assert {"charts/breakeven.png", "charts/tornado.png", "report.html", "report.xlsx"} <= set(written)
    # The manifest says which folders the reports now show.
    shown = json.loads((cmp_dir / "manifest.json").read_text(encoding="utf-8"))["reports_with"]
    assert shown == [{"folder": str(psa_dir), "kind": "psa"}, {"folder": str(torn_dir), "kind": "tornado"}]
    html = (cmp_dir / "report.html").read_text(encoding="utf-8")
    assert "Probability that NPV &gt; 0" in html and "Not estimated" not in html
    assert "Each uncertain number at its low and high value" in html
    assert (
        "all others at their means; the outcome is net present value." in html
    )  # named, not only in its chart


def test_remake_reports_switches_language_and_leaves_the_numbers_alone(files, comparison, tmp_path):
    out = _compare_folder(files, comparison, tmp_path / "results", lang="en")
    assert "The answer" in (out / "report.html").read_text(encoding="utf-8")
    before = {p.name: sha256(p) for p in out.iterdir() if p.suffix in (".csv", ".npz")}
    meta = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert meta["language"] == "en"
    results.remake_reports(out, "da")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Svaret" in html and "The answer" not in html
    assert {p.name: sha256(p) for p in out.iterdir() if p.suffix in (".csv", ".npz")} == before
    # The manifest now says the reports are in Danish, and nothing else in it changed.
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8")) == {**meta, "language": "da"}
    assert hidden(out) == []


@pytest.mark.skipif(os.name != "posix", reason="process ids are checked with POSIX signals")
def test_remake_reports_tidies_what_a_stopped_remake_left(files, comparison, tmp_path):
    out = _compare_folder(files, comparison, tmp_path / "results", lang="en")
    gone = dead_pid()
    left(out, f".remake-{gone}")
    # Stopped between moving the old charts aside and the new ones in: the old ones come back.
    (out / "charts" / "mark").write_text("the old charts", encoding="utf-8")
    (out / "charts").rename(out / f".charts-old-{gone}")
    assert len(results.clear_leftovers(out)) == 2
    assert hidden(out) == [] and (out / "charts" / "mark").is_file()
    left(out, f".remake-{gone}")  # and a remake tidies before it starts
    results.remake_reports(out, "da")
    assert hidden(out) == [] and (out / "charts" / "payback.png").is_file()


def test_remake_reports_leaves_the_folder_as_it_was_when_a_chart_fails(
    files, comparison, tmp_path, monkeypatch
):
    out = _compare_folder(files, comparison, tmp_path / "results", lang="en")
    before = {p.relative_to(out).as_posix(): sha256(p) for p in out.rglob("*") if p.is_file()}
    _break_chart(monkeypatch, "waterfall", lambda _cmp, _lang=None: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        results.remake_reports(out, "da")
    assert {p.relative_to(out).as_posix(): sha256(p) for p in out.rglob("*") if p.is_file()} == before


def test_remake_reports_refuses_what_it_cannot_use(files, comparison, result, tmp_path):
    out = _compare_folder(files, comparison, tmp_path / "results")
    other = write_results(result, tmp_path / "run", {"scenario": files["base"]}, [], 0.1)
    with pytest.raises(results.ResultsFolderError, match="only psa, tornado and sensitivity"):
        results.remake_reports(out, None, [other])
    with pytest.raises(results.ResultsFolderError, match="no manifest.json"):
        results.load_results(tmp_path)
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text('{"trappesim_version": "0.0.1"}', encoding="utf-8")
    with pytest.raises(results.ResultsFolderError, match="run the scenario again"):
        results.load_results(old)
    (out / "arrays.npz").unlink()
    with pytest.raises(results.ResultsFolderError, match="incomplete results folder"):
        results.load_results(out)


def test_psa_of_other_scenarios_is_refused(files, comparison, tmp_path):
    out = _compare_folder(files, comparison, tmp_path / "results")
    b, p = _uncertain_pair(tmp_path)
    inputs = {"baseline": b, "strategy": p}
    psa = sim.psa(sim.load_scenario(b), sim.load_scenario(p), draws=5)
    psa_dir = write_results(psa, tmp_path / "psa", inputs, [], 0.1)
    with pytest.raises(results.ResultsFolderError, match="input hashes differ"):
        results.remake_reports(out, None, [psa_dir])


def test_a_report_refuses_a_tornado_of_another_perspective(tmp_path):
    b, p = _uncertain_pair(tmp_path)
    base, plan = sim.load_scenario(b), sim.load_scenario(p)
    inputs = {"baseline": b, "strategy": p}
    cmp_dir = write_results(sim.compare(base, plan, engine="expected"), tmp_path / "cmp", inputs, [], 0.1)
    torn = sim.tornado(base, plan, perspective="society")
    torn_dir = write_results(torn, tmp_path / "tornado", inputs, [], 0.1)
    assert results.load_results(torn_dir).perspective == "society"
    with pytest.raises(results.ResultsFolderError, match="counted from a public-sector perspective"):
        results.remake_reports(cmp_dir, "en", [torn_dir])


# ---------------------------------------------------------------------------
# CSV precision (issue 12): plain decimals at a stated precision, never residue
# ---------------------------------------------------------------------------

_RESIDUE = re.compile(r"\d\.\d{7,}|\d[eE][+-]?\d|^-0(?:\.0+)?$|\bnan\b|\binf\b")


def test_csv_files_keep_a_stated_precision(files, comparison, tmp_path):
    out = _compare_folder(files, comparison, tmp_path / "results")
    for path in out.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        for cell in re.split(r"[,\n]", text):
            assert not _RESIDUE.search(cell), (path.name, cell)
    yearly = pd.read_csv(out / "yearly.csv")
    whole = lambda col, d: np.allclose(col, col.round(d), rtol=0, atol=1e-9, equal_nan=True)  # noqa: E731
    assert whole(yearly["cost"], 0)  # money: whole kroner
    assert whole(yearly["stock_end"], 2) and not whole(yearly["stock_end"], 0)  # counts: two decimals
    cy = pd.read_csv(out / "comparison_yearly.csv")
    assert whole(cy["discount_factor"], 6)
    # Rounded columns add up to within the rounding: a year's rows give its total.
    per_year = yearly[yearly.arm == "strategy"].groupby("year")["cost"].sum()
    exact = comparison.strategy.yearly.groupby("year")["cost"].sum()
    n = yearly[yearly.arm == "strategy"].groupby("year").size()
    assert (abs(per_year - exact) <= 0.5 * n).all()
    # arrays.npz keeps every digit.
    with np.load(out / "arrays.npz") as npz:
        np.testing.assert_array_equal(npz["strategy:stock_end"], comparison.strategy.measures["stock_end"])


@pytest.mark.parametrize(
    "x, kind, text",
    [
        (504.84999999999997, "count", "504.85"),
        (-1.8e-13, "money", "0"),
        (12496.699999999999, "money", "12497"),
        (-0.004, "count", "0"),
        (0.7224999999999999, "value", "0.7225"),
        (924780.6955603505, "value", "924781"),
        (2028.5, "year", "2028.5"),
        (0.9661835748792271, "share", "0.966184"),
        (1e10, "money", "10000000000"),
        (float("nan"), "money", ""),
    ],
)
def test_float_format_writes_plain_decimals_at_the_stated_precision(x, kind, text):
    assert results.FLOAT_FORMAT(x, kind) == text


def test_tornado_csv_writes_the_outcome_in_its_own_unit(tmp_path):
    b, p = _uncertain_pair(tmp_path)
    torn = sim.tornado(sim.load_scenario(b), sim.load_scenario(p))
    out = write_results(torn, tmp_path / "tornado", {"baseline": b, "strategy": p}, [], 0.1)
    table = pd.read_csv(out / "tornado.csv")
    assert np.allclose(table["outcome_low"], table["outcome_low"].round())  # the NPV in whole kroner
    text = pd.read_csv(out / "tornado.csv", dtype=str)
    # The parameter's values at 12 significant digits (the report rounds them once more, to 4), never
    # a float's residue (was 0.7224999999999999); the other columns at their kind's precision.
    for value in [*text["low"], *text["high"]]:
        assert len(value.replace("-", "").replace(".", "").strip("0")) <= 12, value
        assert not re.search(r"(?:9{6}|0{6})\d?$", value.split(".")[-1]), value
    rest = text.drop(columns=["low", "high"]).to_csv(index=False)
    assert not _RESIDUE.search(rest.replace("\n", ",")), rest
    torn.table.loc[0, "low"] = 0.85**2  # 0.7224999999999999: written as what it stands for
    again = write_results(torn, tmp_path / "again", {"baseline": b, "strategy": p}, [], 0.1)
    assert pd.read_csv(again / "tornado.csv", dtype=str)["low"][0] == "0.7225"


def test_save_results_writes_a_folder_from_python_as_the_command_line_does(files, tmp_path):
    """A researcher had no public way to write a results folder (write_results wants a command line)."""
    cmp = sim.compare(files["base"], files["plan"], engine="expected")
    out = sim.save_results(
        cmp, tmp_path / "mine", files={"baseline": files["base"], "strategy": files["plan"]}
    )
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["command"] == ["python", "sim.save_results"] and m["wall_time_seconds"] is None
    assert {Path(p).resolve() for p in m["input_files_sha256"]} == {
        files["base"].resolve(),
        files["plan"].resolve(),
    }
    assert (out / "report.xlsx").is_file() and (out / "report.html").is_file()
    loaded = sim.load_results(out)
    assert loaded.summary.equals(sim.load_results(out).summary)
    with pytest.raises(OutputExistsError):
        sim.save_results(cmp, out)
    with pytest.raises(sim.UserError, match="not a DataFrame"):
        sim.save_results(cmp.summary, tmp_path / "other")
