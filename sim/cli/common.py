"""What the commands share: exit codes, loading and checking the files, warnings, writing, printing.

Imported to build the parser, so it imports NumPy, pandas and the rest only
inside the functions that run a command.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import PairError, ScenarioError

if TYPE_CHECKING:
    from sim.run.experiment import Comparison, Result
    from sim.scenario import Scenario

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
"""Exit codes after Ctrl-C and SIGTERM: 128 + the signal's number, as shells report them."""


def default_out(name: str) -> Path:
    return Path("results") / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def fail(message: str) -> int:
    print(f"trappesim: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def print_summary(result: Result | Comparison, out: Path, lang: str | None) -> None:
    from sim.outputs import language as L
    from sim.run.experiment import Comparison

    scenario = result.base.scenario if isinstance(result, Comparison) else result.scenario
    lang = L.resolve(lang, scenario)
    for line in summary_lines(result, lang):
        print(line.replace(L.NBSP, " "))
    print(f"\n{L.t('results_written', lang, out=out)}")


def summary_lines(result: Result | Comparison, lang: str) -> list[str]:
    """The terminal summary of a run or comparison: key figures, what their intervals mean, money."""
    from sim.outputs import language as L
    from sim.outputs.report import interval_notes, key_figures
    from sim.run.experiment import Comparison

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
    columns = (L.t("col_mean", lang), L.t("col_precision", lang), L.t("col_range", lang))
    # Columns as wide as their longest entry ("not by 2043" in words is longer than a number).
    w1 = max(18, *(len(x) for x in kf["text"]), len(columns[0]) if not expected else 0)
    w2 = max(18, len(columns[1]), *(len(x) for x in kf["precision"])) if not expected else 0
    if not expected:
        lines.append(f"  {'':{width}s} {columns[0]:>{w1}s}  {columns[1]:>{w2}s}  {columns[2]}")
    group = "budget"
    for r in kf.itertuples(index=False):
        if r.group != group:  # projections, payers and PSA rows stand apart from the budget numbers
            group = r.group
            lines.append(f"  {L.t('group_' + group, lang)}:")
        if expected:
            lines.append(f"  {r.label:{width}s} {r.text:>{w1}s}")
        else:
            lines.append(f"  {r.label:{width}s} {r.text:>{w1}s}  {r.precision:>{w2}s}  {r.interval}".rstrip())
    lines += [f"  {x}" for x in interval_notes(result, lang)]
    if isinstance(result, Comparison):  # whose money, as psa, tornado and breakeven say it
        lines.append(f"  {whose(result.perspective, lang)}")
    lines.append(f"  {L.money_note(scenario, lang)}")
    return lines


def write(result, out: Path, files: dict, args: argparse.Namespace, wall: float) -> Path:
    """Write the results folder, recording the command line as given; returns the folder written.

    A folder named by the command (no ``--out``) that another run has taken meanwhile (two runs
    started in the same second) becomes ``NAME-2``, ``NAME-3``, ...: the user chose no name to clash.
    """
    from sim.errors import OutputExistsError
    from sim.outputs.results import write_results

    command = ["trappesim", *sys.argv[1:]]
    if getattr(args, "out", None) is not None:
        write_results(result, out, files, command, wall, force=args.force, lang=args.lang)
    else:  # a name the command chose: never replaced (not with --force either), taken again if need be
        while True:
            out = _free(out)
            try:
                write_results(result, out, files, command, wall, force=False, lang=args.lang)
                break
            except OutputExistsError:
                continue  # another run took it between the check and the rename
    args.written = out  # an interruption from here on leaves a complete folder
    return out


def notes(files: dict, scenarios: dict[str, Scenario]) -> None:
    from sim.scenario import stock_above_places

    for role, scenario in scenarios.items():
        for note in stock_above_places(scenario):
            print(f"trappesim: note: {files[role]}: {note}", file=sys.stderr)


def plausible(args: argparse.Namespace, files: dict, scenarios: dict[str, Scenario]) -> None:
    """Warn about each implausible number, and each number the two arms differ in, before anything
    runs; with ``--strict`` stop there (exit 2)."""
    from sim.scenario.plausibility import warnings_of

    lines = warnings_of(scenarios, files)
    for line in lines:
        print(f"trappesim: warning: {line}", file=sys.stderr)
    args.warned = len(lines)  # said again after the results, which scroll the warnings away
    if lines and getattr(args, "strict", False):
        raise ScenarioError(
            "",
            "",
            f"--strict: {len(lines)} warning(s) above; correct the files (or leave out --strict "
            "to run with them); nothing was run or written",
        )


def remind(args: argparse.Namespace) -> None:
    """After the results: how many warnings about the files scrolled away above them."""
    n = getattr(args, "warned", 0)
    if n:
        print(
            f"trappesim: note: {n} warning(s) about the scenario files above the results; the run used "
            "the files as written",
            file=sys.stderr,
        )


def check_pair_of(args: argparse.Namespace, base: Scenario, strategy: Scenario) -> None:
    """Refuse two files that cannot be compared before anything runs, naming both."""
    from sim.run.experiment import check_pair

    try:
        check_pair(base, strategy)
    except PairError as err:
        raise PairError(f"{args.baseline} and {args.strategy}: {err}") from None


def whose(perspective: str, lang: str) -> str:
    """Whose money a printed NPV counts, and the option that chose it."""
    from sim.outputs import language as L

    return L.t("cli_whose_money", lang, whose=L.t("persp_" + perspective, lang), perspective=perspective)


def load_pair(args: argparse.Namespace) -> tuple[dict[str, Path], Scenario, Scenario]:
    """The two files of a command that compares, loaded and checked to be comparable, naming both."""
    from sim.scenario import load_scenario

    files = {"baseline": args.baseline, "strategy": args.strategy}
    base, strategy = load_scenario(args.baseline), load_scenario(args.strategy)
    check_pair_of(args, base, strategy)
    return files, base, strategy


def destination(args: argparse.Namespace, name: str) -> Path:
    """The results folder to write: ``--out``, else ``results/NAME-<date-time>``; checked before anything runs."""
    from sim.outputs.results import check_destination

    out = args.out or _free(default_out(name))
    check_destination(out, args.force)
    return out


def _free(out: Path) -> Path:
    """``out``, or ``out-2``, ``out-3``, ... if a folder of that name exists (a name the command chose)."""
    stem, k = out, 2
    while out.exists():
        out, k = stem.with_name(f"{stem.name}-{k}"), k + 1
    return out


def workers_of(args: argparse.Namespace) -> int | str:
    """Worker processes, or a Dask scheduler's address: ``--scheduler``, ``--workers``, else every core."""
    return args.scheduler or args.workers or os.cpu_count() or 1
