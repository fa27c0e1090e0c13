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

from sim import language as L
from sim.experiment import Comparison, Result
from sim.language import Lang, t
from sim.plots import has_capacity
from sim.scenario import PERSPECTIVES
from sim.staircase import price_factor
from sim.uncertainty import PSAResult, Sensitivity, Tornado

# (metric in the summary table, label key, kind). Kinds decide format and unit.
_COMPARISON_ROWS = [
    ("placement_entries_avoided", "kf_entries_avoided", "children"),
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
    ("overflows_avoided", "kf_overflows_avoided", "children1"),
]


def _unit(kind: str, scenario, lang: Lang) -> str:
    cur = L.currency_symbol(scenario.currency, lang)
    return {
        "children": t("u_children", lang),
        "children1": t("u_children", lang),
        "persons": t("u_persons", lang),
        "child_years": t("u_child_years", lang),
        "child_years1": t("u_child_years", lang),
        "money": t(
            "u_money", lang, currency=cur, price_year=scenario.price_year, start_year=scenario.discount_year
        ),
        "ratio": t("u_ratio", lang, currency=cur),
        "year": t("u_year", lang),
        "share": t("u_share", lang),
    }[kind]


def has_payers(cmp: Comparison, adult: bool = False) -> bool:
    """Whether a budget cost line (or, with ``adult``, the adult-life line) is not the municipality's alone."""
    default = np.array([1.0, 0.0, 0.0])

    def lines(st):
        return [st.adult_payers] if adult else [*st.step_payers, st.programme_payers, st.casework_payers]

    return any(
        not np.allclose(m, default) for st in (cmp.base.staircase, cmp.strategy.staircase) for m in lines(st)
    )


def format_value(
    value: float, kind: str, lang: Lang, currency: str = "DKK", last_year: int | None = None
) -> str:
    """A key figure as text: counts, money, ratios, years and shares, in ``lang``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        if kind == "year":
            return t("not_within", lang, y1=last_year) if last_year else t("none", lang)
        return "–"
    if kind in ("children", "child_years"):
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
        return L.percent(value, lang)
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
        is none), ``kind``, ``group``, ``unit``, and as text ``text`` (the
        mean), ``precision`` ("exact", "± x" or empty) and ``interval`` (the
        range).
    """
    scenario = result.base.scenario if isinstance(result, Comparison) else result.scenario
    lang = L.resolve(lang, scenario)
    reps = result.base.replications if isinstance(result, Comparison) else result.replications
    engine = result.base.engine if isinstance(result, Comparison) else result.engine
    y0, y1 = int(result.years[0]), int(result.years[-1])
    s = result.summary.set_index("metric")
    rows: list[tuple[str, str, str]]
    if isinstance(result, Comparison):
        rows = list(_COMPARISON_ROWS)
        if has_capacity(result):
            rows[3:3] = _CAPACITY_ROWS
    else:
        rows = [
            ("placed_at_end", "kf_placed_end", "children"),
            ("placement_entries", "kf_entries", "children"),
            ("total_cost_discounted", "kf_total_cost", "money"),
        ]
        if has_capacity(result):
            rows += [
                ("waiting_years", "kf_waiting", "child_years1"),
                ("overflows", "kf_overflows", "children1"),
            ]

    def estimate(r) -> tuple[float, float, float, float, float, float]:
        """mean, its standard error and Monte Carlo interval, and the range of outcomes."""
        rng = (r["p5"], r["p95"]) if reps > 1 else (np.nan, np.nan)  # expected values have none
        return (r["mean"], r["mc_se"], r["mc_low"], r["mc_high"], *rng)

    out = []
    groups: dict[str, str] = {}  # budget (default), projection, payers, psa: shown apart
    for metric, label, kind in rows:
        r = s.loc[metric]
        if metric == "payback_year" and reps == 1:
            label = "kf_payback_one"
        text = t(label, lang, year=y1, y0=y0, y1=y1)
        if kind == "money" and isinstance(result, Comparison) and has_payers(result):
            text += f" ({t('persp_' + result.perspective, lang)})"  # whose money, when it matters
        out.append((metric, text, *estimate(r), kind))
    if isinstance(result, Comparison) and result.has_adult:
        for metric, label in (
            ("adult_consequences_avoided_pv", "kf_adult"),
            ("npv_with_adult_consequences", "kf_npv_adult"),
        ):
            text = t(label, lang)
            if has_payers(result, adult=True) or has_payers(result):
                text += f" ({t('persp_' + result.perspective, lang)})"
            out.append((metric, text, *estimate(s.loc[metric]), "money"))
            groups[metric] = "projection"
        for key, outcome in result.adult_outcomes.items():
            metric = f"adult_{key}_change"
            name = outcome.name_da if lang == "da" else outcome.name_en
            out.append((metric, t("kf_adult_outcome", lang, name=name), *estimate(s.loc[metric]), "persons"))
            groups[metric] = "projection"
    if isinstance(result, Comparison) and has_payers(result):
        for payer in PERSPECTIVES:
            metric = f"npv_{payer}"
            out.append((metric, t(f"kf_npv_{payer}", lang), *estimate(s.loc[metric]), "money"))
            groups[metric] = "payers"
    if psa is not None:
        p = psa.summary.set_index("metric")
        for metric, label, kind in (
            ("placement_entries_avoided", "kf_avoided_psa", "children"),
            ("npv", "kf_npv_psa", "money"),
        ):
            text = t(label, lang)
            if kind == "money" and isinstance(result, Comparison) and has_payers(result):
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
            groups[f"psa_{metric}"] = "psa"
        out.append(
            (
                "probability_npv_positive",
                t("kf_p_npv", lang),
                p.loc["probability_npv_positive", "mean"],
                np.nan,
                np.nan,
                np.nan,
                np.nan,
                np.nan,
                "share",
            )
        )
    df = pd.DataFrame(
        out, columns=["metric", "label", "centre", "mc_se", "mc_low", "mc_high", "p5", "p95", "kind"]
    )
    groups["probability_npv_positive"] = "psa"
    df["group"] = [groups.get(m, "budget") for m in df["metric"]]
    df["unit"] = [_unit(k, scenario, lang) for k in df["kind"]]
    fmt = lambda v, k: format_value(v, k, lang, scenario.currency, y1)  # noqa: E731
    df["text"] = [fmt(v, k) for v, k in zip(df["centre"], df["kind"])]
    df["precision"] = [
        _precision_text(se, hi - c if np.isfinite(hi) else np.nan, k, engine, lang, scenario.currency)
        for se, c, hi, k in zip(df["mc_se"], df["centre"], df["mc_high"], df["kind"])
    ]
    df["interval"] = [
        "" if (np.isnan(lo) and np.isnan(hi)) or lo == hi else f"{fmt(lo, k)} – {fmt(hi, k)}"
        for lo, hi, k in zip(df["p5"], df["p95"], df["kind"])
    ]
    return df


def _precision_text(se: float, half: float, kind: str, engine: str, lang: Lang, currency: str) -> str:
    """The mean's precision in words: "exact", "± x" (95 % half-width), or nothing to say."""
    if engine == "expected" or kind in ("year", "share") or np.isnan(se):
        return ""
    if se == 0.0:
        return t("exact", lang)
    return "± " + format_value(half, kind, lang, currency)


def _flatten(data: Any, prefix: str = "", source: str = "") -> list[tuple[str, Any, str]]:
    """(dotted key, value, nearest source) for every number and word in a scenario dict."""
    if isinstance(data, dict) and "dist" not in data:
        here = data.get("source", source) if isinstance(data.get("source"), str) else source
        out = []
        for k, v in data.items():
            if k == "source":
                continue
            out += _flatten(v, f"{prefix}.{k}" if prefix else k, here)
        return out
    if isinstance(data, dict):  # a distribution: one line, as written
        args = ", ".join(f"{k}={v}" for k, v in data.items() if k != "dist")
        return [(prefix, f"{data['dist']}({args})", source)]
    if isinstance(data, list | tuple):
        if all(not isinstance(v, dict | list) for v in data):
            return [(prefix, ", ".join(str(v) for v in data), source)]
        out = []
        for i, v in enumerate(data):
            out += _flatten(v, f"{prefix}[{i}]", source)
        return out
    return [(prefix, data, source)]


def assumptions(
    base, strategy=None, notes: dict[str, dict[str, str]] | None = None, lang: str = "en"
) -> pd.DataFrame:
    """Every resolved input with what it is and where it comes from.

    Parameters
    ----------
    base, strategy : Scenario
    notes : dict, optional
        Per role (``"baseline"``, ``"strategy"``), the comment beside each
        key in the scenario files (:func:`sim.scenario.scenario_notes`, kept
        in the manifest).
    lang : {"da", "en"}

    Returns
    -------
    pandas.DataFrame
        ``key``, ``description``, ``baseline``, ``strategy`` (only with a
        strategy), ``source`` and ``differs``. The source is the comment
        written beside the number (or beside the table holding it); without
        one, the ``source`` given for its table, marked as such.
    """
    notes = notes or {}
    rows: dict[str, dict[str, Any]] = {}
    for role, scenario in (("baseline", base), ("strategy", strategy)):
        if scenario is None:
            continue
        own = notes.get(role, {})
        for key, value, source in _flatten(scenario.to_dict()):
            row = rows.setdefault(
                key, {"key": key, "baseline": None, "strategy": None, "note": "", "table": ""}
            )
            row[role] = value
            note = _nearest(own, key)
            if note and (role == "baseline" or not row["note"] or row["baseline"] != value):
                row["note"] = note
            row["table"] = row["table"] or source
    whole = " (kilde for hele tabellen)" if lang == "da" else " (source given for the whole table)"
    data = []
    for row in rows.values():
        source = row["note"] or (row["table"] + whole if row["table"] else "")
        data.append(
            {
                "key": row["key"],
                "description": L.describe(base, row["key"], lang),  # type: ignore[arg-type]
                "baseline": row["baseline"],
                "strategy": row["strategy"],
                "source": source,
            }
        )
    df = pd.DataFrame(data, columns=["key", "description", "baseline", "strategy", "source"])
    if strategy is None:
        df = df.drop(columns="strategy")
        df["differs"] = False
    else:
        df["differs"] = [
            json.dumps(a, default=str) != json.dumps(b, default=str)
            for a, b in zip(df["baseline"], df["strategy"])
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


_ENV = Environment(loader=PackageLoader("sim", "templates"), autoescape=select_autoescape(["html"]))


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
            answer.append({"label": r["label"], "text": r["text"], "interval": r["interval"]})
        if psa is not None:
            r = kf.loc["probability_npv_positive"]
            answer.append({"label": r["label"], "text": r["text"], "interval": ""})
        else:
            answer.append({"label": t("kf_p_npv", lang), "text": None, "interval": ""})
    charts = [
        {"stem": stem, "src": _png(data), "alt": stem.replace("_", " ")}
        for stem, data in (pngs or {}).items()
    ]
    notes = {role: v.get("notes", {}) for role, v in meta.get("scenarios", {}).items()}
    notes.setdefault("baseline", notes.get("scenario", {}))
    table = assumptions(base, strategy, notes, lang)
    # What the strategy changes, without the defaults an added table brings along (zeros, empty lists).
    if cmp:
        unset = table["baseline"].isna() & table["strategy"].map(lambda v: v in (None, "", 0, 0.0, False))
        names = ["name", "title", "description", "intervention.name"]
        changes = table[table["differs"] & ~unset & ~table["key"].isin(names)]
    else:
        changes = table.iloc[:0]
    years = result.years
    tornado_rows = []
    if tornado is not None:
        money = tornado.outcome in ("npv", "investment_pv", "gross_savings_pv")
        out = (lambda v: L.money(v, lang, base.currency)) if money else (lambda v: L.number(v, lang, 2))
        for r in tornado.table.itertuples():
            tornado_rows.append(
                {
                    "name": L.describe(base, r.parameter, lang),
                    "key": r.parameter,
                    "low": _significant(r.low, lang),
                    "high": _significant(r.high, lang),
                    "outcome_low": out(r.outcome_low),
                    "outcome_high": out(r.outcome_high),
                }
            )
    sensitivity_rows = []
    if sensitivity is not None:
        for r in sensitivity.table.to_dict("records"):
            cells = {k: (L.number(v, lang, 3) if isinstance(v, float) else v) for k, v in r.items()}
            cells["parameter"] = L.describe(base, r["parameter"], lang)
            sensitivity_rows.append(cells)
    template = _ENV.get_template("report.html")
    return template.render(
        lang=lang,
        t=lambda key, **kw: t(key, lang, **kw),
        col=lambda name: L.column(name, lang, base),
        cmp=cmp,
        base=base,
        strategy=strategy,
        title=(strategy.title or strategy.name) if cmp else (base.title or base.name),
        subtitle=(base.title or base.name) if cmp else "",
        y0=int(years[0]),
        y1=int(years[-1]),
        reps=reps,
        engine=L.engine_name(meta.get("engine", ""), lang),
        answer=answer,
        key_figures=kf.to_dict("records"),
        money_note=L.money_note(base, lang),
        charts=charts,
        psa=psa,
        psa_draws=L.number(psa.draws, lang) if psa is not None else "",
        tornado=tornado,
        tornado_rows=tornado_rows,
        sensitivity=sensitivity,
        sensitivity_rows=sensitivity_rows,
        psa_engine=L.engine_name(psa.engine, lang) if psa is not None else "",
        headline_engine=L.engine_name(meta.get("engine", ""), lang),
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
                ),
                "source": base.steps[s].source,
            }
            for s in base.step_ids
        ],
        discounting=L.discounting(base, lang),
        fmt_value=lambda v: v if isinstance(v, str) else ("" if v is None else _plain(v, lang)),
    )


def _significant(v: float, lang: Lang, digits: int = 4) -> str:
    """A value with about four significant digits: 924780.69556 as "924.800" (da)."""
    if v == 0 or not np.isfinite(v):
        return L.decimal(v, lang) if np.isfinite(v) else "–"
    decimals = max(0, digits - 1 - int(np.floor(np.log10(abs(v)))))
    return L.decimal(round(float(v), decimals), lang)


def _plain(v: Any, lang: Lang) -> str:
    """An input value as written, in ``lang``'s number format (years without separators)."""
    if isinstance(v, bool):
        return ("ja" if v else "nej") if lang == "da" else ("yes" if v else "no")
    if isinstance(v, int) and 1800 <= v <= 2200:  # a year: no thousands separator
        return str(v)
    if isinstance(v, int | float):
        return L.decimal(v, lang)
    return str(v)
