"""The ``trappesim`` command line: argument parsing only; the work is in the library."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import tomli_w

from sim import language as L
from sim.expected import EngineNotApplicable
from sim.experiment import DEFAULT_SEED, Comparison, Result, check_pair, compare, simulate
from sim.report import (
    format_value,
    key_figures,
    outcome_name,
    outcome_value,
    parameter_value,
    sensitivity_value,
    text_table,
)
from sim.results import (
    OutputExistsError,
    ResultsFolderError,
    check_destination,
    remake_reports,
    version,
    write_results,
)
from sim.scenario import PERSPECTIVES, Scenario, ScenarioError, load_scenario, stock_above_places
from sim.uncertainty import Sensitivity, break_even, global_sensitivity, psa, tornado

EXIT_OK, EXIT_USAGE = 0, 2


def _two_files(p: argparse.ArgumentParser) -> None:
    p.add_argument("baseline", type=Path, help="baseline scenario file (TOML)")
    p.add_argument(
        "strategy", type=Path, help="strategy scenario file (TOML), usually extending the baseline"
    )


def _seed_engine(p: argparse.ArgumentParser, default_engine: str, engine_help: str) -> None:
    p.add_argument(
        "--seed", "-s", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    choices = ("des", "expected") if default_engine == "des" else ("expected", "des")
    p.add_argument("--engine", choices=choices, default=default_engine, help=engine_help)


def _where(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", "-w", type=int, default=None, help="worker processes (default: all cores)")
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
        type=int,
        default=10,
        help="replications of the discrete-event model (default 10)",
    )
    _seed_engine(p, "des", "discrete-event simulation or analytic expected values (default des)")
    _where(p)
    _output(p, "")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    parser = argparse.ArgumentParser(
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
    p.add_argument("--draws", "-n", type=int, default=1000, help="parameter draws (default 1000)")
    _seed_engine(p, "expected", "analytic (default) or one DES run per draw")
    _where(p)
    _perspective(p)
    _output(p, "psa-")
    p = sub.add_parser(
        "tornado", help="one-way sensitivity: each uncertain number at its 5th and 95th percentile"
    )
    _two_files(p)
    p.add_argument("--outcome", default="npv", help="npv (default), placement_entries_avoided, roi, ...")
    _seed_engine(p, "expected", "analytic (default) or the DES")
    _perspective(p)
    _output(p, "tornado-")
    p = sub.add_parser("sensitivity", help="global sensitivity: Sobol or Morris indices (SALib)")
    _two_files(p)
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol", help="Sobol (default) or Morris")
    p.add_argument("--outcome", default="npv", help="npv (default), placement_entries_avoided, roi, ...")
    p.add_argument("-n", type=int, default=256, help="base sample size (Sobol: runs = n x (2 x numbers + 2))")
    _seed_engine(p, "expected", "analytic (default) or the DES")
    _where(p)
    _perspective(p)
    _output(p, "sensitivity-")
    p = sub.add_parser("breakeven", help="the effect, or the programme cost, at which NPV = 0")
    _two_files(p)
    p.add_argument(
        "--on",
        choices=("effect", "cost"),
        default="effect",
        help="solve for the effect (default) or the cost per year",
    )
    p.add_argument(
        "--draws", "-n", type=int, default=0, help="solve again for N PSA draws, for an interval (default 0)"
    )
    _seed_engine(p, "expected", "analytic (default) or the DES")
    _perspective(p)
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
        type=int,
        default=5,
        help="replications of the DES that check the fit (default 5; 0: none)",
    )
    p.add_argument(
        "--seed", "-s", type=int, default=DEFAULT_SEED, help=f"seed of the DES check (default {DEFAULT_SEED})"
    )
    _where(p)
    _output(p, "calibration-")
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
    return parser


def _default_out(name: str) -> Path:
    return Path("results") / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _fail(message: str) -> int:
    print(f"trappesim: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _print_summary(result: Result | Comparison, out: Path, lang: str | None) -> None:
    scenario = result.base.scenario if isinstance(result, Comparison) else result.scenario
    lang = L.resolve(lang, scenario)
    kf = key_figures(result, lang)
    if isinstance(result, Comparison):
        several = result.base.replications > 1
        how = L.t("mean_interval" if several else "expected_values", lang)
        names = L.t("vs", lang, a=result.strategy.scenario.name, b=result.base.scenario.name)
        print(f"\n{names}: {how}")
    else:
        y0, y1 = result.years[0], result.years[-1]
        print(f"\n{scenario.name}, {y0}-{y1}: {L.t('mean_over', lang, n=L.runs(result.replications, lang))}")
    width = max(len(x) for x in kf["label"]) + 2
    group = "budget"
    for r in kf.itertuples(index=False):
        if r.group != group:  # projections, payers and PSA rows stand apart from the budget numbers
            group = r.group
            print(f"  {L.t('group_' + group, lang)}:")
        interval = f"  [{r.interval}]" if r.interval else ""
        print(f"  {r.label:{width}s} {r.text:>18s}{interval}".replace(L.NBSP, " "))
    print(f"  {L.money_note(scenario, lang)}".replace(L.NBSP, " "))
    print(f"\n{L.t('results_written', lang, out=out)}")


def _write(result, out: Path, files: dict, args: argparse.Namespace, wall: float) -> None:
    """Write the results folder, recording the command line as given."""
    command = ["trappesim", *sys.argv[1:]]
    write_results(result, out, files, command, wall, force=args.force, lang=args.lang)


def _notes(files: dict, scenarios: dict[str, Scenario]) -> None:
    for role, scenario in scenarios.items():
        for note in stock_above_places(scenario):
            print(f"trappesim: note: {files[role]}: {note}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    if args.command == "check":
        scenario = load_scenario(args.scenario)
        _notes({"scenario": args.scenario}, {"scenario": scenario})
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
    if args.replications < 1:
        return _fail("--replications must be at least 1")
    if args.workers is not None and args.workers < 1:
        return _fail("--workers must be at least 1")
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
    reps = 1 if args.engine == "expected" else args.replications
    workers = args.scheduler or args.workers or os.cpu_count() or 1
    if args.engine == "expected":
        what = "expected values (analytic engine)"
    else:
        where = f"Dask at {args.scheduler}" if args.scheduler else f"{min(workers, reps)} worker(s)"
        what = f"{reps} replication(s), seed {args.seed}, {where}"
    print(f"trappesim: {args.command}: {what} ...", file=sys.stderr)
    start = time.perf_counter()
    kw = dict(
        replications=args.replications, seed=args.seed, engine=args.engine, workers=workers, progress=True
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
    if args.draws < 1:
        return _fail("--draws must be at least 1")
    if args.workers is not None and args.workers < 1:
        return _fail("--workers must be at least 1")
    files = {"baseline": args.baseline, "strategy": args.strategy}
    base, strategy = load_scenario(args.baseline), load_scenario(args.strategy)
    _check_pair(args, base, strategy)
    _notes(files, {"baseline": base, "strategy": strategy})
    if not base.uncertain and not strategy.uncertain:
        print(
            "trappesim: note: no number is given as a distribution; every draw is the same", file=sys.stderr
        )
    in_base = {u.path for u in base.uncertain}
    for u in strategy.uncertain:
        if u.path not in in_base and not u.path.startswith("intervention."):
            print(
                f"trappesim: note: {args.strategy}: {u.path} is uncertain in the strategy only; the baseline "
                "keeps its fixed value, so the two arms differ in it: put shared numbers in the baseline",
                file=sys.stderr,
            )
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
    if args.n < 1:
        return _fail("-n must be at least 1")
    files = {"baseline": args.baseline, "strategy": args.strategy}
    base, strategy = load_scenario(args.baseline), load_scenario(args.strategy)
    _check_pair(args, base, strategy)
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
    from sim.calibrate import calibrate, check, read_observed, write_calibrated

    if args.des_replications < 0:
        return _fail("--des-replications must not be negative")
    scenario = load_scenario(args.scenario)
    observed = read_observed(args.observed, scenario)
    check(scenario, observed, args.fit)
    target = args.scenario_out or args.scenario.with_name(f"{args.scenario.stem}-calibrated.toml")
    if target.exists():
        return _fail(f"{target}: exists; choose another --scenario-out (a scenario file is never replaced)")
    out = args.out or _default_out(f"{scenario.name}-calibration")
    check_destination(out, args.force)
    workers = args.scheduler or args.workers or os.cpu_count() or 1
    print(
        f"trappesim: calibrate: fitting {len(args.fit)} key(s) to {len(observed.rows)} observation(s) ...",
        file=sys.stderr,
    )
    start = time.perf_counter()
    cal = calibrate(scenario, observed, args.fit, args.des_replications, args.seed, workers)
    files = {"scenario": args.scenario, "observed": args.observed}
    _write(cal, out, files, args, time.perf_counter() - start)
    write_calibrated(cal, args.scenario, target, str(args.observed))
    print(
        f"\n{scenario.name} calibrated to {args.observed} ({len(cal.fit)} observations, {cal.dof} degrees of freedom)"
    )
    for r in cal.table.itertuples():
        mark = "" if r.identified else f"   NOT IDENTIFIED: {r.note.strip()}"
        print(f"  {r.key:44s} {r.start:>12.6g} -> {r.fitted:>12.6g}  (se {r.se:.3g}){mark}")
    worst = cal.fit.iloc[int(np.argmax(np.abs(cal.fit["rel_error"].to_numpy())))]
    print(
        f"  Fit: chi-square {cal.chi2:,.1f} on {cal.dof} degrees of freedom; root mean square error "
        f"{cal.rmse_percent:.1f} %; worst {worst['year']} {worst['measure']} {worst['step']} "
        f"{100 * worst['rel_error']:+.1f} %"
    )
    if "des_z" in cal.fit:
        z = np.abs(cal.fit["des_z"].to_numpy())
        print(
            f"  DES check ({cal.des_replications} replications): largest gap to the analytic fit "
            f"{np.nanmax(z):.1f} standard errors"
        )
    if not cal.success:
        print(f"  The optimiser did not converge: {cal.message}")
    if observed.left_out:
        print(f"  Left out {len(observed.left_out)} row(s) of {args.observed}:")
        for line in observed.left_out:
            print(f"    {line}")
    print(f"\nCalibrated scenario written to {target}")
    print(f"Results written to {out}/")
    return EXIT_OK


def _breakeven(args: argparse.Namespace) -> int:
    if args.draws < 0:
        return _fail("--draws must not be negative")
    base, strategy = load_scenario(args.baseline), load_scenario(args.strategy)
    _check_pair(args, base, strategy)
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``trappesim`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
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
    except KeyboardInterrupt:
        print("trappesim: interrupted; nothing was written.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
