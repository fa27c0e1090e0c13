"""The ``trappesim`` command line: argument parsing only; the work is in the library."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
import tomli_w

from sim.analysis.uncertainty import (
    NothingUncertain,
    Sensitivity,
    break_even,
    global_sensitivity,
    psa,
    tornado,
)
from sim.engines.expected import EngineNotApplicable
from sim.model.staircase import compile_staircase
from sim.outputs import language as L
from sim.outputs.report import (
    format_value,
    interval_notes,
    key_figures,
    outcome_name,
    outcome_value,
    parameter_value,
    sensitivity_value,
    text_table,
)
from sim.outputs.results import (
    OutputExistsError,
    ResultsFolderError,
    check_destination,
    remake_reports,
    version,
    write_results,
)
from sim.run.estimates import MAX_REPLICATIONS, MIN_REPLICATIONS, PRECISION, analytic_is_exact
from sim.run.experiment import DEFAULT_SEED, Comparison, Result, check_pair, compare, simulate
from sim.scenario import PERSPECTIVES, Scenario, ScenarioError, load_scenario, stock_above_places
from sim.scenario.plausibility import PlausibilityWarning, check_arms, check_scenario

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
"""Exit codes after Ctrl-C and SIGTERM: 128 + the signal's number, as shells report them."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a user's mistake in one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"trappesim: error: {message}; see {self.prog} --help\n")


def _whole(least: int, why: str = "") -> Callable[[str], int]:
    """An argparse ``type``: a whole number of at least ``least``, checked before anything runs."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < least:
            # The reason is for a number that is too small, not for one that is no whole number.
            because = why if value is not None else ""
            raise argparse.ArgumentTypeError(
                f"must be a whole number of at least {least}, not {text}{because}"
            )
        return value

    return parse


def _share(text: str) -> float:
    """An argparse ``type``: a share strictly between 0 and 1, such as 0.02."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, such as 0.02 (2 %), not {text}")
    return value


SHARE = _share
SEED = _whole(0, " (a random seed cannot be negative)")
AT_LEAST_1 = _whole(1)
AT_LEAST_0 = _whole(0)


def _two_files(p: argparse.ArgumentParser) -> None:
    p.add_argument("baseline", type=Path, help="baseline scenario file (TOML)")
    p.add_argument(
        "strategy", type=Path, help="strategy scenario file (TOML), usually extending the baseline"
    )


def _seed_engine(p: argparse.ArgumentParser, default_engine: str, engine_help: str) -> None:
    p.add_argument(
        "--seed", "-s", type=SEED, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    choices = ("des", "expected") if default_engine == "des" else ("expected", "des")
    p.add_argument("--engine", choices=choices, default=default_engine, help=engine_help)


def _where(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers", "-w", type=AT_LEAST_1, default=None, help="worker processes (default: all cores)"
    )
    p.add_argument(
        "--scheduler", help="run on a Dask cluster: its scheduler address, e.g. tcp://10.0.0.5:8786"
    )


def _output(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--out", "-o", type=Path, help=f"results folder (default: results/<names>-{what}<date-time>)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing results folder")
    _lang(p)


def _perspective(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--perspective",
        choices=PERSPECTIVES,
        default="kommune",
        help="whose money the budget numbers count (default kommune; society: everyone's)",
    )


def _strict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="treat warnings about implausible numbers as errors (exit 2, nothing written)",
    )


def _lang(p: argparse.ArgumentParser, what: str = "charts, workbook, report and printed summary") -> None:
    p.add_argument(
        "--lang",
        choices=L.LANGUAGES,
        help=f"language of the {what}: da or en (default: the scenario's, Danish unless it says)",
    )


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--replications",
        "-r",
        type=AT_LEAST_1,
        default=None,
        help="a fixed number of replications of the discrete-event model (default: as many as --precision needs)",
    )
    p.add_argument(
        "--precision",
        type=SHARE,
        default=PRECISION,
        help=f"run until the 95 %% interval of the mean placements (avoided) and cost (NPV) is within this share "
        f"of their value (default {PRECISION}); where the analytic engine solves the model, means are exact",
    )
    p.add_argument(
        "--max-replications",
        type=_whole(MIN_REPLICATIONS),
        default=MAX_REPLICATIONS,
        help=f"the most replications --precision may run (default {MAX_REPLICATIONS})",
    )
    _seed_engine(p, "des", "discrete-event simulation or analytic expected values (default des)")
    _where(p)
    _output(p, "")
    _strict(p)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    parser = _Parser(
        prog="trappesim",
        description="Simulate the indsatstrappe: placements avoided by a preventive strategy, and what it costs.",
    )
    parser.add_argument("--version", action="version", version=f"trappesim {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("run", help="simulate one scenario and write a results folder")
    p.add_argument("scenario", type=Path, help="scenario file (TOML)")
    _common(p)
    p = sub.add_parser("compare", help="compare a strategy with its baseline (common random numbers)")
    _two_files(p)
    _common(p)
    _perspective(p)
    p = sub.add_parser("psa", help="probabilistic sensitivity analysis: draw every uncertain number")
    _two_files(p)
    p.add_argument("--draws", "-n", type=AT_LEAST_1, default=1000, help="parameter draws (default 1000)")
    _seed_engine(p, "expected", "analytic (default) or one DES run per draw")
    _where(p)
    _perspective(p)
    _output(p, "psa-")
    _strict(p)
    p = sub.add_parser(
        "tornado", help="one-way sensitivity: each uncertain number at its 5th and 95th percentile"
    )
    _two_files(p)
    p.add_argument("--outcome", default="npv", help="npv (default), placement_entries_avoided, roi, ...")
    _seed_engine(p, "expected", "analytic (default) or the DES")
    _perspective(p)
    _output(p, "tornado-")
    _strict(p)
    p = sub.add_parser("sensitivity", help="global sensitivity: Sobol or Morris indices (SALib)")
    _two_files(p)
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol", help="Sobol (default) or Morris")
    p.add_argument("--outcome", default="npv", help="npv (default), placement_entries_avoided, roi, ...")
    p.add_argument(
        "-n", type=AT_LEAST_1, default=256, help="base sample size (Sobol: runs = n x (2 x numbers + 2))"
    )
    _seed_engine(p, "expected", "analytic (default) or the DES")
    _where(p)
    _perspective(p)
    _output(p, "sensitivity-")
    _strict(p)
    p = sub.add_parser("breakeven", help="the effect, or the programme cost, at which NPV = 0")
    _two_files(p)
    p.add_argument(
        "--on",
        choices=("effect", "cost"),
        default="effect",
        help="solve for the effect (default) or the cost per year",
    )
    p.add_argument(
        "--draws",
        "-n",
        type=AT_LEAST_0,
        default=0,
        help="solve again for N PSA draws, for an interval (default 0)",
    )
    _seed_engine(p, "expected", "analytic (default) or the DES")
    _perspective(p)
    _strict(p)
    _lang(p, "printed answer")
    p = sub.add_parser("calibrate", help="fit a scenario's numbers to observed stocks and flows (CSV)")
    p.add_argument(
        "scenario", type=Path, help="scenario file (TOML) starting at or before the first observed year"
    )
    p.add_argument(
        "--observed", type=Path, required=True, help="observed data (CSV: year, measure, step, value, ...)"
    )
    p.add_argument(
        "--fit",
        nargs="+",
        required=True,
        metavar="KEY",
        help="keys of the numbers to fit, e.g. transitions.home.foster",
    )
    p.add_argument(
        "--scenario-out",
        type=Path,
        help="the calibrated scenario file to write (default: beside the scenario, NAME-calibrated.toml)",
    )
    p.add_argument(
        "--des-replications",
        type=AT_LEAST_0,
        default=5,
        help="replications of the DES that check the fit (default 5; 0: none)",
    )
    p.add_argument(
        "--seed",
        "-s",
        type=SEED,
        default=DEFAULT_SEED,
        help=f"seed of the DES check (default {DEFAULT_SEED})",
    )
    _where(p)
    _output(p, "calibration-")
    _strict(p)
    p = sub.add_parser(
        "report", help="remake charts, report.xlsx and report.html from a results folder (no simulation)"
    )
    p.add_argument("folder", type=Path, help="a results folder written by run, compare, psa or tornado")
    p.add_argument(
        "--with",
        dest="extras",
        type=Path,
        action="append",
        default=[],
        metavar="FOLDER",
        help="a psa, tornado or sensitivity folder for the same scenarios, shown in a comparison's report "
        "(repeatable)",
    )
    _lang(p)
    p = sub.add_parser("check", help="validate a scenario file and print it resolved (as TOML)")
    p.add_argument("scenario", type=Path, help="scenario file (TOML)")
    p.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    _strict(p)
    return parser


def _default_out(name: str) -> Path:
    return Path("results") / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _fail(message: str) -> int:
    print(f"trappesim: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _print_summary(result: Result | Comparison, out: Path, lang: str | None) -> None:
    scenario = result.base.scenario if isinstance(result, Comparison) else result.scenario
    lang = L.resolve(lang, scenario)
    for line in summary_lines(result, lang):
        print(line.replace(L.NBSP, " "))
    print(f"\n{L.t('results_written', lang, out=out)}")


def summary_lines(result: Result | Comparison, lang: str) -> list[str]:
    """The terminal summary of a run or comparison: key figures, what their intervals mean, money."""
    res = result.base if isinstance(result, Comparison) else result
    scenario = res.scenario
    kf = key_figures(result, lang)
    n = res.replications
    runs = L.runs(n, lang)
    expected = res.engine == "expected"
    if isinstance(result, Comparison):
        head = L.t("vs", lang, a=result.strategy.scenario.name, b=result.base.scenario.name)
    else:
        head = f"{scenario.name}, {result.years[0]}-{result.years[-1]}"
    lines = ["", f"{head}: {L.t('expected_values', lang) if expected else runs}"]
    width = max(len(x) for x in kf["label"]) + 2
    if not expected:
        columns = (L.t("col_mean", lang), L.t("col_precision", lang), L.t("col_range", lang))
        lines.append(f"  {'':{width}s} {columns[0]:>18s}  {columns[1]:>18s}  {columns[2]}")
    group = "budget"
    for r in kf.itertuples(index=False):
        if r.group != group:  # projections, payers and PSA rows stand apart from the budget numbers
            group = r.group
            lines.append(f"  {L.t('group_' + group, lang)}:")
        if expected:
            lines.append(f"  {r.label:{width}s} {r.text:>18s}")
        else:
            lines.append(f"  {r.label:{width}s} {r.text:>18s}  {r.precision:>18s}  {r.interval}".rstrip())
    lines += [f"  {x}" for x in interval_notes(result, lang)]
    lines.append(f"  {L.money_note(scenario, lang)}")
    return lines


def _write(result, out: Path, files: dict, args: argparse.Namespace, wall: float) -> None:
    """Write the results folder, recording the command line as given."""
    command = ["trappesim", *sys.argv[1:]]
    write_results(result, out, files, command, wall, force=args.force, lang=args.lang)
    args.written = out  # an interruption from here on leaves a complete folder


def _notes(files: dict, scenarios: dict[str, Scenario]) -> None:
    for role, scenario in scenarios.items():
        for note in stock_above_places(scenario):
            print(f"trappesim: note: {files[role]}: {note}", file=sys.stderr)


def _plausible(args: argparse.Namespace, files: dict, scenarios: dict[str, Scenario]) -> None:
    """Warn about each implausible number, and each number the two arms differ in, before anything
    runs; with ``--strict`` stop there (exit 2)."""
    findings = []
    for role, scenario in scenarios.items():
        findings += check_scenario(scenario, files[role])
    if "baseline" in scenarios and "strategy" in scenarios:
        base, strategy = scenarios["baseline"], scenarios["strategy"]
        findings += check_arms(base, strategy, files["baseline"], files["strategy"])
    # A number both arms inherit from one file is reported once.
    once: dict[tuple, str] = {}
    for f in findings:
        where = os.path.realpath(f.file) if os.path.isfile(f.file) else f.file
        once.setdefault((where, f.key, f.message), str(f))
    lines = list(once.values())
    for line in lines:
        print(f"trappesim: warning: {line}", file=sys.stderr)
    if lines and getattr(args, "strict", False):
        raise ScenarioError(
            "",
            "",
            f"--strict: {len(lines)} warning(s) above; correct the numbers (or leave out --strict "
            "to run with them); nothing was run or written",
        )


def _run(args: argparse.Namespace) -> int:
    # load_scenario's warnings for the loads below: _plausible prints them, in its own words.
    warnings.filterwarnings("ignore", category=PlausibilityWarning, module="sim.cli.app")
    if args.command == "check":
        scenario = load_scenario(args.scenario)
        _notes({"scenario": args.scenario}, {"scenario": scenario})
        _plausible(args, {"scenario": args.scenario}, {"scenario": scenario})
        data = scenario.to_dict()
        print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else tomli_w.dumps(data), end="")
        print(f"# {args.scenario}: valid. Input hash {scenario.input_hash()[:16]}.", file=sys.stderr)
        return EXIT_OK
    if args.command == "calibrate":
        return _calibrate(args)
    if args.command == "report":
        written = remake_reports(args.folder, args.lang, args.extras)
        print(f"trappesim: report: remade in {args.folder}/ (charts as PNG and SVG):")
        for name in written:
            if not name.endswith(".svg"):
                print(f"  {name.removesuffix('.png') if name.startswith('charts/') else name}")
        return EXIT_OK
    if args.command == "psa":
        return _psa(args)
    if args.command == "breakeven":
        return _breakeven(args)
    if args.command == "tornado":
        return _tornado(args)
    if args.command == "sensitivity":
        return _sensitivity(args)
    files = (
        {"scenario": args.scenario}
        if args.command == "run"
        else {"baseline": args.baseline, "strategy": args.strategy}
    )
    scenarios: dict[str, Scenario] = {role: load_scenario(path) for role, path in files.items()}
    _notes(files, scenarios)
    names = "-vs-".join(s.name for s in reversed(scenarios.values()))
    out = args.out or _default_out(names)
    check_destination(out, args.force)
    if args.command == "compare":
        _check_pair(args, scenarios["baseline"], scenarios["strategy"])
    _plausible(args, files, scenarios)
    workers = args.scheduler or args.workers or os.cpu_count() or 1
    if args.engine == "expected":
        what = "expected values (analytic engine)"
    else:
        where = f"Dask at {args.scheduler}" if args.scheduler else f"{workers} worker(s)"
        exact = all(analytic_is_exact(compile_staircase(sc)) for sc in scenarios.values())
        if args.replications:
            how = f"{args.replications} replication(s)"
        elif exact:
            how = f"{MIN_REPLICATIONS} replications for the range of outcomes (the means are exact: the analytic engine solves this model)"
        else:
            how = f"replications until the means are within {100 * args.precision:g} % (at most {args.max_replications})"
        what = f"{how}, seed {args.seed}, {where}"
    print(f"trappesim: {args.command}: {what} ...", file=sys.stderr)
    start = time.perf_counter()
    kw = dict(
        replications=args.replications,
        seed=args.seed,
        engine=args.engine,
        workers=workers,
        progress=True,
        precision=args.precision,
        max_replications=args.max_replications,
    )
    if args.command == "run":
        result: Result | Comparison = simulate(scenarios["scenario"], **kw)
    else:
        result = compare(scenarios["baseline"], scenarios["strategy"], perspective=args.perspective, **kw)
    wall = time.perf_counter() - start
    _write(result, out, files, args, wall)
    _print_summary(result, out, args.lang)
    return EXIT_OK


def _check_pair(args: argparse.Namespace, base: Scenario, strategy: Scenario) -> None:
    """Refuse two files that cannot be compared before anything runs, naming both."""
    try:
        check_pair(base, strategy)
    except ValueError as err:
        raise ScenarioError(f"{args.baseline} and {args.strategy}", "", str(err)) from None


def _psa(args: argparse.Namespace) -> int:
    files = {"baseline": args.baseline, "strategy": args.strategy}
    base, strategy = load_scenario(args.baseline), load_scenario(args.strategy)
    _check_pair(args, base, strategy)
    _notes(files, {"baseline": base, "strategy": strategy})
    if not base.uncertain and not strategy.uncertain:
        raise ScenarioError(f"{args.baseline} and {args.strategy}", "", NothingUncertain.advice("psa"))
    # A number uncertain in the strategy only is one the arms differ in: _plausible warns.
    _plausible(args, files, {"baseline": base, "strategy": strategy})
    out = args.out or _default_out(f"{strategy.name}-vs-{base.name}-psa")
    check_destination(out, args.force)
    workers = args.scheduler or args.workers or os.cpu_count() or 1
    print(f"trappesim: psa: {args.draws} draws, engine {args.engine}, seed {args.seed} ...", file=sys.stderr)
    start = time.perf_counter()
    result = psa(
        base,
        strategy,
        draws=args.draws,
        seed=args.seed,
        engine=args.engine,
        workers=workers,
        progress=True,
        perspective=args.perspective,
    )
    wall = time.perf_counter() - start
    _write(result, out, files, args, wall)
    lang = L.resolve(args.lang, base)
    s = result.summary.set_index("metric")
    names = L.t("vs", lang, a=strategy.name, b=base.name)
    print(f"\n{names}: {L.t('psa_header', lang, n=L.number(args.draws, lang))}")
    whose = f" ({L.t('persp_' + args.perspective, lang)})" if args.perspective != "kommune" else ""
    rows = [
        (L.t("kf_entries_avoided", lang), "placement_entries_avoided", "children"),
        (L.t("kf_npv", lang) + whose, "npv", "money"),
        (L.t("kf_roi", lang), "roi", "ratio"),
    ]
    width = 46
    for label, key, kind in rows:
        r = s.loc[key]
        shown = [format_value(r[q], kind, lang, base.currency) for q in ("mean", "p5", "p95")]
        print(f"  {label:{width}s} {shown[0]:>16s}  [{shown[1]} – {shown[2]}]".replace(L.NBSP, " "))
    p = L.percent(s.loc["probability_npv_positive", "mean"], lang)
    print(f"  {L.t('kf_p_npv', lang):{width}s} {p:>16s}".replace(L.NBSP, " "))
    cost = L.money(s.loc["cost_per_placement_avoided", "mean"], lang, base.currency)
    print(f"  {L.t('kf_cost_per_avoided', lang):{width}s} {cost:>16s}".replace(L.NBSP, " "))
    if "npv_with_adult_consequences" in s.index:
        print(f"  {L.t('group_projection', lang)}:")
        r = s.loc["npv_with_adult_consequences"]
        shown = [format_value(r[q], "money", lang, base.currency) for q in ("mean", "p5", "p95")]
        label = L.t("kf_npv_adult", lang)
        print(f"  {label:{width}s} {shown[0]:>16s}  [{shown[1]} – {shown[2]}]".replace(L.NBSP, " "))
        p = L.percent(s.loc["probability_npv_with_adult_positive", "mean"], lang)
        print(f"  {L.t('kf_p_npv_adult', lang):{width}s} {p:>16s}".replace(L.NBSP, " "))
    print(f"  {L.money_note(base, lang)}".replace(L.NBSP, " "))
    print(f"\n{L.t('results_written', lang, out=out)}")
    return EXIT_OK


def _tornado(args: argparse.Namespace) -> int:
    files = {"baseline": args.baseline, "strategy": args.strategy}
    base, strategy = load_scenario(args.baseline), load_scenario(args.strategy)
    _check_pair(args, base, strategy)
    _plausible(args, files, {"baseline": base, "strategy": strategy})
    out = args.out or _default_out(f"{strategy.name}-vs-{base.name}-tornado")
    check_destination(out, args.force)
    start = time.perf_counter()
    result = tornado(
        base, strategy, outcome=args.outcome, seed=args.seed, engine=args.engine, perspective=args.perspective
    )
    _write(result, out, files, args, time.perf_counter() - start)
    lang = L.resolve(args.lang, base)
    t = lambda key, **kw: L.t(key, lang, **kw)  # noqa: E731
    outcome = outcome_name(args.outcome, lang, within=True)
    value = lambda v: outcome_value(v, args.outcome, lang, base.currency)  # noqa: E731
    print(f"\n{t('vs', a=strategy.name, b=base.name)}: {t('cli_tornado_header', outcome=outcome)}")
    print(f"  {t('cli_at_means')}: {value(result.central)}".replace(L.NBSP, " "))
    if result.table.empty:
        print(f"  {t('cli_nothing_to_vary')}")
    else:
        headers = [L.column(c, lang) for c in ("parameter", "low", "outcome_low", "high", "outcome_high")]
        rows = [
            (
                L.describe(base, r["parameter"], lang),
                parameter_value(base, r["parameter"], r["low"], lang),
                value(r["outcome_low"]),
                parameter_value(base, r["parameter"], r["high"], lang),
                value(r["outcome_high"]),
                r["parameter"],
            )
            for _, r in result.table.iterrows()
        ]
        for line in text_table(headers, rows, lang):
            print(line)
    print(f"  {t('others_at_mean').strip()}")
    if L.measure_kind(args.outcome) == "money":
        print(f"  {L.money_note(base, lang)}".replace(L.NBSP, " "))
        print(f"  {_whose(result.perspective, lang)}")
    print(f"\n{t('results_written', out=out)}")
    return EXIT_OK


def _whose(perspective: str, lang: str) -> str:
    """Whose money a printed NPV counts, and the option that chose it."""
    return L.t("cli_whose_money", lang, whose=L.t("persp_" + perspective, lang), perspective=perspective)


def _sensitivity(args: argparse.Namespace) -> int:
    files = {"baseline": args.baseline, "strategy": args.strategy}
    base, strategy = load_scenario(args.baseline), load_scenario(args.strategy)
    _check_pair(args, base, strategy)
    _plausible(args, files, {"baseline": base, "strategy": strategy})
    out = args.out or _default_out(f"{strategy.name}-vs-{base.name}-sensitivity")
    check_destination(out, args.force)
    start = time.perf_counter()
    workers = args.scheduler or args.workers or os.cpu_count() or 1
    table = global_sensitivity(
        base,
        strategy,
        args.method,
        args.outcome,
        args.n,
        args.seed,
        args.engine,
        workers,
        progress=True,
        perspective=args.perspective,
    )
    result = Sensitivity(
        base, strategy, args.method, args.outcome, table, args.engine, args.seed, args.perspective
    )
    _write(result, out, files, args, time.perf_counter() - start)
    lang = L.resolve(args.lang, base)
    t = lambda key, **kw: L.t(key, lang, **kw)  # noqa: E731
    header = t(
        "cli_sensitivity_header",
        method=t("method_" + args.method),
        outcome=outcome_name(args.outcome, lang, within=True),
    )
    print(f"\n{t('vs', a=strategy.name, b=base.name)}: {header}")
    columns = [c for c in table.columns if c != "parameter"]
    headers = [L.column("parameter", lang), *(L.column(c, lang) for c in columns)]
    rows = [
        (
            L.describe(base, r["parameter"], lang),
            *(sensitivity_value(r[c], c, args.outcome, lang, base.currency) for c in columns),
            r["parameter"],
        )
        for _, r in table.iterrows()
    ]
    for line in text_table(headers, rows, lang):
        print(line)
    print(f"  {t('cli_csv_columns', columns=', '.join(columns))}")
    if args.method == "morris" and L.measure_kind(args.outcome) == "money":
        print(f"  {L.money_note(base, lang)}".replace(L.NBSP, " "))
    print(f"\n{t('results_written', out=out)}")
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    from sim.analysis.calibrate import calibrate, check, read_observed, write_calibrated

    scenario = load_scenario(args.scenario)
    _plausible(args, {"scenario": args.scenario}, {"scenario": scenario})
    observed = read_observed(args.observed, scenario)
    check(scenario, observed, args.fit)
    target = args.scenario_out or args.scenario.with_name(f"{args.scenario.stem}-calibrated.toml")
    if target.exists():
        return _fail(f"{target}: exists; choose another --scenario-out (a scenario file is never replaced)")
    out = args.out or _default_out(f"{scenario.name}-calibration")
    check_destination(out, args.force)
    lang = L.resolve(args.lang, scenario)
    workers = args.scheduler or args.workers or os.cpu_count() or 1
    print(
        f"trappesim: calibrate: fitting {len(args.fit)} key(s) to {len(observed.rows)} observation(s) ...",
        file=sys.stderr,
    )
    start = time.perf_counter()
    cal = calibrate(scenario, observed, args.fit, args.des_replications, args.seed, workers)
    problem = cal.problem(lang)
    _print_calibration(cal, args, lang, failed=problem is not None)
    if problem is not None:
        # Neither the scenario nor a results folder: a "calibrated" file from a
        # failed fit would carry the error into every later run.
        print(f"trappesim: {L.t('cal_failed', lang, why=problem)}", file=sys.stderr)
        return EXIT_FAILED
    files = {"scenario": args.scenario, "observed": args.observed}
    _write(cal, out, files, args, time.perf_counter() - start)
    write_calibrated(cal, args.scenario, target, str(args.observed))
    print(f"\n{L.t('cal_written', lang, target=target)}")
    print(L.t("results_written", lang, out=out))
    return EXIT_OK


def _significant(x: float, lang: str, digits: int = 6) -> str:
    """A number to ``digits`` significant digits in the language's format (never in e-notation)."""
    if not np.isfinite(x):
        return "–" if np.isnan(x) else "∞"
    if x == 0:
        return "0"
    decimals = int(min(max(digits - 1 - np.floor(np.log10(abs(x))), 0), 15))
    text = L.number(x, lang, decimals).replace(L.NBSP, " ")
    point = "," if lang == "da" else "."
    return text.rstrip("0").rstrip(point) if point in text else text


def _print_calibration(cal, args: argparse.Namespace, lang: str, failed: bool) -> None:
    """What the fit found, in ``lang``: each key before and after, the goodness of fit, rows left out."""
    head = "cal_header_failed" if failed else "cal_header"
    print(f"\n{L.t(head, lang, name=cal.scenario.name, file=args.observed, n=len(cal.fit), dof=cal.dof)}")
    for r in cal.table.itertuples():
        mark = ""
        if not r.identified:
            why = L.t(f"cal_why_{r.reason}", lang) + (
                " " + L.t("cal_banded", lang) if " (one factor" in r.note else ""
            )
            mark = f"   {L.t('cal_not_identified', lang)}: {why}"
        start, fitted = _significant(r.start, lang), _significant(r.fitted, lang)
        se = f"({L.t('cal_se', lang)} {_significant(r.se, lang, 3)})"
        print(f"  {r.key:44s} {start:>12s} -> {fitted:>12s}  {se}{mark}")
    worst = cal.fit.iloc[int(np.argmax(np.abs(cal.fit["rel_error"].to_numpy())))]
    error = f"{L.number(100 * worst['rel_error'], lang, 1, signed=True)} %"
    line = L.t(
        "cal_fit_line",
        lang,
        chi2=L.number(cal.chi2, lang, 1),
        dof=cal.dof,
        rmse=L.percent(cal.rmse_percent / 100, lang, 1),
        row=f"{worst['year']} {worst['measure']} {worst['step']}",
        error=error,
    )
    print(f"  {line}".replace(L.NBSP, " "))
    if "des_z" in cal.fit:
        z = L.number(float(np.nanmax(np.abs(cal.fit["des_z"].to_numpy()))), lang, 1)
        print(f"  {L.t('cal_des_line', lang, n=L.runs(cal.des_replications, lang), z=z)}")
    left = cal.observed.left_out_in(lang)
    if left:
        print(f"  {L.t('cal_left_header', lang, n=len(left), file=args.observed)}")
        for line in left:
            print(f"    {line}")


def _breakeven(args: argparse.Namespace) -> int:
    base, strategy = load_scenario(args.baseline), load_scenario(args.strategy)
    _check_pair(args, base, strategy)
    _plausible(
        args, {"baseline": args.baseline, "strategy": args.strategy}, {"baseline": base, "strategy": strategy}
    )
    r = break_even(
        base,
        strategy,
        on=args.on,
        draws=args.draws,
        seed=args.seed,
        engine=args.engine,
        perspective=args.perspective,
    )
    lang = L.resolve(args.lang, base)
    t = lambda key, **kw: L.t(key, lang, **kw)  # noqa: E731
    plain = lambda text: text.replace(L.NBSP, " ")  # noqa: E731
    money = lambda v: L.money(v, lang, base.currency)  # noqa: E731

    def share(v: float) -> str:  # a share of the assumed effect; a draw may never break even
        return L.percent(v, lang) if np.isfinite(v) else t("cli_never")

    print(f"\n{t('vs', a=strategy.name, b=base.name)}: {t('cli_breakeven_header_' + args.on)}")
    print(plain(f"  {t('cli_npv_as_assumed')}: {money(r.npv_as_given)}"))
    lo, hi = r.interval
    draws = L.number(args.draws, lang)
    if args.on == "cost":
        if r.value != r.value:
            print(f"  {t('cli_no_breakeven_cost')}")
        else:
            interval = (
                f" [{t('cli_interval_draws', n=draws, lo=money(lo), hi=money(hi))}]" if args.draws else ""
            )
            assumed = money(strategy.intervention.cost_per_year)
            print(
                plain(f"  {t('cli_breakeven_cost', cost=money(r.value), interval=interval, assumed=assumed)}")
            )
    elif r.value == float("inf"):
        print(f"  {t('cli_no_breakeven_effect')}")
    elif r.value == 0.0:
        whose = t("persp_" + r.perspective)
        print(f"  {t('cli_breakeven_free', whose=whose[:1].upper() + whose[1:])}")
    else:
        interval = f" [{t('cli_interval_draws', n=draws, lo=share(lo), hi=share(hi))}]" if args.draws else ""
        print(plain(f"  {t('cli_breakeven_effect', share=share(r.value), interval=interval)}"))
        headers = [t("cli_hazard_ratio"), t("cli_at_breakeven"), t("cli_assumed")]
        rows = [
            (
                # "Home-based measures → Foster family": the heading says it is a hazard ratio.
                L.describe(base, f"transitions.{src}.{dst}", lang).split(": ", 1)[1],
                L.number(hr, lang, 3),
                L.number(strategy.intervention.hazard_ratios[src][dst], lang, 3),
                f"intervention.hazard_ratios.{src}.{dst}",
            )
            for src, row in r.hazard_ratios.items()
            for dst, hr in row.items()
        ]
        for line in text_table(headers, rows, lang, indent=4):
            print(line)
    print(plain(f"  {L.money_note(base, lang)}"))
    print(f"  {_whose(r.perspective, lang)}")
    return EXIT_OK


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs: workers killed, no folder left."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while the command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``trappesim`` command; returns the exit code."""
    args = None
    try:
        with _sigterm_raises():
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as done:  # --help, --version, or a mistake argparse found (one line)
                return int(done.code or 0)
            return _guarded(args)
    except KeyboardInterrupt as err:
        # Ctrl-C or SIGTERM: the workers are gone and half-written folders removed.
        how = "stopped (SIGTERM)" if isinstance(err, Terminated) else "interrupted (Ctrl-C)"
        written = getattr(args, "written", None)
        done = f" after writing {written}/ in full" if written else "; nothing was written"
        print(f"trappesim: {how}{done}.", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(err, Terminated) else EXIT_INTERRUPTED


def _guarded(args: argparse.Namespace) -> int:
    """Run a command, turning the user's mistakes into one line and exit code 2."""
    try:
        return _run(args)
    except ScenarioError as err:
        return _fail(str(err))
    except (OutputExistsError, ResultsFolderError) as err:
        return _fail(str(err))
    except EngineNotApplicable as err:
        roles = ("scenario", "baseline", "strategy")
        given = [str(getattr(args, r)) for r in roles if getattr(args, r, None) is not None]
        return _fail(f"{', '.join(given)}: {err}")
    except ValueError as err:
        # The library raises ValueError for inconsistent inputs (e.g. two
        # scenarios with different steps); they are the user's to fix.
        return _fail(str(err))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
