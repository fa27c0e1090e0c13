"""``trappesim calibrate``: fit a scenario's numbers to observed stocks and flows."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.cli.common import EXIT_FAILED, EXIT_OK, destination, fail, plausible, workers_of, write
from sim.cli.options import AT_LEAST_0, DEFAULT_SEED, SEED, add_output, add_strict, add_where


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` command to the parser."""
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
    add_where(p)
    add_output(p, "calibration-")
    add_strict(p)
    p.set_defaults(handler=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    from sim.analysis.calibrate import calibrate, check, read_observed, write_calibrated
    from sim.outputs import language as L
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    plausible(args, {"scenario": args.scenario}, {"scenario": scenario})
    observed = read_observed(args.observed, scenario)
    check(scenario, observed, args.fit)
    target = args.scenario_out or args.scenario.with_name(f"{args.scenario.stem}-calibrated.toml")
    if target.exists():
        return fail(f"{target}: exists; choose another --scenario-out (a scenario file is never replaced)")
    out = destination(args, f"{scenario.name}-calibration")
    lang = L.resolve(args.lang, scenario)
    workers = workers_of(args)
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
    out = write(cal, out, files, args, time.perf_counter() - start)
    write_calibrated(cal, args.scenario, target, str(args.observed))
    print(f"\n{L.t('cal_written', lang, target=target)}")
    print(L.t("results_written", lang, out=out))
    return EXIT_OK


def _significant(x: float, lang: str, digits: int = 6) -> str:
    """A number to ``digits`` significant digits in the language's format (never in e-notation)."""
    import numpy as np

    from sim.outputs import language as L

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
    import numpy as np

    from sim.outputs import language as L

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
        # In words, as the rest of the line: "2024 anbragte ved årets udgang, Plejefamilie", not the keys.
        row=f"{worst['year']} {L.column(str(worst['measure']), lang, cal.scenario).lower()}, "
        f"{L.observed_steps(cal.scenario, str(worst['step']), lang)}",
        error=error,
    )
    print(f"  {line}".replace(L.NBSP, " "))
    if "des_z" in cal.fit:
        n = cal.des_replications
        fit = cal.fit["after"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            gaps = np.abs(cal.fit["des_mean"].to_numpy(dtype=float) / fit - 1.0)
        gap = L.percent(float(np.nanmax(np.where(fit != 0, gaps, np.nan), initial=0.0)), lang, 1)
        if n < 2:  # one run: a gap, but no standard error to weigh it by
            print(f"  {L.t('cal_des_one', lang, gap=gap)}")
        else:
            z = L.number(float(np.nanmax(np.abs(cal.fit["des_z"].to_numpy()))), lang, 1)
            line = L.t("cal_des_line", lang, n=L.runs(n, lang), z=z, gap=gap)
            print(f"  {line}" + (f" {L.t('cal_des_few', lang)}" if n < 10 else ""))
    left = cal.observed.left_out_in(lang)
    if left:
        print(f"  {L.t('cal_left_header', lang, n=len(left), file=args.observed)}")
        for line in left:
            print(f"    {line}")
