"""Charts: each a function taking results and returning a matplotlib Figure.

Charts never run a simulation. They use :class:`matplotlib.figure.Figure`
directly (no pyplot state, no backend chosen at import), so they work in
scripts, tests and worker processes alike; in a notebook, run
``%matplotlib inline`` once and a returned figure shows as a picture (without
it Jupyter prints only its text form). One visual identity: a fixed colour per
step, light for the least intrusive and dark for the most (cividis: readable
for colour-blind readers and in greyscale print), placements hatched, titles
that state the finding, and the price year and discount rate on every money
chart. Matplotlib is imported when a chart is drawn, not with this module.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.uncertainty import PSAResult, Tornado
from sim.errors import OptionError
from sim.outputs import language as L
from sim.outputs.language import Lang, t
from sim.run.experiment import Comparison, Result, centred

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

INTERVAL_LABEL = L.TEXT["interval_reps"][0]
"""The legend entry of a 90 % interval over replications (English)."""


def step_colours(n: int) -> list[tuple[float, float, float, float]]:
    """A fixed colour per step, from light (step 1) to dark (last step)."""
    from matplotlib import colormaps

    cmap = colormaps["cividis"]
    return [cmap(v) for v in np.linspace(0.95, 0.05, n)]


def _scenario_of(result) -> object:
    if isinstance(result, Comparison):
        return result.base.scenario
    if isinstance(result, Result) or hasattr(result, "scenario"):  # a run, a calibration
        return result.scenario
    return result.base  # PSAResult, Tornado, Sensitivity


def _lang(result, lang: str | None) -> Lang:
    return L.resolve(lang, _scenario_of(result))


def _counts(lang: Lang) -> FuncFormatter:
    """Counts as they are: "5", "2.5" (means over replications need not be whole)."""
    from matplotlib.ticker import FuncFormatter

    def fmt(x: float, _pos: int | None = None) -> str:
        whole = abs(x - round(x)) < 1e-9
        return L.number(x, lang, 0 if whole else 1)

    return FuncFormatter(fmt)


def _money_axis(ax, values: np.ndarray, currency: str, lang: Lang, axis: str = "y") -> str:
    """Ticks in millions or billions; returns the unit for the axis label."""
    from matplotlib.ticker import FuncFormatter

    top = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    scale = "bn" if top >= 2e9 else "m" if top >= 1e6 else "units"
    div = {"units": 1.0, "m": 1e6, "bn": 1e9}[scale]

    def fmt(x: float, _pos: int | None = None) -> str:
        v = x / div
        return L.number(v, lang, 0 if abs(v) >= 10 or abs(v - round(v)) < 1e-9 else 1)

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))
    return L.money_unit(currency, lang, scale)


def _expect(result: Any, kinds: Any, chart: str, words: str) -> None:
    """Refuse a result a chart is not drawn from, in one line (not a KeyError from inside it)."""
    if not isinstance(result, kinds):
        raise OptionError(f"sim.plots.{chart} draws {words}, not {L.a_or_an(type(result).__name__)}")


def money_note(result: Result | Comparison, lang: str | None = None) -> str:
    """Footnote for money figures: currency, price year, discounting."""
    return money_note_of(_scenario_of(result), lang)


def money_note_of(scenario, lang: str | None = None) -> str:
    """:func:`money_note` for a scenario rather than a result."""
    return L.money_note(scenario, L.resolve(lang, scenario))


def _footnote(fig: Figure, text: str) -> None:
    # Constrained layout ignores free text: keep a strip at the bottom for it.
    strip = min(0.25, 0.35 / fig.get_figheight())  # about a third of an inch, whatever the height
    fig.get_layout_engine().set(rect=(0, strip, 1, 1 - strip))
    fig.text(0.01, 0.01, text, fontsize=7.5, color="0.3", ha="left", va="bottom", wrap=True)


def _title(fig: Figure, title: str, fontsize: float = 12) -> None:
    """The figure's title, on two or more lines where one would run off the figure.

    Measured, not guessed from its length: bold digits are wider than letters,
    and an English title of 84 characters lost its first digit at both edges.
    It breaks at the finding's colon or its bracket first, where a reader
    pauses anyway, and only then wherever the words allow.
    """
    text = fig.suptitle(title, fontsize=fontsize, fontweight="bold")
    room = 0.96 * fig.bbox.width
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    # A bare Figure's canvas cannot measure text; Agg's can (and still saves SVG or PDF).
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()

    def fits(candidate: str) -> bool:
        text.set_text(candidate)
        return text.get_window_extent(renderer).width <= room

    if fits(title):
        return
    lines = title.split("\n")  # a title may come in two lines already, the first too long
    i = max(range(len(lines)), key=lambda k: len(lines[k]))
    breaks = [lines[i].replace(sep, new, 1) for sep, new in ((": ", ":\n"), (" (", "\n("), (" – ", " –\n"))]
    for line in sorted({b for b in breaks if b != lines[i]}, key=lambda b: max(map(len, b.split("\n")))):
        if fits("\n".join([*lines[:i], line, *lines[i + 1 :]])):  # the most even natural break that fits
            return
    width = len(lines[i])
    while width > 20:
        width -= 4
        if fits("\n".join(textwrap.fill(line, width, break_long_words=False) for line in lines)):
            return


def _year_axis(ax, years: np.ndarray, max_ticks: int = 11) -> None:
    """Year ticks that always include the last year (the one titles speak of)."""
    from matplotlib.ticker import FuncFormatter

    first, last = int(years[0]), int(years[-1])
    step = max(1, int(np.ceil((last - first) / (max_ticks - 1))))
    ax.set_xticks(np.arange(last, first - 1, -step)[::-1])
    # Years never take a thousands separator ("2.024" is no year).
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:.0f}"))


def _strategy_start(ax, cmp: Comparison, lang: Lang) -> None:
    """A dotted line where the strategy starts."""
    iv = cmp.strategy.scenario.intervention
    if iv is not None and cmp.years[0] < iv.start_year <= cmp.years[-1]:
        ax.axvline(iv.start_year - 0.5, color="0.5", ls=":", lw=1)
        # Vertical, at mid-height: clear of legends (top) and of J-curves and bars (bottom).
        ax.text(
            iv.start_year - 0.5,
            0.5,
            t("strategy_starts", lang, year=iv.start_year) + " ",
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="right",
            va="center",
            fontsize=8,
            color="0.35",
            # Readable where a line or bar passes behind it (a first year's bar can reach it).
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
        )


def _yearly_figure(cmp: Comparison) -> tuple[Figure, object, object, np.ndarray]:
    """A one-panel figure for a comparison's yearly table."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5), layout="constrained")
    y = cmp.yearly
    return fig, fig.subplots(), y, y["year"].to_numpy()


def _yearly_axes(ax, ylabel: str, cmp: Comparison, lang: Lang) -> None:
    ax.set_ylabel(ylabel)
    ax.set_xlabel(t("year", lang))
    _year_axis(ax, cmp.years)
    _strategy_start(ax, cmp, lang)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")


def _stack(ax, result: Result, colours, title: str, lang: Lang) -> None:
    st = result.staircase
    stock = result.mean_measures["stock_end"]  # [year, step]
    years = result.years
    labels = [L.step_name(result.scenario, s, lang) for s in st.step_ids]
    polys = ax.stackplot(years, stock.T, labels=labels, colors=colours, edgecolor="white", linewidth=0.4)
    for poly, placed in zip(polys, st.placement):
        if placed:
            poly.set_hatch("///")
    # Wrapped by the caller: two long scenario titles side by side would run into each other.
    ax.set_title(title, fontsize=10)
    ax.set_xlim(years[0], years[-1])
    ax.yaxis.set_major_formatter(_counts(lang))
    ax.set_xlabel(t("year_stock", lang))
    ax.grid(axis="y", alpha=0.3)
    _year_axis(ax, years, max_ticks=6)


def _mean_note(result: Result, lang: Lang) -> str:
    if result.engine == "expected":
        return t("expected_note", lang)
    if result.exact is not None:
        return t("mean_of_exact", lang, n=L.runs(result.replications, lang))
    return t("mean_of", lang, n=L.runs(result.replications, lang), engine=L.engine_name(result.engine, lang))


def _means(result: Result, lang: Lang) -> str:
    """What the means drawn are, in words: exact, or the mean of so many replications."""
    if result.exact is not None:
        return t("means_exact", lang)
    return t("means_reps", lang, n=L.runs(result.replications, lang))


def staircase(result: Result | Comparison, lang: str | None = None) -> Figure:
    """Children on each step at year end; baseline beside strategy for a comparison."""
    _expect(result, Result | Comparison, "staircase", "a Result or a Comparison (sim.simulate, sim.compare)")
    from matplotlib.figure import Figure

    lang = _lang(result, lang)
    arms = list(result.arms.values())
    colours = step_colours(arms[0].staircase.n_steps)
    fig = Figure(
        figsize=(11 if len(arms) == 2 else 7.5, 5.6 if len(arms) == 2 else 5.2), layout="constrained"
    )
    axes = fig.subplots(1, len(arms), sharey=True, squeeze=False)[0]
    placed = [(a.mean_measures["stock_end"] * a.staircase.placement).sum(1) for a in arms]
    total = [a.mean_measures["stock_end"].sum(1) for a in arms]
    y0, y1 = arms[0].years[0], arms[0].years[-1]
    n = lambda x: L.number(x, lang)  # noqa: E731
    for i, (ax, arm) in enumerate(zip(axes, arms)):
        title = textwrap.fill(L.title_of(arm.scenario, lang), 42)
        if len(arms) == 2:
            # What the stack holds at the end, and for the strategy what changed: a taller stack
            # is more children helped on the lower steps, not more children placed.
            if i == 0:
                what = t(
                    "staircase_panel_base", lang, year=y1, total=n(total[0][-1]), placed=n(placed[0][-1])
                )
            else:
                lower = (total[1][-1] - placed[1][-1]) - (total[0][-1] - placed[0][-1])
                what = t(
                    "staircase_panel_plan",
                    lang,
                    year=y1,
                    lower=L.number(lower, lang, signed=True),
                    placed=L.number(placed[1][-1] - placed[0][-1], lang, signed=True),
                )
            title += "\n" + textwrap.fill(what, 56)
        _stack(ax, arm, colours, title, lang)
    axes[0].set_ylabel(t("children", lang))
    if len(arms) == 2:
        title = t("staircase_title_cmp", lang, year=y1, a=n(placed[1][-1]), b=n(placed[0][-1]))
    else:
        title = t("staircase_title_one", lang, a=n(placed[0][0]), y0=y0, b=n(placed[0][-1]), y1=y1)
    _title(fig, title)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles[::-1],
        labels[::-1],
        loc="outside right center",
        fontsize=8,
        title=t("step_legend", lang),
        title_fontsize=8,
    )
    note = _mean_note(arms[0], lang)
    if len(arms) == 2:
        # A stack that grows with the strategy must not read as more children placed.
        lower = (total[1][-1] - placed[1][-1]) - (total[0][-1] - placed[0][-1])
        if round(lower) > 0 and round(placed[1][-1] - placed[0][-1]) <= 0:
            note += " " + t("staircase_note_taller", lang)
        note += " " + t("staircase_note_pointer", lang)
    _footnote(fig, note)
    return fig


def placed_children(cmp: Comparison, lang: str | None = None) -> Figure:
    """Placed children at 31 December with and without the strategy, and the difference.

    The chart a committee reads in ten seconds: two lines (children placed
    without and with the strategy, each with the 90 % range of outcomes over
    replications as a light band when there are several), and below them the
    difference as bars, with the strategy's start marked and a title that
    states the finding.
    """
    _expect(cmp, Comparison, "placed_children", "a Comparison (sim.compare)")
    from matplotlib.figure import Figure

    lang = _lang(cmp, lang)
    years = cmp.years
    several = cmp.base.replications > 1
    fig = Figure(figsize=(8, 6.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2.2, 1])
    colours = {"without": "0.45", "with": step_colours(6)[5]}
    ends = {}
    for key, arm, style in (("without", cmp.base, "--"), ("with", cmp.strategy, "-")):
        placed = (arm.measures["stock_end"] * arm.staircase.placement).sum(-1)  # [replication, year]
        mean = (arm.mean_measures["stock_end"] * arm.staircase.placement).sum(-1)
        if arm.exact is not None:  # the range of outcomes around the exact mean
            placed = centred(placed, mean)
        ends[key] = mean
        if several:
            lo, hi = np.percentile(placed, [5, 95], axis=0)
            top.fill_between(years, lo, hi, color=colours[key], alpha=0.18, lw=0)
        top.plot(years, mean, color=colours[key], lw=2.2, ls=style, label=t(key, lang).capitalize())
    # Each line named at its end: above the higher line, below the lower one.
    higher = "with" if ends["with"][-1] > ends["without"][-1] else "without"
    for key in ("without", "with"):
        up = key == higher
        top.annotate(
            f"{t(key, lang)}: {L.number(ends[key][-1], lang)}",
            xy=(years[-1], ends[key][-1]),
            xytext=(-2, 6 if up else -6),
            textcoords="offset points",
            ha="right",
            va="bottom" if up else "top",
            fontsize=9,
            fontweight="bold",
            color=colours[key],
        )
    top.set_ylim(0, max(float(np.max(ends["with"])), float(np.max(ends["without"]))) * 1.15 or 1.0)
    top.yaxis.set_major_formatter(_counts(lang))
    top.set_ylabel(t("placed_axis", lang))
    top.grid(axis="y", alpha=0.3)
    if several:  # the lines are named at their ends; the legend says what the bands are
        from matplotlib.patches import Patch

        band = Patch(color="0.6", alpha=0.35, lw=0)
        top.legend([band], [t("range_reps", lang)], fontsize=8, loc="lower left")
    _strategy_start(top, cmp, lang)
    y = cmp.yearly
    # The difference the way the finding goes: fewer placed (the usual case), or more.
    sign = 1.0 if ends["without"][-1] - ends["with"][-1] >= 0 else -1.0
    diff = sign * y["placed_at_year_end_avoided"].to_numpy()
    bottom.bar(years, diff, color=colours["with"], width=0.7)
    if several:
        p5, p95 = (y[f"placed_at_year_end_avoided_{q}"].to_numpy() for q in ("p5", "p95"))
        lo, hi = (p5, p95) if sign > 0 else (-p95, -p5)
        err = np.vstack([diff - lo, hi - diff])
        bottom.errorbar(years, diff, yerr=np.abs(err), fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    bottom.axhline(0, color="0.3", lw=0.8)
    bottom.yaxis.set_major_formatter(_counts(lang))
    bottom.set_ylabel(textwrap.fill(t("fewer_axis" if sign > 0 else "more_axis", lang), 22))
    bottom.set_xlabel(t("year", lang))
    bottom.grid(axis="y", alpha=0.3)
    _year_axis(bottom, years)
    iv = cmp.strategy.scenario.intervention
    if iv is not None and years[0] < iv.start_year <= years[-1]:
        bottom.axvline(iv.start_year - 0.5, color="0.5", ls=":", lw=1)
    a, b = ends["with"][-1], ends["without"][-1]
    diff = b - a
    if round(abs(diff)) == 0:
        title = t("placed_title_same", lang, year=years[-1], a=L.number(a, lang))
    else:
        key = "placed_title_fewer" if diff > 0 else "placed_title_more"
        title = t(
            key, lang, n=L.number(abs(diff), lang), year=years[-1], a=L.number(a, lang), b=L.number(b, lang)
        )
    _title(fig, title)
    if cmp.base.engine == "expected":
        note = t("expected_note", lang)
    else:
        note = t("placed_note_reps", lang, means=_means(cmp.base, lang))
    steps = [
        L.step_name(cmp.base.scenario, s, lang)
        for s, p in zip(cmp.base.staircase.step_ids, cmp.base.staircase.placement)
        if p
    ]
    note += " " + t("placed_steps", lang, steps=", ".join(steps))
    whole = lambda x: float(f"{x:.0f}")  # noqa: E731  # as the title shows it
    if round(abs(diff)) != 0 and abs(whole(b) - whole(a)) != whole(abs(diff)):
        # 11,612 - 9,191 is 2,421, and the title says 2,420: a reader checks the sum.
        note += " " + t("rounded_apart", lang)
    _footnote(fig, note)
    return fig


def placements_avoided(cmp: Comparison, lang: str | None = None) -> Figure:
    """Placement entries avoided per year, with the 90 % interval."""
    _expect(cmp, Comparison, "placements_avoided", "a Comparison (sim.compare)")
    lang = _lang(cmp, lang)
    fig, ax, y, years = _yearly_figure(cmp)
    mean = y["placement_entries_avoided"].to_numpy()
    err = np.vstack([mean - y["placement_entries_avoided_p5"], y["placement_entries_avoided_p95"] - mean])
    colour = step_colours(6)[4]
    # "Fewer placed: -16" is a double negative: a label whose values go below zero says what that means.
    more = " " + t("negative_is_more", lang)
    line = y["placed_at_year_end_avoided"].to_numpy()
    bars = t("entries_avoided_bar", lang) + (more if (mean <= -0.5).any() else "")
    ax.bar(years, mean, color=colour, label=bars)
    if cmp.base.replications > 1:
        ax.errorbar(
            years,
            mean,
            yerr=np.abs(err),
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
            capsize=2,
            label=t("interval_reps", lang),
        )
    ax.plot(
        years,
        line,
        color="black",
        marker="o",
        markersize=3,
        lw=1.2,
        label=t("fewer_placed_line", lang) + (more if (line <= -0.5).any() else ""),
    )
    ax.axhline(0, color="0.3", lw=0.8)
    ax.yaxis.set_major_formatter(_counts(lang))
    _yearly_axes(ax, t("placements_and_children", lang), cmp, lang)
    tot = cmp.summary.loc["placement_entries_avoided"]
    interval = (
        ""
        if cmp.base.replications == 1
        else " (" + t("interval_short", lang, lo=L.number(tot.p5, lang), hi=L.number(tot.p95, lang)) + ")"
    )
    title = t("avoided_title", lang, n=L.number(tot["mean"], lang), y0=years[0], y1=years[-1]) + interval
    _title(fig, title)
    _footnote(fig, t("avoided_note", lang, y0=years[0], y1=years[-1]))
    tops = np.fmax(np.maximum(mean, line), mean + np.abs(err[1]) if cmp.base.replications > 1 else mean)
    _room_for_legend(fig, ax, years, tops)
    return fig


def _room_for_legend(fig: Figure, ax, x: np.ndarray, top: np.ndarray) -> None:
    """Raise the y axis's top until the highest point ``top`` at each ``x`` under the legend is clear of it.

    The legend stands in the upper left; a wide interval in an early year (a
    small area's bars) would otherwise end behind it. Measured on the laid-out
    figure, as the legend's height in the axes depends on the title's lines.
    """
    fig.draw_without_rendering()
    box = ax.get_legend().get_window_extent().transformed(ax.transAxes.inverted())  # axes fractions
    left, right = (
        ax.transData.inverted().transform(ax.transAxes.transform((f, 0)))[0] for f in (box.x0, box.x1)
    )
    under = (x >= left - 0.5) & (x <= right + 0.5)  # a bar is a year wide
    if not under.any():
        return
    lo, hi = ax.get_ylim()
    highest = float(np.nanmax(top[under]))
    clear = box.y0 - 0.03  # a little air between the highest point and the legend
    if clear > 0.2 and (highest - lo) / (hi - lo) > clear:
        ax.set_ylim(lo, lo + (highest - lo) / clear)


def payback(cmp: Comparison, lang: str | None = None) -> Figure:
    """Cumulative discounted net savings ("J-curve") with the payback year marked."""
    _expect(cmp, Comparison, "payback", "a Comparison (sim.compare)")
    lang = _lang(cmp, lang)
    fig, ax, y, years = _yearly_figure(cmp)
    mean = y["cum_net_savings_discounted"].to_numpy()
    colour = step_colours(6)[5]
    several = cmp.base.replications > 1
    if several:
        ax.fill_between(
            years,
            y["cum_net_savings_discounted_p5"],
            y["cum_net_savings_discounted_p95"],
            color=colour,
            alpha=0.25,
            lw=0,
            label=t("interval_reps", lang),
        )
    label = t("cum_net_expected" if cmp.base.engine == "expected" else "cum_net", lang)
    ax.plot(years, mean, color=colour, lw=2, marker="o", markersize=3, label=label)
    ax.axhline(0, color="0.2", lw=0.9)
    s = cmp.summary
    pay = s.loc["payback_year"]
    npv = s.loc["npv"]
    currency = cmp.base.scenario.currency
    if np.isnan(pay["mean"]):  # the payback year of the mean cash flow drawn
        # The share of replications paying back is chance in children's paths, not a
        # probability that the strategy pays: that needs a PSA, so it is not quoted.
        from sim.outputs.report import nothing_at_stake, years_in_surplus

        span = years_in_surplus(mean, years)  # ahead for a while, behind again at the end
        title = t("no_lasting_title" if span else "no_payback_title", lang, year=years[-1], span=span)
        no_payback = t("no_lasting_mark" if span else "no_payback_mark", lang)
        if nothing_at_stake(cmp):  # no verdict: this perspective invests and saves nothing
            title, no_payback = t("no_money_title", lang), ""
    else:
        no_payback = ""
        year = int(pay["mean"])
        ax.axvline(year, color="black", ls="--", lw=1)
        ax.annotate(
            t("payback_mark", lang, year=year),
            xy=(year, 0),
            xycoords="data",
            xytext=(5, -14),
            textcoords="offset points",
            fontsize=9,
        )
        title = t("payback_title", lang, year=year, npv=L.money(npv["mean"], lang, currency), y1=years[-1])
    band = y[["cum_net_savings_discounted_p5", "cum_net_savings_discounted_p95"]].to_numpy()
    unit = _money_axis(ax, np.concatenate([mean, band.ravel()]), currency, lang)
    _yearly_axes(ax, t("discounted", lang, currency=unit), cmp, lang)
    if no_payback:  # said in the legend's title, where it hides no part of the curve or its band
        ax.get_legend().set_title(no_payback, prop={"size": 9, "weight": "bold"})
    _title(fig, title)
    _footnote(fig, t("payback_note", lang) + money_note(cmp.base, lang))
    _room_for_legend(fig, ax, years, np.fmax(mean, band[:, 1]) if several else mean)
    return fig


def _bar_label(ax, x: float, end: float, value: float, currency: str, scale: str, lang: Lang) -> None:
    """A waterfall bar's value, outside its end, on two lines ("-289,8" over "mio. kr.").

    Above a bar that rises, below one that falls, a few points clear of it.
    Two short lines are narrower than the gap between bars, so a label never
    reaches a neighbouring bar or its label. A bar too small to show at this
    scale gets no label: "0,0 mio. kr." would say nothing.
    """
    div = {"units": 1.0, "m": 1e6, "bn": 1e9}[scale]
    digits = {"units": 0, "m": 1, "bn": 2}[scale]
    if round(value / div, digits) == 0:
        return
    text = f"{L.number(value / div, lang, digits)}\n{L.money_unit(currency, lang, scale)}"
    up = value >= 0
    ax.annotate(
        text,
        xy=(x, end),
        xytext=(0, 3 if up else -3),
        textcoords="offset points",
        ha="center",
        va="bottom" if up else "top",
        fontsize=7.5,
        linespacing=1.1,
        # Over the zero line or a grid line, the label stays readable.
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85},
    )


def npv_parts(cmp: Comparison, lang: Lang) -> list[tuple[str, float]]:
    """The net present value in parts: the investment (negative), then each step's discounted
    savings (means; they add up to the NPV). The waterfall charts' bars, here and on the what-if page."""
    scenario = cmp.base.scenario
    D = cmp.base.staircase.discount
    invest = float((cmp.mean_arrays["investment"] * D).sum(-1)[0])
    by_step = (cmp.mean_arrays["savings_by_step"] * D[:, None]).sum(1)[0]  # [step]
    return [
        (t("investment", lang), -invest),
        *((L.step_name(scenario, s, lang), float(by_step[j])) for j, s in enumerate(scenario.step_ids)),
    ]


def waterfall(cmp: Comparison, lang: str | None = None) -> Figure:
    """Net present value built up: investment, then the savings on each step.

    Bars float from the running total: the investment goes down from zero,
    each step's discounted savings go up (or down, where the strategy puts
    more children on a step, as early help does), and the last bar is the
    net present value: the means (exact where the analytic engine is); the bars add up exactly.
    Each bar's value stands outside its end (a bar too small to show has
    none); labels never overlap a bar or each other.
    """
    _expect(cmp, Comparison, "waterfall", "a Comparison (sim.compare)")
    from matplotlib.figure import Figure

    lang = _lang(cmp, lang)
    scenario = cmp.base.scenario
    st = cmp.base.staircase
    labels, values = (list(x) for x in zip(*npv_parts(cmp, lang), strict=True))
    invest, savings = -values[0], float(np.sum(values[1:]))
    colours = step_colours(st.n_steps)
    bar_colours = ["0.35", *colours[: st.n_steps]]
    npv = float(np.sum(values))
    starts = np.concatenate([[0.0], np.cumsum(values)[:-1]])
    n_bars = len(values) + 1 + (2 if cmp.has_adult else 0)
    # Wide enough that each bar's slot holds its two-line label and its wrapped name.
    fig = Figure(figsize=(max(9.0, 0.95 * n_bars + 2.0), 5.8), layout="constrained")
    ax = fig.subplots()
    width = 0.6
    x = np.arange(len(values) + 1)
    bars = ax.bar(
        x[:-1], values, bottom=starts, width=width, color=bar_colours, edgecolor="0.2", linewidth=0.6
    )
    for bar, j in zip(bars[1:], range(st.n_steps)):
        if st.placement[j]:
            bar.set_hatch("///")
            if sum(colours[j][:3]) < 1.2:  # a dark bar: light hatching, or greyscale print loses it
                bar.set_edgecolor("0.75")
    ax.bar(x[-1], npv, width=width, color="white", edgecolor="black", linewidth=1.2)
    extra_labels: list[str] = []
    tops = [npv, 0.0]
    ends_of = [(xi, lo + v, v) for xi, (lo, v) in enumerate(zip([*starts, 0.0], [*values, npv]))]
    if cmp.has_adult:
        # The projection beyond the horizon, apart: a dotted bar on top of the NPV, then the total.
        adult = float(cmp.mean_arrays["total_adult_savings_pv"][0])
        ax.bar(
            x[-1] + 1,
            adult,
            bottom=npv,
            width=width,
            color="white",
            edgecolor="0.3",
            hatch="..",
            linewidth=0.8,
        )
        ax.bar(
            x[-1] + 2,
            npv + adult,
            width=width,
            color="white",
            edgecolor="black",
            linestyle="--",
            linewidth=1.2,
        )
        extra_labels = [t("wf_adult", lang), t("wf_npv_adult", lang)]
        tops += [npv + adult]
        ends_of += [(x[-1] + 1, npv + adult, adult), (x[-1] + 2, npv + adult, npv + adult)]
        x = np.arange(len(x) + 2)
    ends = np.concatenate([starts, starts + np.array(values), tops])
    span = float(ends.max() - ends.min()) or 1.0
    ax.set_ylim(ends.min() - 0.16 * span, ends.max() + 0.16 * span)  # room for two-line labels
    ax.set_xlim(-0.6, len(x) - 0.4)
    scale = "bn" if np.abs(ends).max() >= 2e9 else "m" if np.abs(ends).max() >= 1e6 else "units"
    for xi, end, v in ends_of:
        _bar_label(ax, xi, end, v, scenario.currency, scale, lang)
    ax.axhline(0, color="0.2", lw=0.9)
    names = [textwrap.fill(w, 14, break_long_words=False) for w in [*labels, t("npv", lang), *extra_labels]]
    ax.set_xticks(x, names, fontsize=7.5)
    unit = _money_axis(ax, ends, scenario.currency, lang)
    ax.set_ylabel(t("discounted", lang, currency=unit))
    ax.grid(axis="y", alpha=0.3)
    title = t(
        # Savings below zero are costs: "-5 bn saved" would say the opposite twice.
        "waterfall_title" if savings >= 0 else "waterfall_title_cost",
        lang,
        npv=L.money(npv, lang, scenario.currency),
        savings=L.money(abs(savings), lang, scenario.currency),
        investment=L.money(invest, lang, scenario.currency),
    )
    _title(fig, title)
    y = cmp.years
    expected = cmp.base.engine == "expected"
    note = t("waterfall_note", lang, y0=y[0], y1=y[-1], means=_means(cmp.base, lang))
    if expected:
        note = t("waterfall_note_expected", lang, y0=y[0], y1=y[-1])
    if cmp.has_adult:
        key = "waterfall_note_adult_expected" if expected else "waterfall_note_adult"
        note = t(key, lang, y0=y[0], y1=y[-1], means=_means(cmp.base, lang))
    _footnote(fig, note + money_note(cmp.base, lang))
    return fig


def _arms(result: Result | Comparison, lang: Lang) -> list[tuple[str, Result]]:
    if isinstance(result, Comparison):
        return [(t("without", lang), result.base), (t("with", lang), result.strategy)]
    return [("", result)]


def _capacity_figure(
    result: Result | Comparison, panels: list[tuple[str, object]], formatter, title, lang: Lang, ylim_top=None
) -> Figure:
    """Lines per step with places, one panel per measure; solid without, dashed with the strategy."""
    from matplotlib.figure import Figure

    arms = _arms(result, lang)
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
                name = L.step_name(arm.scenario, arm.staircase.step_ids[j], lang)
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
        ax.set_xlabel(t("year", lang))
        _year_axis(ax, years, max_ticks=11 if len(panels) == 1 else 6)
        ax.set_ylim(bottom=0, top=ylim_top(ax) if ylim_top else None)
        ax.yaxis.set_major_formatter(formatter)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    _title(fig, title(arms, capped))
    note = (
        _mean_note(first, lang)
        if first.engine == "expected"
        else t("capacity_note", lang, n=L.runs(first.replications, lang))
    )
    _footnote(fig, note)
    return fig


def waiting_list(result: Result | Comparison, lang: str | None = None) -> Figure:
    """Children waiting for a full step at 31 December, and children it sent on."""
    _expect(
        result, Result | Comparison, "waiting_list", "a Result or a Comparison (sim.simulate, sim.compare)"
    )
    lang = _lang(result, lang)

    def title(arms, capped):
        last = [L.number(a.mean_measures["waiting_end"][-1, capped].sum(), lang, 1) for _, a in arms]
        year = arms[0][1].years[-1]
        if len(last) == 2:
            return t("waiting_title_cmp", lang, year=year, a=last[1], b=last[0])
        return t("waiting_title_one", lang, a=last[0], year=year)

    panels = [(t("waiting_end", lang), lambda a: a.mean_measures["waiting_end"])]
    if any((arm.staircase.overflow_to >= 0).any() for _, arm in _arms(result, lang)):
        panels.append((t("sent_on", lang), lambda a: a.mean_measures["overflows"]))
    return _capacity_figure(result, panels, _counts(lang), title, lang)


def utilisation(result: Result | Comparison, lang: str | None = None) -> Figure:
    """Share of places in use over each year, per step with places."""
    _expect(
        result, Result | Comparison, "utilisation", "a Result or a Comparison (sim.simulate, sim.compare)"
    )
    from matplotlib.ticker import FuncFormatter

    lang = _lang(result, lang)

    def used(arm: Result) -> np.ndarray:
        # A step with no places in a year has no share in use (not an infinite one).
        places = arm.staircase.capacity
        return 100 * arm.mean_measures["child_years"] / np.where(places > 0, places, np.nan)

    def title(arms, capped):
        # Each arm's highest share: the larger of the two alone hid the strategy's (99 % and 93 %).
        u = [L.percent(np.nan_to_num(used(a)[-1, capped], nan=0.0).max() / 100, lang) for _, a in arms]
        year = arms[0][1].years[-1]
        if len(u) == 2:
            return t("in_use_title_cmp", lang, year=year, a=u[1], b=u[0])
        return t("in_use_title", lang, year=year, share=u[0])

    def top(ax) -> float:
        # Room above 100 %: a stock larger than the places shows as over 100 %.
        return max(105.0, ax.get_ylim()[1] * 1.05)

    percent = FuncFormatter(lambda x, _p: L.percent(x / 100, lang))
    return _capacity_figure(result, [(t("in_use", lang), used)], percent, title, lang, top)


def breakeven(psa: PSAResult, lang: str | None = None) -> Figure:
    """Probability that the strategy has paid back (cumulative NPV > 0), by year."""
    _expect(psa, PSAResult, "breakeven", "a PSAResult (sim.psa)")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    lang = _lang(psa, lang)
    b = psa.breakeven
    years = b["year"].to_numpy()
    p = 100 * b["probability_break_even"].to_numpy()
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    ax.plot(years, p, color=step_colours(6)[5], lw=2, marker="o", markersize=3)
    ax.axhline(50, color="0.6", ls=":", lw=1)
    ax.set_ylim(0, 100)
    ax.set_ylabel(t("p_paid_back", lang))
    ax.set_xlabel(t("year", lang))
    _year_axis(ax, years)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _p: L.percent(x / 100, lang)))
    ax.grid(axis="y", alpha=0.3)
    over = np.flatnonzero(p > 50)  # "more likely than not": an even chance is not more
    first = t("more_likely_from", lang, year=years[over[0]]) if len(over) else t("less_likely", lang)
    title = t(
        "breakeven_title",
        lang,
        year=years[-1],
        share=L.probability(p[-1] / 100, lang),
        n=L.number(psa.draws, lang),
        first=first,
    )
    _title(fig, title)
    _footnote(fig, t("psa_note", lang) + money_note_of(psa.base, lang))
    return fig


def npv_distribution(psa: PSAResult, lang: str | None = None) -> Figure:
    """Histogram of the net present value over draws."""
    _expect(psa, PSAResult, "npv_distribution", "a PSAResult (sim.psa)")
    from matplotlib.figure import Figure

    lang = _lang(psa, lang)
    npv = psa.arrays["total_npv"]
    currency = psa.base.currency
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    ax.hist(npv, bins=min(50, max(10, psa.draws // 20)), color=step_colours(6)[4], edgecolor="white")
    ax.axvline(0, color="black", lw=1)
    unit = _money_axis(ax, npv, currency, lang, axis="x")
    ax.set_xlabel(t("npv_axis", lang, currency=unit))
    ax.set_ylabel(t("draws", lang))
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # draws are counted whole: no 2.5 draws
    ax.grid(axis="y", alpha=0.3)
    lo, hi = np.percentile(npv, [5, 95])
    m = lambda v: L.money(float(v), lang, currency)  # noqa: E731
    title = t(
        "npv_dist_title",
        lang,
        mean=m(np.mean(npv)),
        lo=m(lo),
        hi=m(hi),
        share=L.probability(float(np.mean(npv > 0)), lang),
    )
    _title(fig, title)
    _footnote(fig, money_note_of(psa.base, lang))
    return fig


OUTCOME_LABEL = {
    "npv": ("NPV", "Nettonutidsværdi"),
    "roi": ("Net return per krone", "Nettoafkast pr. investeret krone"),
    "placement_entries_avoided": ("New placements avoided", "Nye anbringelser undgået"),
    "placement_child_years_avoided": ("Placement child-years avoided", "Anbringelsesår undgået"),
    "investment_pv": ("Investment (PV)", "Investering (nutidsværdi)"),
    "gross_savings_pv": ("Gross savings (PV)", "Bruttobesparelse (nutidsværdi)"),
}


def tornado(result: Tornado, lang: str | None = None) -> Figure:
    """One-way sensitivity: the outcome with each uncertain number at its low and high value."""
    _expect(result, Tornado, "tornado", "a Tornado (sim.tornado)")
    from matplotlib.figure import Figure

    lang = _lang(result, lang)
    tab = result.table.iloc[::-1]  # widest bar on top
    fig = Figure(figsize=(10, 2.2 + 0.45 * max(len(tab), 1)), layout="constrained")
    ax = fig.subplots()
    money = result.outcome in ("npv", "investment_pv", "gross_savings_pv")
    y = np.arange(len(tab))
    c = result.central
    lows = tab["outcome_low"].to_numpy() - c
    highs = tab["outcome_high"].to_numpy() - c
    colours = step_colours(6)
    ax.barh(y, lows, left=c, color=colours[1], edgecolor="0.3", label=t("low_pct", lang))
    ax.barh(y, highs, left=c, color=colours[4], edgecolor="0.3", label=t("high_pct", lang))
    ax.axvline(c, color="black", lw=1)
    names = [textwrap.fill(L.describe(result.base, k, lang), 48) for k in tab["parameter"]]
    ax.set_yticks(y, names, fontsize=8)
    if result.outcome in OUTCOME_LABEL:
        en, da = OUTCOME_LABEL[result.outcome]
        label = da if lang == "da" else en
    else:  # every other outcome by its name in the report's language, never its key
        from sim.outputs.report import outcome_name

        label = outcome_name(result.outcome, lang)
    if money:
        ends = np.concatenate([[c], tab["outcome_low"], tab["outcome_high"]])
        unit = _money_axis(ax, ends, result.base.currency, lang, axis="x")
        ax.set_xlabel(f"{label}, {t('discounted', lang, currency=unit)}")
    else:
        ax.xaxis.set_major_formatter(_counts(lang))
        ax.set_xlabel(label)
    ax.grid(axis="x", alpha=0.3)
    # Above the bars, under the title: it covers no bar and not the axis's label (below them it did).
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
    top = L.describe(result.base, tab["parameter"].iloc[-1], lang) if len(tab) else t("no_uncertain", lang)
    top = L.in_sentence(top)  # "depends most on effect (hazard ratio): ..."
    _title(fig, t("depends_most", lang, outcome=label, name=top))
    _footnote(fig, t("others_at_mean", lang) + (money_note_of(result.base, lang) if money else ""))
    return fig


def calibration(cal, lang: str | None = None) -> Figure:
    """Observed numbers against the model before and after calibration, one panel per series."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    lang = L.resolve(lang, cal.scenario)
    fit = cal.fit
    series = list(dict.fromkeys(zip(fit["measure"], fit["step"])))
    n = len(series)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    colours = step_colours(6)
    for ax, (measure, step) in zip(axes, series):
        d = fit[(fit["measure"] == measure) & (fit["step"] == step)].sort_values("year")
        years = d["year"].to_numpy()
        ax.errorbar(
            years,
            d["value"],
            yerr=d["sd"],
            fmt="o",
            color="black",
            ms=4,
            capsize=2,
            label=t("cal_observed", lang),
        )
        ax.plot(years, d["before"], ls="--", color="0.6", marker=".", label=t("cal_before", lang))
        ax.plot(years, d["after"], ls="-", color=colours[5], marker=".", lw=1.8, label=t("cal_after", lang))
        if "des_mean" in d:
            ax.plot(years, d["des_mean"], ls="none", marker="x", color=colours[3], label=t("cal_des", lang))
        ax.set_title(f"{L.column(measure, lang)}: {L.observed_steps(cal.scenario, step, lang)}", fontsize=9)
        ax.yaxis.set_major_formatter(_counts(lang))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:.0f}"))
        ax.set_xticks(years)
        ax.tick_params(axis="x", labelsize=7, rotation=45)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[n:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8)
    title = t("cal_title", lang, n=len(fit), rmse=L.percent(cal.rmse_percent / 100, lang, 1))
    _title(fig, title)
    return fig
