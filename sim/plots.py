"""Charts: each a function taking results and returning a matplotlib Figure.

Charts never run a simulation. They use :class:`matplotlib.figure.Figure`
directly (no pyplot state, no backend chosen at import), so they work in
scripts, tests and notebooks alike. One visual identity: a fixed colour per
step, light for the least intrusive and dark for the most (cividis: readable
for colour-blind readers and in greyscale print), placements hatched, titles
that state the finding, and the price year and discount rate on every money
chart.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.economics import discounting_label
from sim.experiment import Comparison, Result
from sim.uncertainty import PSAResult, Tornado

INTERVAL_LABEL = "90 % interval over replications"


def step_colours(n: int) -> list[tuple[float, float, float, float]]:
    """A fixed colour per step, from light (step 1) to dark (last step)."""
    cmap = colormaps["cividis"]
    return [cmap(v) for v in np.linspace(0.95, 0.05, n)]


def _thousands(x: float, _pos: int | None = None) -> str:
    return f"{x:,.0f}"


def _counts(_ax) -> FuncFormatter:
    """Counts as they are: "5", "2.5" (means over replications need not be whole)."""
    return FuncFormatter(lambda x, _pos: f"{x:,.1f}".rstrip("0").rstrip("."))


def _money(x: float, _pos: int | None = None) -> str:
    if abs(x) >= 1e9:
        return f"{x / 1e9:,.1f} bn"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.0f} m"
    return f"{x:,.0f}"


def money_note(result: Result) -> str:
    """Footnote for money figures: currency, price year, discounting."""
    return money_note_of(result.scenario)


def _footnote(fig: Figure, text: str) -> None:
    # Constrained layout ignores free text: keep a strip at the bottom for it.
    strip = min(0.25, 0.35 / fig.get_figheight())  # about a third of an inch, whatever the height
    fig.get_layout_engine().set(rect=(0, strip, 1, 1 - strip))
    fig.text(0.01, 0.01, text, fontsize=7.5, color="0.3", ha="left", va="bottom", wrap=True)


def _year_axis(ax, years: np.ndarray, max_ticks: int = 11) -> None:
    """Year ticks that always include the last year (the one titles speak of)."""
    first, last = int(years[0]), int(years[-1])
    step = max(1, int(np.ceil((last - first) / (max_ticks - 1))))
    ax.set_xticks(np.arange(last, first - 1, -step)[::-1])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:.0f}"))


def _strategy_start(ax, cmp: Comparison) -> None:
    """A dotted line where the strategy starts."""
    iv = cmp.strategy.scenario.intervention
    if iv is not None and cmp.years[0] < iv.start_year <= cmp.years[-1]:
        ax.axvline(iv.start_year - 0.5, color="0.5", ls=":", lw=1)
        # Vertical, at mid-height: clear of legends (top) and of J-curves and bars (bottom).
        ax.text(
            iv.start_year - 0.5,
            0.5,
            f"strategy starts {iv.start_year} ",
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="right",
            va="center",
            fontsize=8,
            color="0.35",
        )


def _yearly_figure(cmp: Comparison) -> tuple[Figure, object, object, np.ndarray]:
    """A one-panel figure for a comparison's yearly table."""
    fig = Figure(figsize=(8, 5), layout="constrained")
    y = cmp.yearly
    return fig, fig.subplots(), y, y["year"].to_numpy()


def _yearly_axes(ax, ylabel: str, formatter, cmp: Comparison) -> None:
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Year")
    _year_axis(ax, cmp.years)
    _strategy_start(ax, cmp)
    ax.yaxis.set_major_formatter(FuncFormatter(formatter))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")


def _stack(ax, result: Result, colours, title: str) -> None:
    st = result.staircase
    stock = result.measures["stock_end"].mean(axis=0)  # [year, step]
    years = result.years
    labels = [result.scenario.steps[s].name_en for s in st.step_ids]
    polys = ax.stackplot(years, stock.T, labels=labels, colors=colours, edgecolor="white", linewidth=0.4)
    for poly, placed in zip(polys, st.placement):
        if placed:
            poly.set_hatch("///")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(years[0], years[-1])
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlabel("Year (children on each step at 31 December)")
    ax.grid(axis="y", alpha=0.3)
    _year_axis(ax, years, max_ticks=6)


def staircase(result: Result | Comparison) -> Figure:
    """Children on each step at year end; baseline beside strategy for a comparison."""
    arms = [result.base, result.strategy] if isinstance(result, Comparison) else [result]
    colours = step_colours(arms[0].staircase.n_steps)
    fig = Figure(figsize=(11 if len(arms) == 2 else 7.5, 5.2), layout="constrained")
    axes = fig.subplots(1, len(arms), sharey=True, squeeze=False)[0]
    for ax, arm in zip(axes, arms):
        _stack(ax, arm, colours, arm.scenario.title or arm.scenario.name)
    axes[0].set_ylabel("Children")
    placed = [(a.measures["stock_end"].mean(0) * a.staircase.placement).sum(1) for a in arms]
    y0, y1 = arms[0].years[0], arms[0].years[-1]
    if len(arms) == 2:
        title = (
            f"Placed children at end of {y1}: {placed[1][-1]:,.0f} with the strategy, "
            f"{placed[0][-1]:,.0f} without"
        )
    else:
        title = f"Placed children: {placed[0][0]:,.0f} at end of {y0}, {placed[0][-1]:,.0f} at end of {y1}"
    fig.suptitle(title, fontsize=12, fontweight="bold")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles[::-1],
        labels[::-1],
        loc="outside right center",
        fontsize=8,
        title="Step (hatched: placement)",
        title_fontsize=8,
    )
    _footnote(fig, f"Mean of {arms[0].replications} replication(s), engine: {arms[0].engine}.")
    return fig


def placements_avoided(cmp: Comparison) -> Figure:
    """Placement entries avoided per year, with the 90 % interval."""
    fig, ax, y, years = _yearly_figure(cmp)
    mean = y["placement_entries_avoided"].to_numpy()
    err = np.vstack([mean - y["placement_entries_avoided_p5"], y["placement_entries_avoided_p95"] - mean])
    colour = step_colours(6)[4]
    ax.bar(years, mean, color=colour, label="New placements avoided in the year")
    if cmp.base.replications > 1:
        ax.errorbar(
            years,
            mean,
            yerr=np.abs(err),
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
            capsize=2,
            label=INTERVAL_LABEL,
        )
    ax.plot(
        years,
        y["placed_at_year_end_avoided"],
        color="black",
        marker="o",
        markersize=3,
        lw=1.2,
        label="Fewer children placed at 31 December",
    )
    ax.axhline(0, color="0.3", lw=0.8)
    _yearly_axes(ax, "Children", _thousands, cmp)
    s = cmp.summary.set_index("metric")
    tot = s.loc["placement_entries_avoided"]
    interval = "" if cmp.base.replications == 1 else f" (90 %: {tot.p5:,.0f} to {tot.p95:,.0f})"
    fig.suptitle(
        f"{tot['mean']:,.0f} new placements avoided {years[0]}-{years[-1]}{interval}",
        fontsize=12,
        fontweight="bold",
    )
    _footnote(
        fig,
        f"Counted over {years[0]}-{years[-1]}: a placement only delayed within these years is not "
        f"counted as avoided; one delayed beyond {years[-1]} is. The line shows the lasting effect.",
    )
    return fig


def payback(cmp: Comparison) -> Figure:
    """Cumulative discounted net savings ("J-curve") with the payback year marked."""
    fig, ax, y, years = _yearly_figure(cmp)
    mean = y["cum_net_savings_discounted"].to_numpy()
    colour = step_colours(6)[5]
    if cmp.base.replications > 1:
        ax.fill_between(
            years,
            y["cum_net_savings_discounted_p5"],
            y["cum_net_savings_discounted_p95"],
            color=colour,
            alpha=0.25,
            lw=0,
            label=INTERVAL_LABEL,
        )
    ax.plot(years, mean, color=colour, lw=2, marker="o", markersize=3, label="Cumulative net savings (mean)")
    ax.axhline(0, color="0.2", lw=0.9)
    s = cmp.summary.set_index("metric")
    pay = s.loc["payback_year"]
    share = s.loc["share_paying_back", "mean"]
    npv = s.loc["npv"]
    if np.isnan(pay["median"]):
        title = f"No payback within the horizon (by {years[-1]})"
        if cmp.base.replications > 1 and share > 0:
            title += f"\nin most replications ({share:.0%} of them pay back)"
        ax.text(
            0.98,
            0.05,
            "no payback within horizon",
            transform=ax.transAxes,
            ha="right",
            fontsize=9,
            color="0.2",
        )
    else:
        year = int(pay["median"])
        ax.axvline(year, color="black", ls="--", lw=1)
        ax.annotate(
            f"payback {year}",
            xy=(year, 0),
            xycoords="data",
            xytext=(5, -14),
            textcoords="offset points",
            fontsize=9,
        )
        currency = cmp.base.scenario.currency
        title = f"Pays back in {year}; net present value {currency} {_money(npv['mean'])} by {years[-1]}"

        if cmp.base.replications > 1:
            title += f"\n({share:.0%} of replications pay back within the horizon)"
    _yearly_axes(ax, f"{cmp.base.scenario.currency} (discounted)", _money, cmp)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    _footnote(fig, "Savings in placements and other steps less the programme's cost. " + money_note(cmp.base))
    return fig


def _arms(result: Result | Comparison) -> list[tuple[str, Result]]:
    if isinstance(result, Comparison):
        return [("without the strategy", result.base), ("with the strategy", result.strategy)]
    return [("", result)]


def has_capacity(result: Result | Comparison) -> bool:
    """Whether any step of any arm has a capacity limit."""
    return any(arm.staircase.capped.any() for _, arm in _arms(result))


def _capacity_figure(
    result: Result | Comparison, panels: list[tuple[str, object]], formatter, title, ylim_top=None
) -> Figure:
    """Lines per step with places, one panel per measure; solid without, dashed with the strategy."""
    arms = _arms(result)
    first = arms[0][1]
    capped = np.flatnonzero(np.any([a.staircase.capped for _, a in arms], axis=0))
    colours = step_colours(first.staircase.n_steps)
    fig = Figure(figsize=(8 if len(panels) == 1 else 11, 5), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    years = first.years
    for ax, (ylabel, measure) in zip(axes, panels):
        for style, (label, arm) in zip(("-", "--"), arms):
            values = measure(arm)  # [year, step]
            for j in capped:
                name = arm.scenario.steps[arm.staircase.step_ids[j]].name_en
                ax.plot(
                    years,
                    values[:, j],
                    ls=style,
                    marker="o",
                    markersize=3,
                    color=colours[j],
                    label=f"{name} {label}".strip(),
                )
        ax.set_ylabel(ylabel)
        ax.set_xlabel("Year")
        _year_axis(ax, years, max_ticks=11 if len(panels) == 1 else 6)
        ax.set_ylim(bottom=0, top=ylim_top(ax) if ylim_top else None)
        ax.yaxis.set_major_formatter(formatter(ax))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(title(arms, capped), fontsize=12, fontweight="bold")
    _footnote(
        fig, f"Mean of {first.replications} replication(s). Only steps with a limited number of places."
    )
    return fig


def waiting_list(result: Result | Comparison) -> Figure:
    """Children waiting for a full step at 31 December, and children it sent on."""

    def title(arms, capped):
        last = [a.measures["waiting_end"].mean(0)[-1, capped].sum() for _, a in arms]
        year = arms[0][1].years[-1]
        if len(last) == 2:
            return f"Waiting for a place at end of {year}: {last[1]:,.1f} with the strategy, {last[0]:,.1f} without"
        return f"{last[0]:,.1f} children waiting for a place at end of {year}"

    panels = [("Children waiting at 31 December", lambda a: a.measures["waiting_end"].mean(0))]
    if any((arm.staircase.overflow_to >= 0).any() for _, arm in _arms(result)):
        panels.append(
            ("Children sent on to another step in the year", lambda a: a.measures["overflows"].mean(0))
        )
    return _capacity_figure(result, panels, _counts, title)


def utilisation(result: Result | Comparison) -> Figure:
    """Share of places in use over each year, per step with places."""

    def used(arm: Result) -> np.ndarray:
        return 100 * arm.measures["child_years"].mean(0) / arm.staircase.capacity

    def title(arms, capped):
        u = [used(a)[-1, capped].max() for _, a in arms]
        return f"Places in use in {arms[0][1].years[-1]}: up to {max(u):.0f} %"

    def top(ax) -> float:
        # Room above 100 %: a stock larger than the places shows as over 100 %.
        return max(105.0, ax.get_ylim()[1] * 1.05)

    percent = lambda ax: FuncFormatter(lambda x, _p: f"{x:.0f} %")  # noqa: E731
    return _capacity_figure(result, [("Places in use over the year (%)", used)], percent, title, top)


def breakeven(psa: PSAResult) -> Figure:
    """Probability that the strategy has paid back (cumulative NPV > 0), by year."""
    b = psa.breakeven
    years = b["year"].to_numpy()
    p = 100 * b["probability_break_even"].to_numpy()
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    ax.plot(years, p, color=step_colours(6)[5], lw=2, marker="o", markersize=3)
    ax.axhline(50, color="0.6", ls=":", lw=1)
    ax.set_ylim(0, 100)
    ax.set_ylabel("Probability of having paid back (%)")
    ax.set_xlabel("Year")
    _year_axis(ax, years)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:.0f} %"))
    ax.grid(axis="y", alpha=0.3)
    over = np.flatnonzero(p >= 50)
    first = (
        f"more likely than not from {years[over[0]]}" if len(over) else "less likely than not in every year"
    )
    fig.suptitle(
        f"Paid back by {years[-1]} in {p[-1]:.0f} % of {psa.draws:,} draws; {first}",
        fontsize=12,
        fontweight="bold",
    )
    _footnote(
        fig,
        "Probabilistic sensitivity analysis: all uncertain numbers drawn together. "
        + money_note_of(psa.base),
    )
    return fig


def npv_distribution(psa: PSAResult) -> Figure:
    """Histogram of the net present value over draws."""
    npv = psa.arrays["total_npv"]
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    ax.hist(npv, bins=min(50, max(10, psa.draws // 20)), color=step_colours(6)[4], edgecolor="white")
    ax.axvline(0, color="black", lw=1)
    ax.set_xlabel(f"Net present value ({psa.base.currency})")
    ax.set_ylabel("Draws")
    ax.xaxis.set_major_formatter(FuncFormatter(_money))
    ax.grid(axis="y", alpha=0.3)
    lo, hi = np.percentile(npv, [5, 95])
    fig.suptitle(
        f"NPV {psa.base.currency} {_money(float(np.mean(npv)))} on average (90 %: {_money(lo)} to {_money(hi)}); "
        f"positive in {np.mean(npv > 0):.0%} of draws",
        fontsize=12,
        fontweight="bold",
    )
    _footnote(fig, money_note_of(psa.base))
    return fig


def money_note_of(scenario) -> str:
    """:func:`money_note` for a scenario rather than a result."""
    s = scenario
    return (
        f"{s.currency}, {s.price_year} prices; discounted to {s.start_year} at a real rate of "
        f"{discounting_label(s)} ({s.discounting.source})."
    )


def tornado(result: Tornado) -> Figure:
    """One-way sensitivity: the outcome with each uncertain number at its 5th and 95th percentile."""
    t = result.table.iloc[::-1]  # widest bar on top
    fig = Figure(figsize=(9, 1.2 + 0.45 * max(len(t), 1)), layout="constrained")
    ax = fig.subplots()
    money = result.outcome in ("npv", "investment_pv", "gross_savings_pv")
    fmt = _money if money else _thousands
    y = np.arange(len(t))
    c = result.central
    lows = t["outcome_low"].to_numpy() - c
    highs = t["outcome_high"].to_numpy() - c
    colours = step_colours(6)
    ax.barh(y, lows, left=c, color=colours[1], edgecolor="0.3", label="number at its 5th percentile")
    ax.barh(y, highs, left=c, color=colours[4], edgecolor="0.3", label="number at its 95th percentile")
    ax.axvline(c, color="black", lw=1)
    ax.set_yticks(y, t["parameter"])
    ax.xaxis.set_major_formatter(FuncFormatter(fmt))
    label = {"npv": "NPV", "roi": "ROI"}.get(result.outcome, result.outcome.replace("_", " "))
    ax.set_xlabel(f"{label} ({result.base.currency}, discounted)" if money else label)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    top = t["parameter"].iloc[-1] if len(t) else "no uncertain number"
    fig.suptitle(f"{label[0].upper() + label[1:]} depends most on {top}", fontsize=12, fontweight="bold")
    _footnote(fig, "All other numbers at their means. " + (money_note_of(result.base) if money else ""))
    return fig
