"""``trappesim tornado``: one-way sensitivity, each uncertain number at its 5th and 95th percentile."""

from __future__ import annotations

import argparse
import time

from sim.cli.common import EXIT_OK, destination, load_pair, plausible, remind, whose, workers_of, write
from sim.cli.options import add_analysis, add_two_files


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``tornado`` command to the parser."""
    p = sub.add_parser(
        "tornado", help="one-way sensitivity: each uncertain number at its 5th and 95th percentile"
    )
    add_two_files(p)
    p.add_argument("--outcome", default="npv", help="npv (default), placement_entries_avoided, roi, ...")
    add_analysis(p, "analytic (default) or the DES", "tornado-")
    p.set_defaults(handler=_tornado)


def tornado(*args, **kwargs):
    """:func:`sim.analysis.uncertainty.tornado`, imported when the command runs (not to build the parser)."""
    from sim.analysis.uncertainty import tornado

    return tornado(*args, **kwargs)


def _tornado(args: argparse.Namespace) -> int:
    from sim.outputs import language as L
    from sim.outputs.report import outcome_name, outcome_value, parameter_value, text_table

    files, base, strategy = load_pair(args)
    plausible(args, files, {"baseline": base, "strategy": strategy})
    out = destination(args, f"{strategy.name}-vs-{base.name}-tornado")
    start = time.perf_counter()
    result = tornado(
        base,
        strategy,
        outcome=args.outcome,
        seed=args.seed,
        engine=args.engine,
        perspective=args.perspective,
        workers=workers_of(args),
    )
    out = write(result, out, files, args, time.perf_counter() - start)
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
        print(f"  {whose(result.perspective, lang)}")
    print(f"\n{t('results_written', out=out)}")
    remind(args)
    return EXIT_OK
