"""``trappesim sensitivity``: global sensitivity, Sobol or Morris indices (SALib)."""

from __future__ import annotations

import argparse
import time

from sim.cli.common import EXIT_OK, destination, load_pair, plausible, remind, whose, workers_of, write
from sim.cli.options import add_analysis, add_two_files, whole


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sensitivity`` command to the parser."""
    p = sub.add_parser("sensitivity", help="global sensitivity: Sobol or Morris indices (SALib)")
    add_two_files(p)
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol", help="Sobol (default) or Morris")
    p.add_argument("--outcome", default="npv", help="npv (default), placement_entries_avoided, roi, ...")
    p.add_argument(
        "-n",
        type=whole(2),
        default=256,
        help="base sample size (default: 256): Sobol runs n x (2 x numbers + 2), Morris n x (numbers + 1)",
    )
    add_analysis(p, "analytic (default) or the DES", "sensitivity-")
    p.set_defaults(handler=_sensitivity)


def global_sensitivity(*args, **kwargs):
    """:func:`sim.analysis.uncertainty.global_sensitivity`, imported when the command runs (not to build
    the parser)."""
    from sim.analysis.uncertainty import global_sensitivity

    return global_sensitivity(*args, **kwargs)


def _sensitivity(args: argparse.Namespace) -> int:
    from sim.analysis.uncertainty import Sensitivity
    from sim.outputs import language as L
    from sim.outputs.report import outcome_name, sensitivity_value, text_table

    files, base, strategy = load_pair(args)
    plausible(args, files, {"baseline": base, "strategy": strategy})
    out = destination(args, f"{strategy.name}-vs-{base.name}-sensitivity")
    start = time.perf_counter()
    workers = workers_of(args)
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
    out = write(result, out, files, args, time.perf_counter() - start)
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
    print(f"  {t('sensitivity_conf_note' if args.method == 'sobol' else 'sensitivity_conf_note_morris')}")
    if L.measure_kind(args.outcome) != "count":  # money and its ratios depend on whose purse
        print(f"  {whose(args.perspective, lang)}")
    if args.method == "morris" and L.measure_kind(args.outcome) == "money":
        print(f"  {L.money_note(base, lang)}".replace(L.NBSP, " "))
    print(f"\n{t('results_written', out=out)}")
    remind(args)
    return EXIT_OK
