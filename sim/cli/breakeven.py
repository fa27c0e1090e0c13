"""``trappesim breakeven``: the effect, or the programme's cost, at which the NPV is 0."""

from __future__ import annotations

import argparse

from sim.cli.common import EXIT_OK, load_pair, plausible, remind, whose, workers_of
from sim.cli.options import (
    AT_LEAST_0,
    add_lang,
    add_perspective,
    add_seed_engine,
    add_strict,
    add_two_files,
    add_where,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``breakeven`` command to the parser."""
    p = sub.add_parser("breakeven", help="the effect, or the programme cost, at which NPV = 0")
    add_two_files(p)
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
    add_seed_engine(p, "expected", "analytic (default) or the DES")
    add_where(p)
    add_perspective(p)
    add_strict(p)
    add_lang(p, "printed answer")
    p.set_defaults(handler=_breakeven)


def break_even(*args, **kwargs):
    """:func:`sim.analysis.uncertainty.break_even`, imported when the command runs (not to build the parser)."""
    from sim.analysis.uncertainty import break_even

    return break_even(*args, **kwargs)


def _breakeven(args: argparse.Namespace) -> int:
    import numpy as np

    from sim.outputs import language as L
    from sim.outputs.report import text_table

    files, base, strategy = load_pair(args)
    plausible(args, files, {"baseline": base, "strategy": strategy})
    r = break_even(
        base,
        strategy,
        on=args.on,
        draws=args.draws,
        seed=args.seed,
        engine=args.engine,
        perspective=args.perspective,
        workers=workers_of(args),
    )
    lang = L.resolve(args.lang, base)
    t = lambda key, **kw: L.t(key, lang, **kw)  # noqa: E731
    plain = lambda text: text.replace(L.NBSP, " ")  # noqa: E731
    money = lambda v: L.money(v, lang, base.currency)  # noqa: E731

    def share(v: float) -> str:  # a share of the assumed effect; a draw may never break even
        if L.shows_as_zero_percent(v, lang):
            return t("cli_above_zero")  # a hazard ratio of 0 stays 0 at any share: not "0 %", which it is not
        return L.percent(v, lang) if np.isfinite(v) else t("cli_never")

    print(f"\n{t('vs', a=strategy.name, b=base.name)}: {t('cli_breakeven_header_' + args.on)}")
    print(plain(f"  {t('cli_npv_as_assumed')}: {money(r.npv_as_given)}"))
    lo, hi = r.interval
    draws = L.number(args.draws, lang)
    if args.on == "cost":
        if np.isnan(r.value):
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
        print(f"  {t('cli_breakeven_free', whose=t('persp_' + r.perspective))}")
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
    print(f"  {whose(r.perspective, lang)}")
    remind(args)
    return EXIT_OK
