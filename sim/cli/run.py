"""``trappesim run`` and ``trappesim compare``: simulate one scenario, or a strategy against its baseline."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.cli.common import (
    EXIT_OK,
    check_pair_of,
    destination,
    notes,
    plausible,
    print_summary,
    remind,
    workers_of,
    write,
)
from sim.cli.options import add_common, add_perspective, add_two_files


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` and ``compare`` commands to the parser."""
    p = sub.add_parser("run", help="simulate one scenario and write a results folder")
    p.add_argument("scenario", type=Path, help="scenario file (TOML)")
    add_common(p)
    p.set_defaults(handler=_simulate)
    p = sub.add_parser("compare", help="compare a strategy with its baseline (common random numbers)")
    add_two_files(p)
    add_common(p)
    add_perspective(p)
    p.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from sim.model.staircase import compile_staircase
    from sim.outputs import language as L
    from sim.run.estimates import MIN_REPLICATIONS, analytic_is_exact
    from sim.run.experiment import Comparison, Result, check_options, compare, simulate
    from sim.scenario import Scenario, load_scenario

    check_options(args.engine, args.replications, args.seed)  # before anything is read or said

    files = (
        {"scenario": args.scenario}
        if args.command == "run"
        else {"baseline": args.baseline, "strategy": args.strategy}
    )
    scenarios: dict[str, Scenario] = {role: load_scenario(path) for role, path in files.items()}
    notes(files, scenarios)
    names = "-vs-".join(s.name for s in reversed(scenarios.values()))
    out = destination(args, names)
    if args.command == "compare":
        check_pair_of(args, scenarios["baseline"], scenarios["strategy"])
    plausible(args, files, scenarios)
    workers = workers_of(args)
    # Said in the language the results are written in (the scenario's, or --lang).
    lang = L.resolve(args.lang, next(iter(scenarios.values())))
    if args.engine == "expected":
        what = L.t("cli_status_expected", lang)
    else:
        if args.scheduler:
            where = L.t("cli_status_dask", lang, address=args.scheduler)
        else:
            where = L.t("cli_status_workers", lang, n=workers)
        exact = all(analytic_is_exact(compile_staircase(sc)) for sc in scenarios.values())
        if args.replications:
            how = L.runs(args.replications, lang)
        elif exact:
            how = L.t("cli_status_exact", lang, runs=L.runs(MIN_REPLICATIONS, lang))
        else:
            how = L.t(
                "cli_status_precision",
                lang,
                share=L.percent(args.precision, lang, 1),
                most=L.number(args.max_replications, lang),
            )
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
    out = write(result, out, files, args, wall)
    print_summary(result, out, args.lang)
    remind(args)
    return EXIT_OK
