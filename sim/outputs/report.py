"""What a report says: key figures, assumptions, and the HTML report.

The key figures here are the single source for the terminal summary, the
workbook's summary sheet and the HTML report's first page, so the three
always agree with each other and with ``comparison.csv``. Nothing here
simulates: it reads results and formats them.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from sim.analysis.uncertainty import PSAResult, Sensitivity, Tornado
from sim.errors import OptionError, PairError
from sim.model.staircase import price_factor
from sim.outputs import language as L
from sim.outputs.language import Lang, t
from sim.run.estimates import AGREEMENT_P, next_replications
from sim.run.experiment import Comparison, Result, short_targets, wilson_interval
from sim.scenario import PERSPECTIVES, Scenario

# (metric in the summary table, label key, kind). Kinds decide format and unit.
_COMPARISON_ROWS = [
    ("placement_entries_avoided", "kf_entries_avoided", "placements"),
    ("placement_child_years_avoided", "kf_child_years_avoided", "child_years"),
    ("placed_at_end_avoided", "kf_fewer_placed", "children"),
    ("investment_pv", "kf_investment", "money"),
    ("gross_savings_pv", "kf_savings", "money"),
    ("npv", "kf_npv", "money"),
    ("roi", "kf_roi", "ratio"),
    ("payback_year", "kf_payback", "year"),
]
_CAPACITY_ROWS = [
    ("waiting_years_avoided", "kf_waiting_avoided", "child_years1"),
    ("overflows_avoided", "kf_overflows_avoided", "children"),
]


_OTHER_WAY = {
    "placement_entries_avoided": "kf_entries_added",
    "placement_child_years_avoided": "kf_child_years_added",
    "placed_at_end_avoided": "kf_more_placed",
    "waiting_years_avoided": "kf_waiting_added",
    "overflows_avoided": "kf_overflows_added",
}
"""Labels for figures "avoided" that went the other way (shown as positive numbers)."""


_UNITS = {
    "children": "u_children",
    "placements": "u_placements",
    "children1": "u_children",
    "persons": "u_persons",
    "child_years": "u_child_years",
    "child_years1": "u_child_years",
    "year": "u_year",
    "share": "u_share",
}
"""The unit's words of each kind of figure with no currency in its unit."""


def _unit(kind: str, scenario, lang: Lang) -> str:
    # Only the kind asked for: the money unit's discounting words cost more than the rest together.
    if kind == "money":
        return t(  # the rates too: a table copied from a notebook keeps them
            "u_money",
            lang,
            currency=L.currency_symbol(scenario.currency, lang),
            price_year=scenario.price_year,
            start_year=scenario.discount_year,
            rates=L.discounting(scenario, lang),
        )
    if kind == "ratio":
        return t("u_ratio", lang, currency=L.currency_symbol(scenario.currency, lang))
    return t(_UNITS[kind], lang)


def figures_money_note(result: Result | Comparison, lang: Lang) -> str:
    """The note under the key figures: currency, price year and discounting, and for a comparison whose
    money it counts (always: a region's report or workbook must say so even where its lines are all 0)."""
    if isinstance(result, Comparison):
        return L.money_note(result.base.scenario, lang) + " " + L.whose_money(result.perspective, lang)
    return L.money_note(result.scenario, lang)


def has_payers(cmp: Comparison, adult: bool = False) -> bool:
    """Whether a budget cost line (or, with ``adult``, the adult-life line) is not the municipality's alone."""
    default = np.array([1.0, 0.0, 0.0])

    def lines(st):
        return [st.adult_payers] if adult else [*st.step_payers, st.programme_payers, st.casework_payers]

    shares = np.array([m for st in (cmp.base.staircase, cmp.strategy.staircase) for m in lines(st)], float)
    # np.allclose's test, on all lines at once (the what-if page asks this at every lever move).
    return bool((np.abs(shares - default) > 1e-8 + 1e-5 * default).any())


def years_in_surplus(cum: np.ndarray, years: np.ndarray) -> str:
    """The years a cumulative net saving is above zero, as runs: ``"2031-2040"``, ``"2029, 2033-2035"``
    ('' if none)."""
    ahead = np.flatnonzero(np.asarray(cum) > 0)
    runs = np.split(ahead, np.flatnonzero(np.diff(ahead) > 1) + 1) if len(ahead) else []
    return ", ".join(
        str(years[r[0]]) if len(r) == 1 else f"{years[r[0]]}-{years[r[-1]]}" for r in runs if len(r)
    )


def nothing_at_stake(cmp: Comparison) -> bool:
    """Whether the comparison's perspective invests nothing and saves nothing (a payer the files give no
    share, or a scenario compared with itself): no payback verdict to give."""
    m = cmp.mean_arrays
    return float(m["total_investment_pv"][0]) == 0 and float(m["total_gross_savings_pv"][0]) == 0


def no_money_text(lang: Lang) -> str:
    """The payback year of a perspective that invests and saves nothing: "– (nothing invested or saved ...)"."""
    return t("no_money", lang, nothing=L.in_sentence(t("no_money_title", lang)))


def no_payback_text(cmp: Comparison, lang: Lang) -> str:
    """What to say of a payback year the horizon does not hold: never ahead, ahead for a while, or no money."""
    m = cmp.mean_arrays
    y1 = int(cmp.years[-1])
    if nothing_at_stake(cmp):
        return no_money_text(lang)
    span = years_in_surplus(m["cum_net_savings_discounted"][0], cmp.years)
    return t("not_lasting", lang, y1=y1, span=span) if span else t("not_within", lang, y1=y1)


def format_value(
    value: float, kind: str, lang: Lang, currency: str = "DKK", last_year: int | None = None
) -> str:
    """A key figure as text: counts, money, ratios, years and shares, in ``lang``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        if kind == "year":
            return t("not_within", lang, y1=last_year) if last_year else t("none", lang)
        return "–"
    if kind in ("children", "placements", "child_years"):
        return L.number(value, lang)
    if kind == "persons":
        return L.number(value, lang, 0, signed=True)
    if kind in ("children1", "child_years1"):
        return L.number(value, lang, 1)
    if kind == "money":
        return L.money(value, lang, currency)
    if kind == "ratio":
        return L.number(value, lang, 2)
    if kind == "year":
        return f"{value:.0f}"
    if kind == "share":
        return L.probability(value, lang)
    raise ValueError(f"unknown kind {kind!r}")


def key_figures(
    result: Result | Comparison, lang: str | None = None, psa: PSAResult | None = None
) -> pd.DataFrame:
    """The figures a budget note quotes, as numbers and as text.

    Each has its mean, the Monte Carlo precision of the mean (95 %; "exact"
    where the analytic engine solves the model) and the range of outcomes
    (90 % over replications: where the actual figure may fall by chance).

    Parameters
    ----------
    result : Result or Comparison
    lang : {"da", "en"}, optional
        Default: the scenario's language.
    psa : PSAResult, optional
        Adds the probability that NPV > 0 and the intervals over parameter draws.

    Returns
    -------
    pandas.DataFrame
        ``metric``, ``label``, ``centre`` (the mean; for the payback year the
        year the mean cash flow pays back), ``mc_se``, ``mc_low``, ``mc_high``
        (the mean's 95 % Monte Carlo interval), ``p5``, ``p95`` (the range of
        outcomes; for PSA rows the range over parameter draws; nan where there
        is none), ``kind`` (the unit's kind: ``money``, ``placements``, ``children``, ...),
        ``group`` (``budget``; ``projection``, ``payers``; ``psa`` or
        ``psa_des`` for rows over a PSA's draws), ``unit`` (money with its
        price year and discount rates), and as text ``text`` (the mean),
        ``precision`` ("exact", "± x", Wilson's interval of a share, or
        empty), ``interval`` (the range) and ``interval_kind`` (what the
        range is over: replications, or a PSA's draws; empty without one).
    """
    return pd.DataFrame(key_figure_records(result, lang, psa), columns=list(KEY_FIGURE_COLUMNS))


def check_extra(result: Any, extra: Any) -> None:
    """Refuse an uncertainty result (PSA, tornado, sensitivity) of other scenarios or another payer
    than the comparison it is shown with, as ``trappesim report --with`` does (:class:`PairError`)."""
    if not isinstance(extra, PSAResult | Tornado | Sensitivity):
        raise PairError(
            f"a PSA, tornado or sensitivity result is shown with a comparison, not {L.a_or_an(type(extra).__name__)}"
        )
    if not isinstance(result, Comparison):
        raise PairError("uncertainty results can only be shown with a comparison (sim.compare)")
    what = {"psa": "PSA", "tornado": "tornado", "sensitivity": "sensitivity analysis"}[extra.kind]
    ours = (result.base.scenario.input_hash(), result.strategy.scenario.input_hash())
    if (extra.base.input_hash(), extra.strategy.input_hash()) != ours:
        names = (extra.strategy.name, extra.base.name) == (
            result.strategy.scenario.name,
            result.base.scenario.name,
        )
        raise PairError(
            f"the {what} was made from other scenarios ({extra.strategy.name} vs {extra.base.name}"
            + (", the same names with other numbers" if names else "")
            + f") than the comparison ({result.strategy.scenario.name} vs {result.base.scenario.name}): run it "
            "on the same baseline and strategy"
        )
    if extra.perspective != result.perspective:
        raise PairError(
            f"the {what} is counted from a {t('persp_' + extra.perspective, 'en')}, the comparison from "
            f"a {t('persp_' + result.perspective, 'en')}: run both with the same perspective"
        )


PROBABILITIES = ("probability_npv_positive", "probability_paid_back")
"""Key figures that are shares of a PSA's draws, with Wilson's interval as their precision."""

_KEY_FIGURE_NUMBERS = ("metric", "label", "centre", "mc_se", "mc_low", "mc_high", "p5", "p95", "kind")
KEY_FIGURE_COLUMNS = (*_KEY_FIGURE_NUMBERS, "group", "unit", "text", "precision", "interval", "interval_kind")
"""The columns of :func:`key_figures`, and the keys of each of :func:`key_figure_records`' rows."""


def key_figure_records(
    result: Result | Comparison, lang: str | None = None, psa: PSAResult | None = None
) -> list[dict[str, Any]]:
    """:func:`key_figures` as a list of plain dicts, one per figure (no DataFrame: the what-if page
    asks for them at every lever move)."""
    if not isinstance(result, Result | Comparison):
        raise OptionError(
            f"key figures are of a Result or a Comparison (sim.simulate, sim.compare), not {L.a_or_an(type(result).__name__)}"
            + (
                "; a PSA's are shown with its comparison: key_figures(cmp, psa=...)"
                if isinstance(result, PSAResult)
                else ""
            )
        )
    if psa is not None:
        if not isinstance(psa, PSAResult):
            raise OptionError(f"psa must be a PSAResult (sim.psa), not {L.a_or_an(type(psa).__name__)}")
        check_extra(result, psa)
    scenario = result.base.scenario if isinstance(result, Comparison) else result.scenario
    lang = L.resolve(lang, scenario)
    reps = result.base.replications if isinstance(result, Comparison) else result.replications
    engine = result.base.engine if isinstance(result, Comparison) else result.engine
    y0, y1 = int(result.years[0]), int(result.years[-1])
    s = result.summary_rows
    rows: list[tuple[str, str, str]]
    if isinstance(result, Comparison):
        rows = list(_COMPARISON_ROWS)
        if result.has_capacity:
            rows[3:3] = _CAPACITY_ROWS
    else:
        rows = [
            ("placed_at_end", "kf_placed_end", "children"),
            ("placement_entries", "kf_entries", "placements"),
            ("total_cost_discounted", "kf_total_cost", "money"),
        ]
        if result.has_capacity:
            rows += [
                ("waiting_years", "kf_waiting", "child_years1"),
                ("overflows", "kf_overflows", "children"),
            ]

    def estimate(r) -> tuple[float, float, float, float, float, float]:
        """mean, its standard error and Monte Carlo interval, and the range of outcomes."""
        rng = (r["p5"], r["p95"]) if reps > 1 else (np.nan, np.nan)  # expected values have none
        return (r["mean"], r["mc_se"], r["mc_low"], r["mc_high"], *rng)

    # Whether a budget line is not the municipality's alone: asked once, not at every money row.
    payers = isinstance(result, Comparison) and has_payers(result)
    out = []
    groups: dict[str, str] = {}  # budget (default), projection, payers, psa: shown apart
    for metric, label, kind in rows:
        r = s[metric]
        if metric == "payback_year" and reps == 1:
            label = "kf_payback_one"
        text = t(label, lang, year=y1, y0=y0, y1=y1)
        if kind == "money" and payers:
            text += f" ({t('persp_' + result.perspective, lang)})"  # whose money, when it matters
        out.append((metric, text, *estimate(r), kind))
    if isinstance(result, Comparison) and result.has_adult:
        for metric, label in (
            ("adult_consequences_avoided_pv", "kf_adult"),
            ("npv_with_adult_consequences", "kf_npv_adult"),
        ):
            text = t(label, lang)
            if has_payers(result, adult=True) or payers:
                text += f" ({t('persp_' + result.perspective, lang)})"
            out.append((metric, text, *estimate(s[metric]), "money"))
            groups[metric] = "projection"
        for key, outcome in result.adult_outcomes.items():
            metric = f"adult_{key}_change"
            name = outcome.name_da if lang == "da" else outcome.name_en
            out.append((metric, t("kf_adult_outcome", lang, name=name), *estimate(s[metric]), "persons"))
            groups[metric] = "projection"
    if payers:
        for payer in PERSPECTIVES:
            metric = f"npv_{payer}"
            out.append((metric, t(f"kf_npv_{payer}", lang), *estimate(s[metric]), "money"))
            groups[metric] = "payers"
    # With the simulation, each PSA draw is one run: the spread over draws holds chance as well.
    psa_group = "psa_des" if psa is not None and psa.engine == "des" else "psa"
    if psa is not None:
        p = psa.summary
        for metric, label, kind in (
            ("placement_entries_avoided", "kf_avoided_psa", "placements"),
            ("npv", "kf_npv_psa", "money"),
        ):
            text = t(label, lang)
            if kind == "money" and payers:
                text += f" ({t('persp_' + psa.perspective, lang)})"
            # The range is over parameter draws; the mean's own precision is not shown for PSA rows.
            out.append(
                (
                    f"psa_{metric}",
                    text,
                    p.loc[metric, "mean"],
                    np.nan,
                    np.nan,
                    np.nan,
                    p.loc[metric, "p5"],
                    p.loc[metric, "p95"],
                    kind,
                )
            )
            groups[f"psa_{metric}"] = psa_group
        share = p.loc["probability_npv_positive"]
        out.append(
            (
                "probability_npv_positive",
                t("kf_p_npv_draws", lang, n=L.number(psa.draws, lang)),
                share["mean"],
                share["mc_se"],
                share["mc_low"],  # Wilson's interval: the precision of a share of the draws
                share["mc_high"],
                np.nan,
                np.nan,
                "share",
            )
        )
        # The payback year above is that of the central values; how likely it is over the draws
        # (a knife-edge year can be 48 %, the PSA's own "more likely than not" a year later).
        pay = float(result.summary.loc["payback_year", "mean"]) if isinstance(result, Comparison) else np.nan
        b = psa.breakeven
        if np.isfinite(pay) and (b["year"] == pay).any():
            share = float(b.loc[b["year"] == pay, "probability_break_even"].iloc[0])
            lo, hi = wilson_interval(round(share * psa.draws), psa.draws)
            label = t("kf_p_paid_back", lang, year=int(pay), n=L.number(psa.draws, lang))
            out.append(("probability_paid_back", label, share, np.nan, lo, hi, np.nan, np.nan, "share"))
            groups["probability_paid_back"] = psa_group
    records = [dict(zip(_KEY_FIGURE_NUMBERS, row)) for row in out]

    # "Fewer placed: -17" is a double negative: a figure that went the other way says so.
    # One that rounds to 0 keeps its usual words ("New placements avoided: 0", not "added: 0").
    def shows_as_zero(r: dict) -> bool:
        return format_value(abs(r["centre"]), r["kind"], lang, scenario.currency) == format_value(
            0.0, r["kind"], lang, scenario.currency
        )

    for r in records:
        other = _OTHER_WAY.get(r["metric"])
        if other is not None and r["centre"] < 0 and not shows_as_zero(r):
            r["label"] = t(other, lang)
            r["centre"], r["mc_low"], r["mc_high"], r["p5"], r["p95"] = (
                -r["centre"],
                -r["mc_high"],
                -r["mc_low"],
                -r["p95"],
                -r["p5"],
            )
    groups["probability_npv_positive"] = psa_group
    fmt = lambda v, k: format_value(v, k, lang, scenario.currency, y1)  # noqa: E731
    units: dict[str, str] = {}  # by kind: the same scenario and language for every row
    for r in records:
        k, lo, hi = r["kind"], r["p5"], r["p95"]
        r["group"] = groups.get(r["metric"], "budget")
        if k not in units:
            units[k] = _unit(k, scenario, lang)
        r["unit"] = units[k]
        r["text"] = fmt(r["centre"], k)
        if r["metric"] == "payback_year" and isinstance(result, Comparison) and not np.isfinite(r["centre"]):
            r["text"] = no_payback_text(result, lang)
        half = r["mc_high"] - r["centre"] if np.isfinite(r["mc_high"]) else np.nan
        if r["metric"] in PROBABILITIES:  # Wilson's interval, not ± (it is not symmetric)
            r["precision"] = L.span(fmt(r["mc_low"], k), fmt(r["mc_high"], k), lang)
        else:
            r["precision"] = _precision_text(r["mc_se"], half, k, engine, lang, scenario.currency)
        if r["metric"] == "payback_year" and reps > 1 and _one_year(result):
            r["interval"] = t("every_run", lang, value=fmt(lo, k))  # not "no range": a finding
        elif k == "year" and reps > 1 and lo == hi:  # 90 % of replications in one year, not all
            r["interval"] = L.span(fmt(lo, k), fmt(hi, k), lang)
        elif k == "year" and np.isfinite(lo) and np.isnan(hi):  # "2027 to after 2033", not "to not by 2033"
            r["interval"] = t("range_after", lang, low=fmt(lo, k), y1=y1)
        else:
            r["interval"] = (
                "" if (np.isnan(lo) and np.isnan(hi)) or lo == hi else L.span(fmt(lo, k), fmt(hi, k), lang)
            )
        # Which kind of interval, in words: a table copied out of a notebook keeps it.
        kinds = {"psa": "ik_psa", "psa_des": "ik_psa_des"}
        kind = t(kinds.get(r["group"], "ik_reps"), lang) if r["interval"] else ""
        if kind and r["group"] not in kinds and reps < ROUGH_RANGE:  # as the printed notes say it
            kind = kind[:-1] + t("ik_rough", lang, n=L.runs(reps, lang)) + ")"
        r["interval_kind"] = kind
    return records


def _one_year(result: Result | Comparison) -> bool:
    """Whether every replication paid back in the same year (equal percentiles are not enough)."""
    if not isinstance(result, Comparison):
        return False
    years = np.asarray(result.outcomes("total_payback_year"), dtype=float)
    return bool(np.isfinite(years).all() and (years == years[0]).all())


WEAK_CHECK = 10
"""Below this many replications, the engines' agreement check is said to find only large gaps (at
p < 0.001, Student's t with 2 degrees of freedom needs a gap of 32 standard errors; with 9, 4.8)."""


UNUSUAL_P = 0.01
"""From this p-value down (the largest gap's) the simulation's means are "more than is usual" from the
exact ones, though not warned about (:data:`~sim.run.estimates.AGREEMENT_P`)."""

ROUGH_RANGE = 40
"""Below this many replications the range of outcomes is said to have rough ends (its 5th and 95th
percentiles then rest on one or two replications each)."""


def _by_parameter_note(result: Any, base: Scenario, lang: str) -> str:
    """Under a tornado's or sensitivity's table: what its ± is (sensitivity), and what its money is
    and whose (the note at the top of the report is about the comparison's figures)."""
    if result is None:
        return ""
    notes = []
    if getattr(result, "method", None):
        notes.append(
            t("sensitivity_conf_note" if result.method == "sobol" else "sensitivity_conf_note_morris", lang)
        )
    kind = L.measure_kind(result.outcome)
    shows_money = kind == "money" and (not getattr(result, "method", None) or result.method == "morris")
    if shows_money:
        notes.append(L.money_note(base, lang))
    if kind != "count":
        notes.append(L.whose_money(result.perspective, lang))
    return " ".join(notes)


def interval_notes(result: Result | Comparison, lang: str) -> list[str]:
    """What the key figures' intervals mean, in words: the means' precision, the range of outcomes.

    The means are exact (and the simulation's own means agree, or a warning
    says they do not), or their precision was reached against its target (or
    not); the range of outcomes is chance in children's paths, not doubt
    about the assumptions. Nothing for expected values alone.
    """
    res = result.base if isinstance(result, Comparison) else result
    if res.engine == "expected":
        return []
    n = res.replications
    runs = L.runs(n, lang)
    if result.mean_from == "exact" and n < 2:
        notes = [t("means_exact", lang).capitalize() + "."]
    elif result.mean_from == "exact":
        agree = result.agreement
        gap = agree["gap_share"].to_numpy(dtype=float)
        largest = float(np.nanmax(gap)) if len(gap) and np.isfinite(gap).any() else 0.0
        z = np.abs(agree["z"].to_numpy(dtype=float))
        zmax = float(np.nanmax(z)) if len(z) and np.isfinite(z).any() else 0.0
        p = agree["p"].to_numpy(dtype=float)
        pmin = float(np.nanmin(p)) if len(p) and np.isfinite(p).any() else 1.0
        words = dict(n=runs, gap=L.percent(largest, lang, 1), z=L.number(zmax, lang, 1))
        if AGREEMENT_P <= pmin < UNUSUAL_P:  # not warned about, but not "as chance gives" either
            notes = [t("legend_exact_borderline", lang, p=L.decimal(float(f"{pmin:.2g}"), lang), **words)]
        else:
            notes = [t("legend_exact", lang, **words)]
        if n < WEAK_CHECK:  # Student's t with few degrees of freedom: p < 0.001 needs a gap of many SEs
            notes[0] += " " + t("legend_weak_check", lang, n=runs)
        for r in agree[agree["p"].to_numpy(dtype=float) < AGREEMENT_P].itertuples():
            notes.append(t("legend_disagree", lang, metric=r.metric, z=L.number(r.z, lang, 1)))
    elif res.precision is None:
        notes = [t("legend_precision_fixed", lang, n=runs)]
    else:
        notes = [t("legend_precision", lang, n=runs, target=L.percent(res.precision, lang, 1))]
        short = short_targets(result)
        if short:
            labels = key_figures(result, lang).set_index("metric")["label"]
            need = next_replications(n, short, res.precision, 10**9)
            # Each figure with its own precision: one "± 33.6 %" for two was the worse one's.
            each = [
                f"{labels[tg.name].lower()} ± {L.percent(tg.reached(n), lang, 1) if np.isfinite(tg.reached(n)) else '–'}"
                for tg in short
            ]
            notes.append(
                # An estimate from the spread so far: two figures say as much as it knows (31,000, not 31,130).
                t(
                    "legend_not_reached",
                    lang,
                    names=L.join(each, lang),
                    n=runs,
                    needed=L.number(float(f"{need:.2g}"), lang),
                )
            )
    if n > 1:
        notes.append(t("legend_range", lang, n=runs))
        if n < ROUGH_RANGE:  # a 5th percentile of fewer than 40 numbers is little more than their least
            notes[-1] += " " + t("legend_rough_range", lang, n=runs)
    return notes


def _precision_text(se: float, half: float, kind: str, engine: str, lang: Lang, currency: str) -> str:
    """The mean's precision in words: "exact", "± x" (95 % half-width), or nothing to say."""
    if engine == "expected" or kind in ("year", "share") or np.isnan(se):
        return ""
    if se == 0.0:
        return t("exact", lang)
    return "± " + format_value(half, kind, lang, currency)


def _flatten(data: Any, prefix: str = "", source: str = "", at: str = "") -> list[tuple[str, Any, str, str]]:
    """(dotted key, value, nearest table source, that table's key) for every input in a scenario dict.

    A distribution or a duration law is one input (its table kept whole), and
    so is a list of plain values; tables and lists of tables are walked.
    """
    if isinstance(data, dict) and "dist" not in data:
        if isinstance(data.get("source"), str):
            source, at = data["source"], prefix
        out = []
        for k, v in data.items():
            if k == "source":
                continue
            out += _flatten(v, f"{prefix}.{k}" if prefix else k, source, at)
        return out
    if isinstance(data, list | tuple):
        if all(not isinstance(v, dict | list) for v in data):
            return [(prefix, list(data), source, at)]
        out = []
        for i, v in enumerate(data):
            out += _flatten(v, f"{prefix}[{i}]", source, at)
        return out
    return [(prefix, data, source, at)]


def file_sources(meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The comments and the keys written in a results folder's scenario files, by role.

    For :func:`assumptions`, from a manifest (:func:`sim.outputs.results.manifest`).
    """
    scen = meta.get("scenarios", {})
    notes = {role: v.get("notes", {}) for role, v in scen.items()}
    notes.setdefault("baseline", notes.get("scenario", {}))
    out: dict[str, dict[str, Any]] = {"notes": notes}
    if scen and all("written" in v for v in scen.values()):  # folders written before it was recorded lack it
        written = {role: set(v["written"]) for role, v in scen.items()}
        written.setdefault("baseline", written.get("scenario", set()))
        out["written"] = written
    return out


def _written(keys: set[str], key: str) -> bool:
    """Whether a file set ``key`` or a part of it (a distribution's law, a list of tables)."""
    key = key.split("[")[0]  # a list of tables is written whole or not at all
    return key in keys or any(k.startswith(key + ".") for k in keys)


def _in_files(written: dict[str, set[str]], roles: tuple[str, ...], key: str) -> bool:
    return any(_written(written.get(r, set()), key) for r in roles)


def assumptions(
    base,
    strategy=None,
    notes: dict[str, dict[str, str]] | None = None,
    lang: str = "en",
    written: dict[str, set[str]] | None = None,
) -> pd.DataFrame:
    """Every resolved input in words, with its value, unit and where it comes from.

    Parameters
    ----------
    base, strategy : Scenario
    notes : dict, optional
        Per role (``"baseline"``, ``"strategy"``), the comment beside each
        key in the scenario files (:func:`sim.scenario.scenario_notes`, kept
        in the manifest).
    lang : {"da", "en"}
        The outputs' language; where it is not the scenario's own, the
        ``language`` row shows the one used and says so.
    written : dict, optional
        Per role, the keys the scenario files set (:func:`file_sources`). An
        input set in neither arm's files is marked as the model's default
        rather than given its table's source.

    Returns
    -------
    pandas.DataFrame
        ``key``, ``description`` (the key in words), ``baseline`` and
        ``strategy`` (only with a strategy: the value in words and the
        language's number format, with its unit; an en dash where the arm
        does not have it), ``source``, ``differs``, and the values as the
        scenario holds them in ``baseline_value`` and ``strategy_value``.
        The source is the comment written beside the number (or beside the
        table holding it); without one, the ``source`` given for its table,
        marked as such. Names and labels take no table source.
    """
    lang = L.resolve(lang, base)
    notes = notes or {}
    roles = ("baseline", "strategy") if strategy is not None else ("baseline",)
    rows: dict[str, dict[str, Any]] = {}
    for role, scenario in (("baseline", base), ("strategy", strategy)):
        if scenario is None:
            continue
        own = notes.get(role, {})
        for key, value, source, at in _flatten(scenario.to_dict()):
            row = rows.setdefault(
                key, {"key": key, "baseline": None, "strategy": None, "note": "", "table": "", "at": ""}
            )
            row["at"] = row["at"] or (f"{at}.source" if at else "source")  # the key of its table's source
            row[role] = value
            note = _nearest(own, key)
            if note and (role == "baseline" or not row["note"] or row["baseline"] != value):
                row["note"] = note
            row["table"] = row["table"] or source
    whole = " (kilde for hele tabellen)" if lang == "da" else " (source given for the whole table)"
    data = []
    for row in rows.values():
        label = row["key"].split(".")[-1] in L.LABEL_KEYS or row["key"] == "intervention.name"
        table = row["table"] if row["table"] and not label else ""
        source = row["note"] or (table + whole if table else "")
        if written is not None and not row["note"] and not _in_files(written, roles, row["key"]):
            if table and not _in_files(written, roles, row["at"]):  # a default table with its own source
                source = f"{table} ({t('default', lang)})"
            else:  # the source a file gives its table is not the source of the model's default
                source = t("default_source", lang)
        if row["key"] == "language" and row["baseline"] != lang:
            # The outputs are in the language asked for (--lang), not the file's (or the default's).
            was = L.describe_value(base, "language", row["baseline"], lang)
            unset = written is not None and not _in_files(written, roles, "language")
            source = t("language_chosen_default" if unset else "language_chosen", lang, file=was)
            row["baseline"] = row["strategy"] = lang
        # A strategy's key is described with the strategy's words (its adult outcomes, say).
        words_from = base if row["baseline"] is not None or strategy is None else strategy
        data.append(
            {
                "key": row["key"],
                "description": L.describe(words_from, row["key"], lang),
                "baseline": L.describe_value(base, row["key"], row["baseline"], lang),
                "strategy": L.describe_value(strategy or base, row["key"], row["strategy"], lang),
                "source": source,
                "baseline_value": row["baseline"],
                "strategy_value": row["strategy"],
            }
        )
    columns = ["key", "description", "baseline", "strategy", "source", "baseline_value", "strategy_value"]
    df = pd.DataFrame(data, columns=columns)
    if strategy is None:
        df = df.drop(columns=["strategy", "strategy_value"])
        df["differs"] = False
    else:
        df["differs"] = [
            json.dumps(a, default=str) != json.dumps(b, default=str)
            for a, b in zip(df["baseline_value"], df["strategy_value"])
        ]
    return df


def _nearest(notes: dict[str, str], key: str) -> str:
    """The note on ``key`` or on the closest table or inline table above it."""
    parts = key.replace("[", ".[").split(".")
    for n in range(len(parts), 0, -1):
        found = notes.get(".".join(parts[:n]).replace(".[", "["))
        if found:
            return found
    return ""


_ENV = Environment(loader=PackageLoader("sim.outputs", "templates"), autoescape=select_autoescape(["html"]))


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render_html(
    result: Result | Comparison,
    meta: dict[str, Any],
    lang: str | None = None,
    extras: list[PSAResult | Tornado | Sensitivity] = (),
    pngs: dict[str, bytes] | None = None,
) -> str:
    """The HTML report: one self-contained file (charts embedded as PNG).

    Parameters
    ----------
    result : Result or Comparison
    meta : dict
        The results folder's manifest (provenance).
    extras : list
        Uncertainty results for the same scenarios.
    pngs : dict
        Chart PNGs by stem, as written to ``charts/``.
    """
    cmp = isinstance(result, Comparison)
    base = result.base.scenario if cmp else result.scenario
    strategy = result.strategy.scenario if cmp else None
    lang = L.resolve(lang, base)
    psa = next((e for e in extras if isinstance(e, PSAResult)), None)
    tornado = next((e for e in extras if isinstance(e, Tornado)), None)
    sensitivity = next((e for e in extras if isinstance(e, Sensitivity)), None)
    kf = key_figures(result, lang, psa).set_index("metric", drop=False)
    reps = result.base.replications if cmp else result.replications
    answer = []
    if cmp:
        for metric in ("placement_entries_avoided", "npv", "payback_year"):
            r = kf.loc[metric]
            answer.append(
                {
                    "metric": metric,
                    "label": r["label"],
                    "text": r["text"],
                    "precision": r["precision"],
                    "interval": r["interval"],
                }
            )
        if psa is not None:
            for metric in PROBABILITIES:
                if metric in kf.index:
                    r = kf.loc[metric]
                    answer.append(
                        {
                            "metric": metric,
                            "label": r["label"],
                            "text": r["text"],
                            "precision": r["precision"],  # Wilson's interval of a share of the draws
                            "interval": "",
                        }
                    )
        else:
            answer.append({"label": t("kf_p_npv", lang), "text": None, "precision": "", "interval": ""})
    charts = [
        {
            "stem": stem,
            "src": _png(data),
            "alt": t("chart_" + stem, lang) if "chart_" + stem in L.TEXT else stem,
        }
        for stem, data in (pngs or {}).items()
    ]
    table = assumptions(base, strategy, lang=lang, **file_sources(meta))
    cost_source = dict(zip(table["key"], table["source"]))
    # What the strategy changes, without the defaults an added table brings along (zeros, empty lists).
    if cmp:
        unset = table["baseline_value"].isna() & table["strategy_value"].map(
            lambda v: v in (None, "", 0, 0.0, False) or (isinstance(v, list) and not v)
        )
        names = ["name", "title", "title_en", "description", "intervention.name"]
        changes = table[table["differs"] & ~unset & ~table["key"].isin(names)]
    else:
        changes = table.iloc[:0]
    years = result.years
    tornado_rows = []
    if tornado is not None:
        for r in tornado.table.itertuples():
            tornado_rows.append(
                {
                    "name": L.describe(base, r.parameter, lang),
                    "key": r.parameter,
                    "low": parameter_value(base, r.parameter, r.low, lang),
                    "high": parameter_value(base, r.parameter, r.high, lang),
                    "outcome_low": outcome_value(r.outcome_low, tornado.outcome, lang, base.currency),
                    "outcome_high": outcome_value(r.outcome_high, tornado.outcome, lang, base.currency),
                }
            )
    sensitivity_rows = []
    if sensitivity is not None:
        for r in sensitivity.table.to_dict("records"):
            cells = {
                k: sensitivity_value(v, k, sensitivity.outcome, lang, base.currency) for k, v in r.items()
            }
            cells["parameter"] = L.describe(base, r["parameter"], lang)
            cells["key"] = r["parameter"]
            sensitivity_rows.append(cells)
    template = _ENV.get_template("report.html")
    return template.render(
        lang=lang,
        t=lambda key, **kw: t(key, lang, **kw),
        col=lambda name: L.column(name, lang, base),
        cmp=cmp,
        base=base,
        strategy=strategy,
        title=L.title_of(strategy if cmp else base, lang),
        subtitle=L.title_of(base, lang) if cmp else "",
        y0=int(years[0]),
        y1=int(years[-1]),
        reps=reps,
        engine=L.engine_name(meta.get("engine", ""), lang),
        answer=answer,
        key_figures=kf.to_dict("records"),
        warnings=meta.get("warnings", []),
        tornado_note=_by_parameter_note(tornado, base, lang),
        sensitivity_note=_by_parameter_note(sensitivity, base, lang),
        money_note=figures_money_note(result, lang),
        interval_notes=interval_notes(result, lang),
        delayed_note=t("delayed_note", lang, y0=int(years[0]), y1=int(years[-1])) if cmp else "",
        exact_means=result.mean_from == "exact",
        charts=charts,
        psa=psa,
        psa_draws=L.number(psa.draws, lang) if psa is not None else "",
        tornado=tornado,
        tornado_rows=tornado_rows,
        sensitivity=sensitivity,
        sensitivity_rows=sensitivity_rows,
        psa_engine=L.engine_name(psa.engine, lang) if psa is not None else "",
        headline_engine=t("headline_exact", lang)
        if result.mean_from == "exact"
        else L.engine_name(meta.get("engine", ""), lang),
        expected=meta.get("engine") == "expected",
        runs=L.runs(reps, lang),
        discount_year=base.discount_year,
        outcome_name=outcome_name,
        method_name=(lambda m: L.t("method_" + m, lang)),
        assumptions_note=L.t(
            "assumptions_note",
            lang,
            currency=L.currency_symbol(base.currency, lang),
            price_year=base.price_year,
        ),
        changes=changes.to_dict("records"),
        assumptions=table.to_dict("records"),
        meta=meta,
        made=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        steps=[
            {
                "name": L.step_name(base, s, lang),
                "placement": base.steps[s].placement,
                # In the scenario's price year, as the model counts it (a step may give another).
                "cost": L.money(
                    base.steps[s].cost_per_year * price_factor(base, base.steps[s].price_year),
                    lang,
                    base.currency,
                    scale="units",  # a unit cost in full: "1.160.000 kr.", not "1,2 mio. kr."
                ),
                # The cost's own source, as the assumptions table gives it: the comment beside the
                # number, or the step's table source marked as such (it showed the table's unmarked).
                "source": cost_source.get(f"steps.{s}.cost_per_year", base.steps[s].source),
            }
            for s in base.step_ids
        ],
        discounting=L.discounting(base, lang),
        rate_source=L.rate_source(base),
        yes_no=lambda v: L.describe_value(base, "placement", bool(v), lang),
    )


def parameter_value(scenario, key: str, value: float, lang: Lang) -> str:
    """An uncertain number's value (a tornado's low or high) with about four significant digits and its unit.

    924780.69556 on a cost as "924.800 kr."; 0.7224999 on a hazard ratio as "0,7225".
    """
    from decimal import ROUND_HALF_UP, Decimal

    if value is None or not np.isfinite(value):
        return "–"
    if value != 0:
        # Rounded half up from the twelve significant digits tornado.csv keeps, so that the console
        # and a report remade from the folder show the same value (and 0.7224999999999999, a
        # computed 0.85 ** 2, as 0,7225).
        kept = Decimal(L.plain_number(float(value), "parameter"))
        value = float(kept.quantize(Decimal(1).scaleb(kept.adjusted() - 3), rounding=ROUND_HALF_UP))
    return L.describe_value(scenario, key, float(value), lang)


def outcome_value(value: float, outcome: str, lang: Lang, currency: str = "DKK") -> str:
    """A comparison outcome (tornado, sensitivity) in the language's format, money with its unit."""
    kind = L.measure_kind(outcome)
    if kind == "money":
        return L.money(value, lang, currency)
    if kind == "count":
        return L.number(value, lang)
    if kind == "year":
        return format_value(value, "year", lang)
    return L.number(value, lang, 2)


def outcome_name(outcome: str, lang: Lang, within: bool = False) -> str:
    """A comparison outcome's name in words ("npv" as "Net present value").

    ``within`` a sentence, it starts in lower case ("net present value").
    """
    key = "outcome_" + outcome
    name = t(key, lang) if key in L.TEXT else L.column(outcome, lang)
    return L.in_sentence(name) if within else name


def sensitivity_value(value: Any, column: str, outcome: str, lang: Lang, currency: str = "DKK") -> Any:
    """A cell of a sensitivity table: indices with three decimals, Morris' measures in the outcome's unit."""
    if not isinstance(value, float | int) or isinstance(value, bool):
        return value
    if column in ("mu_star", "mu", "sigma", "mu_star_conf"):
        return outcome_value(float(value), outcome, lang, currency)
    return L.number(float(value), lang, 3)


def text_table(
    headers: list[str], rows: list[tuple[str, ...]], lang: Lang, indent: int = 2, width: int = 48
) -> list[str]:
    """A table for the terminal: a heading line, then one row per entry with its key below.

    Each row is (name in words, value, ..., key): the name wraps within
    ``width`` characters, the values stand right-aligned under their
    headings, and the key (where to find the number in the scenario file) is
    given on its own line, labelled as a key.
    """
    import textwrap

    pad = " " * indent
    plain = [[str(c).replace(L.NBSP, " ") for c in row] for row in rows]
    first = min(width, max([len(headers[0]), *(len(r[0]) for r in plain)]))
    widths = [max([len(h), *(len(r[j + 1]) for r in plain)]) for j, h in enumerate(headers[1:])]

    def line(name: str, cells: list[str]) -> str:
        return pad + name.ljust(first) + "".join("  " + c.rjust(w) for c, w in zip(cells, widths))

    out = [line(headers[0], headers[1:])]
    for r in plain:
        names = textwrap.wrap(r[0], first) or [""]
        out.append(line(names[0], r[1:-1]))
        out += [pad + "  " + more for more in names[1:]]
        out.append(f"{pad}  {t('cli_key', lang)}: {r[-1]}")
    return out
