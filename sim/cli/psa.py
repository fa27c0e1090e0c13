"""``trappesim psa``: probabilistic sensitivity analysis of a baseline and a strategy."""

from __future__ import annotations

import argparse
import sys
import time

from sim.cli.common import EXIT_OK, destination, load_pair, notes, plausible, remind, whose, workers_of, write
from sim.cli.options import AT_LEAST_1, add_analysis, add_two_files
from sim.errors import NothingUncertain, ScenarioError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``psa`` command to the parser."""
    p = sub.add_parser("psa", help="probabilistic sensitivity analysis: draw every uncertain number")
    add_two_files(p)
    p.add_argument("--draws", "-n", type=AT_LEAST_1, default=1000, help="parameter draws (default 1000)")
    add_analysis(p, "analytic (default) or one DES run per draw", "psa-")
    p.set_defaults(handler=_psa)


def psa(*args, **kwargs):
    """:func:`sim.analysis.uncertainty.psa`, imported when the command runs (not to build the parser)."""
    from sim.analysis.uncertainty import psa

    return psa(*args, **kwargs)


def _psa(args: argparse.Namespace) -> int:
    from sim.outputs import language as L
    from sim.outputs.report import format_value

    files, base, strategy = load_pair(args)
    notes(files, {"baseline": base, "strategy": strategy})
    if not base.uncertain and not strategy.uncertain:
        raise ScenarioError(f"{args.baseline} and {args.strategy}", "", NothingUncertain.advice("psa"))
    # A number uncertain in the strategy only is one the arms differ in: plausible warns.
    plausible(args, files, {"baseline": base, "strategy": strategy})
    out = destination(args, f"{strategy.name}-vs-{base.name}-psa")
    workers = workers_of(args)
    lang = L.resolve(args.lang, base)
    said = L.t("cli_status_psa", lang, n=args.draws, engine=L.engine_name(args.engine, lang), seed=args.seed)
    print(f"trappesim: psa: {said}", file=sys.stderr)
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
    out = write(result, out, files, args, wall)
    s = result.summary
    names = L.t("vs", lang, a=strategy.name, b=base.name)
    print(f"\n{names}: {L.t('psa_header', lang, n=L.number(args.draws, lang))}")
    payer = f" ({L.t('persp_' + args.perspective, lang)})" if args.perspective != "kommune" else ""
    rows = [
        (L.t("kf_entries_avoided", lang), "placement_entries_avoided", "placements"),
        (L.t("kf_npv", lang) + payer, "npv", "money"),
        (L.t("kf_roi", lang), "roi", "ratio"),
    ]
    table: list[tuple[str, str, str] | str] = []  # (label, mean, [range]) rows, or a group's heading

    def ranged(label: str, key: str, kind: str) -> None:
        r = s.loc[key]
        shown = [format_value(r[q], kind, lang, base.currency) for q in ("mean", "p5", "p95")]
        table.append((label, shown[0], f"[{L.span(shown[1], shown[2], lang)}]"))

    def probability(label: str, key: str) -> None:
        r = s.loc[key]
        wilson = L.span(L.probability(r["mc_low"], lang), L.probability(r["mc_high"], lang), lang)
        table.append((label, L.probability(r["mean"], lang), f"[{L.t('wilson', lang, interval=wilson)}]"))

    for label, key, kind in rows:
        ranged(label, key, kind)
    probability(L.t("kf_p_npv_draws", lang, n=L.number(args.draws, lang)), "probability_npv_positive")
    cost = L.money(s.loc["cost_per_placement_avoided", "mean"], lang, base.currency)
    table.append((L.t("kf_cost_per_avoided", lang), cost, ""))
    if "npv_with_adult_consequences" in s.index:
        table.append(f"{L.t('group_projection', lang)}:")
        ranged(L.t("kf_npv_adult", lang), "npv_with_adult_consequences", "money")
        probability(
            L.t("kf_p_npv_adult", lang, n=L.number(args.draws, lang)), "probability_npv_with_adult_positive"
        )
    # Columns as wide as their longest entry: a long label or amount keeps the others in line.
    width = max(len(r[0]) for r in table if isinstance(r, tuple))
    value = max(16, *(len(r[1]) for r in table if isinstance(r, tuple)))
    for r in table:
        line = f"  {r}" if isinstance(r, str) else f"  {r[0]:{width}s} {r[1]:>{value}s}  {r[2]}".rstrip()
        print(line.replace(L.NBSP, " "))
    print(f"  {L.money_note(base, lang)}".replace(L.NBSP, " "))
    print(f"  {whose(args.perspective, lang)}")  # the default's too, as tornado and breakeven say it
    print(f"\n{L.t('results_written', lang, out=out)}")
    remind(args)
    return EXIT_OK
