"""Charts: every chart renders on real results and on edge cases, and says what it shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import INTERVENTION, PNG_MAGIC, toy_dict
from conftest import SCENARIOS as REPO_SCENARIOS
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

import sim
from sim.outputs import language as L
from sim.outputs import plots
from sim.run.experiment import Comparison
from sim.scenario import Scenario

PAYS_BACK = ("des", "one", "expected")
ALL = (*PAYS_BACK, "zero", "never")


@pytest.fixture(scope="module")
def toy() -> Scenario:
    return Scenario.from_dict(toy_dict())


@pytest.fixture(scope="module")
def cmps(toy) -> dict[str, Comparison]:
    """Comparisons of the toy baseline with a strategy, by case."""
    plan = toy.with_changes({"name": "plan", "title": "Toy with a plan", "intervention": INTERVENTION})
    zero = toy.with_changes({"name": "zero", "intervention": {"start_year": 2025}})
    never = toy.with_changes(
        {
            "name": "never",
            "intervention": {
                "start_year": 2025,
                "cost_per_year": 1e9,
                "hazard_ratios": {"mid": {"placed": 1.0}},
            },
        }
    )
    return {
        "des": sim.compare(toy, plan, replications=3, seed=1),
        "one": sim.compare(toy, plan, replications=1, seed=1),
        "expected": sim.compare(toy, plan, engine="expected"),
        "zero": sim.compare(toy, zero, replications=3, seed=1),
        "never": sim.compare(toy, never, replications=3, seed=1),
    }


def save(fig: Figure, tmp_path: Path, name: str = "chart") -> Path:
    assert isinstance(fig, Figure)
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    assert path.read_bytes().startswith(PNG_MAGIC)
    return path


def footnote(fig: Figure) -> str:
    return plain(" ".join(t.get_text() for t in fig.texts))


def plain(text: str) -> str:
    """Text with non-breaking spaces (which keep "3.5 %" on one line) as plain spaces."""
    return text.replace("\xa0", " ")


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def vertical_lines(ax, style: str = "--") -> list[float]:
    """x positions of lines drawn with ``axvline`` in a line style.

    Dashed (the default) marks the payback year; dotted marks the strategy's start.
    """
    out = []
    for line in ax.lines:
        x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        if len(x) == 2 and x[0] == x[1] and list(y) == [0.0, 1.0] and line.get_linestyle() == style:
            out.append(float(x[0]))
    return out


def test_strategy_start_is_marked(cmps):
    for fig in (plots.payback(cmps["des"]), plots.placements_avoided(cmps["des"])):
        assert vertical_lines(fig.axes[0], ":") == [2024.5]
        assert any("strategy starts 2025" in t.get_text() for t in fig.axes[0].texts)


def placed_at_end(result: sim.Result) -> np.ndarray:
    """Mean children placed at each year end."""
    return (result.mean_measures["stock_end"] * result.staircase.placement).sum(1)


# ---------------------------------------------------------------------------
# staircase
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", PAYS_BACK)
def test_staircase_of_one_result(cmps, case, tmp_path):
    result = cmps[case].base
    fig = plots.staircase(result)
    save(fig, tmp_path)
    (ax,) = fig.axes
    assert ax.get_title() == "Toy staircase"
    assert len(ax.collections) == 3  # one band per step
    assert [c.get_hatch() for c in ax.collections] == [None, None, "///"]  # placement hatched
    placed = placed_at_end(result)
    assert fig.get_suptitle() == (
        f"Placed children: {placed[0]:,.0f} at end of 2024, {placed[-1]:,.0f} at end of 2033"
    )
    if result.engine == "expected":
        assert "Expected values from the analytic engine" in footnote(fig)
    else:
        runs = "1 replication" if result.replications == 1 else f"{result.replications} replications"
        # The toy is one the analytic engine solves: its means are exact, the replications a check.
        assert (
            f"Exact means: the analytic engine solves this model; {runs} simulated as a check."
            in footnote(fig)
        )
    assert set(legend_texts(ax)) == set() and fig.legends  # the legend is the figure's
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Placed", "Middle", "Low"]


@pytest.mark.parametrize("case", ALL)
def test_staircase_of_a_comparison(cmps, case, tmp_path):
    cmp = cmps[case]
    fig = plots.staircase(cmp)
    save(fig, tmp_path)
    left, right = fig.axes
    assert left.get_title().split("\n")[0] == "Toy staircase"
    assert right.get_title().split("\n")[0] == (cmp.strategy.scenario.title or cmp.strategy.scenario.name)
    assert left.get_ylim() == right.get_ylim()  # shared y axis: the arms compare by eye
    with_, without = placed_at_end(cmp.strategy)[-1], placed_at_end(cmp.base)[-1]
    assert fig.get_suptitle() == (
        f"Placed children at end of 2033: {with_:,.0f} with the strategy, {without:,.0f} without"
    )
    # The strategy's panel says what changed, so a taller stack does not read as more children placed.
    total = [a.mean_measures["stock_end"].sum(1)[-1] for a in (cmp.base, cmp.strategy)]
    lower = (total[1] - with_) - (total[0] - without)
    title = right.get_title().replace("\n", " ")
    said = L.number(lower, "en", signed=True) + "\u00a0on steps without placement"  # kept together
    assert said in title
    assert L.number(with_ - without, "en", signed=True) + "\u00a0placed" in title
    assert f"{total[0]:,.0f} children, {without:,.0f} of them placed" in left.get_title().replace("\n", " ")
    assert "placed children with and without the strategy" in footnote(fig)
    taller = round(lower) > 0 and round(with_ - without) <= 0
    assert ("not more placed" in footnote(fig)) == taller  # said only where the stack grows


def test_staircase_of_a_zero_effect_strategy_shows_identical_arms(cmps):
    cmp = cmps["zero"]
    fig = plots.staircase(cmp)
    left, right = fig.axes
    for a, b in zip(left.collections, right.collections):
        np.testing.assert_array_equal(a.get_paths()[0].vertices, b.get_paths()[0].vertices)


# ---------------------------------------------------------------------------
# placed_children: the chart a committee reads in ten seconds
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL)
def test_placed_children_with_and_without_the_strategy(cmps, case, tmp_path):
    cmp = cmps[case]
    fig = plots.placed_children(cmp)
    save(fig, tmp_path)
    top, bottom = fig.axes
    without, with_ = (line.get_ydata() for line in top.lines[:2])
    np.testing.assert_allclose(without, placed_at_end(cmp.base))
    np.testing.assert_allclose(with_, placed_at_end(cmp.strategy))
    assert top.get_ylim()[0] == 0  # the difference is seen against the whole number placed
    heights = np.array([p.get_height() for p in bottom.patches])
    diff = placed_at_end(cmp.base) - placed_at_end(cmp.strategy)
    sign = 1 if diff[-1] >= 0 else -1
    np.testing.assert_allclose(heights, sign * diff, atol=1e-9)
    several = cmp.base.replications > 1
    assert len(top.collections) == (2 if several else 0)  # 90 % bands only over several replications
    for ax in (top, bottom):
        assert vertical_lines(ax, ":") == [2024.5]  # the strategy's start, on both panels
    a, b = placed_at_end(cmp.strategy)[-1], placed_at_end(cmp.base)[-1]
    title = fig.get_suptitle().replace("\n", " ")
    if round(abs(b - a)) == 0:
        assert title == f"As many children placed at end of 2033 with the strategy as without: {a:,.0f}"
    else:
        word = "fewer" if b > a else "more"
        assert title == (
            f"{abs(b - a):,.0f} {word} children placed at end of 2033 with the strategy: {a:,.0f} instead of {b:,.0f}"
        )
    labels = [t.get_text() for t in top.texts]
    assert f"with the strategy: {a:,.0f}" in labels and f"without the strategy: {b:,.0f}" in labels
    if cmp.base.engine == "expected":
        assert "Expected values" in footnote(fig)
    elif several:
        assert "90 % of outcomes" in footnote(fig) and legend_texts(top) == [
            "90 % of outcomes over replications"
        ]


def test_placed_children_in_danish(cmps):
    fig = plots.placed_children(cmps["des"], lang="da")
    assert "færre anbragte børn ved udgangen af 2033 med strategien" in fig.get_suptitle().replace("\n", " ")
    assert fig.axes[0].get_ylabel() == "Anbragte børn pr. 31. december"
    assert "Anbragt: Anbragt." in footnote(fig)


def test_placed_children_is_a_chart_of_every_comparison(cmps):
    from sim.outputs.writers import charts

    assert list(charts(cmps["des"], "en"))[:2] == ["placed_children", "staircase"]
    assert "placed_children" not in charts(cmps["des"].base, "en")  # one scenario: nothing to compare


# ---------------------------------------------------------------------------
# placements_avoided
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL)
def test_placements_avoided(cmps, case, tmp_path):
    cmp = cmps[case]
    fig = plots.placements_avoided(cmp)
    save(fig, tmp_path)
    (ax,) = fig.axes
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, cmp.yearly["placement_entries_avoided"])
    total = cmp.summary.loc["placement_entries_avoided"]
    title = fig.get_suptitle()
    assert title.startswith(f"{total['mean']:,.0f} new placements avoided 2024-2033")
    several = cmp.base.replications > 1
    assert ("90 %" in title) == several
    assert (plots.INTERVAL_LABEL in legend_texts(ax)) == several
    assert "Fewer children placed at 31 December" in legend_texts(ax)
    # The bars count placements (a child placed twice counts twice), the line children: the axis says both.
    assert ax.get_ylabel() == "Placements (bars), children (line)"


def _under_legend(fig, ax, x, top) -> np.ndarray:
    """How far each point below the legend's x span reaches into it (in axes fractions; <= 0: clear)."""
    fig.draw_without_rendering()
    box = ax.get_legend().get_window_extent().transformed(ax.transAxes.inverted())
    to_axes = ax.transData + ax.transAxes.inverted()
    pts = to_axes.transform(np.column_stack([x, top]))
    under = (pts[:, 0] >= box.x0 - 0.03) & (pts[:, 0] <= box.x1 + 0.03)
    return pts[under, 1] - box.y0


@pytest.mark.parametrize("case", ALL)
def test_placements_avoided_legend_hides_no_bar_or_interval(cmps, case):
    cmp = cmps[case]
    fig = plots.placements_avoided(cmp)
    (ax,) = fig.axes
    y = cmp.yearly
    top = np.fmax(y["placement_entries_avoided_p95"], y["placed_at_year_end_avoided"])
    assert (_under_legend(fig, ax, y["year"].to_numpy(), top.to_numpy()) <= 0).all()


def test_room_for_legend_raises_the_axis_over_a_tall_early_bar():
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(2024, 2044)
    top = np.r_[18.0, 17.0, np.full(18, 3.0)]  # a small area's first years: wide intervals
    ax.bar(x, top, label="a bar with a long label, as the Danish ones are")
    ax.plot(x, -top, label="a line")
    ax.legend(loc="upper left")
    assert (_under_legend(fig, ax, x, top) > 0).any()  # as drawn, the legend covers them
    bottom = ax.get_ylim()[0]
    plots._room_for_legend(fig, ax, x, top)
    assert (_under_legend(fig, ax, x, top) <= 0).all()
    assert ax.get_ylim()[0] == bottom


def test_placements_avoided_by_a_strategy_that_does_nothing_are_zero(cmps):
    cmp = cmps["zero"]
    fig = plots.placements_avoided(cmp)
    (ax,) = fig.axes
    assert all(p.get_height() == 0 for p in ax.patches)
    (line,) = [ln for ln in ax.lines if ln.get_label() == "Fewer children placed at 31 December"]
    assert np.all(np.asarray(line.get_ydata()) == 0)
    assert fig.get_suptitle().startswith(
        "0 new placements avoided 2024-2033 (90 % range of outcomes: 0 to 0)"
    )


def test_placements_avoided_is_positive_for_a_strategy_that_works(cmps):
    cmp = cmps["expected"]
    fig = plots.placements_avoided(cmp)
    heights = np.array([p.get_height() for p in fig.axes[0].patches])
    assert heights[0] == 0  # 2024: before the strategy starts
    assert (heights[1:] > 0).all()


# ---------------------------------------------------------------------------
# payback
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", PAYS_BACK)
def test_payback_marks_the_payback_year(cmps, case, tmp_path):
    cmp = cmps[case]
    fig = plots.payback(cmp)
    save(fig, tmp_path)
    (ax,) = fig.axes
    s = cmp.summary
    # The year the mean cash flow drawn pays back (the replications' years are its range).
    year = int(s.loc["payback_year", "mean"])
    assert vertical_lines(ax) == [year]
    assert fig.get_suptitle().startswith(f"Pays back in {year}; net present value")
    assert f"payback {year}" in [t.get_text() for t in ax.texts]
    several = cmp.base.replications > 1
    # The share of replications paying back is chance, not a probability of paying: never quoted.
    assert "replications" not in fig.get_suptitle()
    assert (plots.INTERVAL_LABEL in legend_texts(ax)) == several
    which = "expected" if cmp.base.engine == "expected" else "mean"
    label = L.t("cum_net_expected" if which == "expected" else "cum_net", "en")
    (mean_line,) = [ln for ln in ax.lines if ln.get_label() == label]
    np.testing.assert_allclose(mean_line.get_ydata(), cmp.yearly["cum_net_savings_discounted"])
    assert "3.5 %" in footnote(fig) and "2024 prices" in footnote(fig)


@pytest.mark.parametrize("case", ["never", "zero"])
def test_payback_without_payback(cmps, case, tmp_path):
    """A costly strategy with no effect, and one with no cost and no effect: nothing pays back."""
    cmp = cmps[case]
    fig = plots.payback(cmp)
    save(fig, tmp_path)
    (ax,) = fig.axes
    assert vertical_lines(ax) == []
    texts = [t.get_text() for t in ax.texts]
    if case == "zero":  # no cost and no effect: nothing at stake, so no verdict
        assert fig.get_suptitle() == "Nothing invested or saved from this perspective"
        assert ax.get_legend().get_title().get_text() == ""
        return
    assert fig.get_suptitle() == "No payback within the horizon (by 2033)"
    # Said in the legend's title: a box on the axes hid the top of the band (a new user saw it).
    assert ax.get_legend().get_title().get_text() == "no payback within horizon"
    assert not any(t.startswith("payback") for t in texts)
    assert "3.5 %" in footnote(fig)


def test_payback_of_a_strategy_that_never_pays_back_goes_down(cmps):
    y = cmps["never"].yearly["cum_net_savings_discounted"].to_numpy()
    assert y[0] == 0 and (np.diff(y) < 0).all()


def test_payback_is_not_before_the_strategy_starts(cmps):
    cmp = cmps["expected"]
    fig = plots.payback(cmp)
    (x,) = vertical_lines(fig.axes[0])
    assert x >= 2025
    assert cmp.summary.loc["payback_year", "median"] >= 2025


def test_payback_year_is_a_calendar_year(cmps):
    one = cmps["des"]
    base = sim.simulate(one.base.scenario, replications=2, seed=1, engine="des")
    strat = sim.simulate(one.strategy.scenario, replications=2, seed=1, engine="des")
    arrays = {k: v[:2] for k, v in one.arrays.items()}
    arrays["total_payback_year"] = np.array([2025.0, 2026.0])
    cmp = Comparison(base, strat, arrays)
    median = cmp.summary.loc["payback_year", "median"]
    fig = plots.payback(cmp)
    (x,) = vertical_lines(fig.axes[0])
    assert float(median).is_integer()
    assert x == median


# ---------------------------------------------------------------------------
# money_note and colours
# ---------------------------------------------------------------------------


def test_money_note_gives_price_year_and_discount_rates(cmps):
    note = plain(plots.money_note(cmps["expected"].base))
    assert "DKK, 2024 prices" in note
    assert "3.5 %" in note
    assert "3.5 % years 0-35, 2.5 % years 36-70, 1.5 % from year 71" in note
    assert "discounted to 2024" in note and "Finansministeriet 2021" in note


def test_money_note_of_a_comparison_is_its_baselines(cmps):
    assert plots.money_note(cmps["expected"]) == plots.money_note(cmps["expected"].base)


def test_money_note_follows_the_scenario(toy):
    other = toy.with_changes(
        {
            "price_year": 2023,
            "start_year": 2026,
            "discounting": {"periods": [{"from_year": 0, "rate": 0.04}], "source": "own"},
        }
    )
    note = plain(plots.money_note(sim.expected(other)))
    assert "2023 prices" in note and "discounted to 2026" in note
    assert "4.0 % from year 0 (own)" in note
    assert "3.5 %" not in note


def test_step_colours_go_from_light_to_dark():
    colours = plots.step_colours(6)
    assert len(colours) == 6 and len(set(colours)) == 6
    lightness = [np.dot(to_rgb(c), [0.299, 0.587, 0.114]) for c in colours]
    assert all(a > b for a, b in zip(lightness, lightness[1:]))


# ---------------------------------------------------------------------------
# waiting list and utilisation (steps with places)
# ---------------------------------------------------------------------------


def test_capacity_charts(toy, tmp_path):
    base = toy.with_changes({"steps.placed.capacity": {"places": 200, "wait_on": "mid"}})
    plan = base.with_changes(
        {"intervention": {"start_year": 2025, "extra_places": {"placed": {"places": 100}}}}
    )
    cmp = sim.compare(base, plan, replications=2, seed=1)
    assert cmp.has_capacity and not sim.simulate(toy, replications=1).has_capacity
    for make in (plots.waiting_list, plots.utilisation):
        for what in (cmp, cmp.base):
            fig = make(what)
            save(fig, tmp_path)
            assert len(fig.axes[0].lines) == (2 if what is cmp else 1)
    waiting = cmp.base.mean_measures["waiting_end"][-1, 2]
    assert f"{waiting:,.1f} children waiting" in plots.waiting_list(cmp.base).get_suptitle()
    assert "with the strategy" in plots.waiting_list(cmp).get_suptitle()
    # Each arm's highest share (the larger of the two alone hid the strategy's).
    share = {
        k: 100 * arm.mean_measures["child_years"][-1, 2] / arm.staircase.capacity[-1, 2]
        for k, arm in (("with", cmp.strategy), ("without", cmp.base))
    }
    title = plain(plots.utilisation(cmp, lang="en").get_suptitle().replace("\n", " "))
    assert f"up to {share['with']:.0f} % with the strategy, {share['without']:.0f} % without" in title


def test_waiting_chart_shows_overflow_and_small_numbers(toy, tmp_path):
    s = toy.with_changes(
        {"steps.placed.capacity": {"places": 330, "overflow_to": "mid", "max_wait_years": 0.1}}
    )
    res = sim.simulate(s, replications=2, seed=1)
    fig = plots.waiting_list(res)
    save(fig, tmp_path)
    assert len(fig.axes) == 2  # waiting, and sent on
    waiting, sent = fig.axes
    assert waiting.get_ylim()[1] < 10
    labels = [t.get_text() for t in waiting.get_yticklabels()]
    assert len(set(labels)) == len(labels)  # small means keep a decimal: no repeated "1"
    np.testing.assert_allclose(sent.lines[0].get_ydata(), res.mean_measures["overflows"][:, 2])


# ---------------------------------------------------------------------------
# waterfall
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL)
def test_waterfall_adds_up_to_the_net_present_value(cmps, case, tmp_path):
    cmp = cmps[case]
    fig = plots.waterfall(cmp)
    save(fig, tmp_path)
    (ax,) = fig.axes
    bars = ax.patches
    assert len(bars) == 1 + 3 + 1  # investment, one per step, NPV
    s = cmp.summary
    heights = np.array([b.get_height() for b in bars])
    bottoms = np.array([b.get_y() for b in bars])
    assert heights[0] == pytest.approx(-s.loc["investment_pv", "mean"], rel=1e-9, abs=1e-6)
    assert heights[1:4].sum() == pytest.approx(s.loc["gross_savings_pv", "mean"], rel=1e-9, abs=1e-6)
    assert heights[-1] == pytest.approx(s.loc["npv", "mean"], rel=1e-9, abs=1e-6)
    # Each step's bar starts where the one before ended; the NPV bar stands on zero.
    np.testing.assert_allclose(bottoms[1:4], np.cumsum(heights[:3]), rtol=1e-9, atol=1e-6)
    assert bottoms[-1] == 0
    assert bars[3].get_hatch() == "///"  # the placement step
    labels = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]  # long names wrap
    assert labels[0] == "Investment" and labels[-1] == "Net present value" and "Placed" in labels
    assert "3.5 %" in footnote(fig) and "not included" in footnote(fig)


def _bar_labels_overlap(fig: Figure) -> list[str]:
    """Value labels of a waterfall that overlap a bar, another label or the frame."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in labels]
    bars = [b.get_window_extent(renderer) for b in ax.patches if b.get_height() != 0]
    frame = ax.get_window_extent(renderer)
    found = []
    for i, (text, box) in enumerate(zip(labels, boxes)):
        name = text.get_text().replace("\n", " ")
        found += [f"{name} on a bar" for bar in bars if box.overlaps(bar)]
        found += [
            f"{name} on {labels[j].get_text()!r}" for j in range(i + 1, len(boxes)) if box.overlaps(boxes[j])
        ]
        if not (frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1):
            found.append(f"{name} outside the frame")
    return found


@pytest.mark.parametrize("case", ALL)
@pytest.mark.parametrize("lang", ["da", "en"])
def test_waterfall_labels_never_overlap_bars_or_each_other(cmps, case, lang):
    fig = plots.waterfall(cmps[case], lang=lang)
    assert _bar_labels_overlap(fig) == []
    for t in fig.axes[0].texts:  # a bar too small to show has no label: "0.0 m" says nothing
        number = t.get_text().split("\n")[0].replace(",", ".").lstrip("-")
        assert float(number.replace(".", "", number.count(".") - 1)) != 0, t.get_text()


def test_waterfall_labels_of_a_national_strategy_with_negative_bars():
    """Billions, falling and rising bars, long Danish names: the case the issue saw collide."""
    base = sim.load_scenario(REPO_SCENARIOS / "denmark-baseline.toml").with_changes({"horizon_years": 10})
    plan = sim.load_scenario(REPO_SCENARIOS / "denmark-early-detection.toml").with_changes(
        {"horizon_years": 10}
    )
    cmp = sim.compare(base, plan, engine="expected")
    for lang in ("da", "en"):
        fig = plots.waterfall(cmp, lang=lang)
        assert _bar_labels_overlap(fig) == [], lang
        heights = [b.get_height() for b in fig.axes[0].patches]
        assert min(heights) < 0 < max(heights)


def test_waterfall_of_a_strategy_that_costs_and_does_nothing(cmps):
    fig = plots.waterfall(cmps["never"])
    heights = [b.get_height() for b in fig.axes[0].patches]
    assert heights[1:4] == [0, 0, 0]
    assert heights[-1] == pytest.approx(heights[0]) and heights[0] < 0
    assert len(fig.axes[0].texts) == 2  # the investment and the NPV; the empty bars carry no "0.0" label
    assert plain(fig.get_suptitle()).startswith("Net present value DKK -")


# ---------------------------------------------------------------------------
# Danish
# ---------------------------------------------------------------------------


def test_charts_in_danish_use_danish_words_names_and_numbers(cmps, tmp_path):
    cmp = cmps["des"]
    fig = plots.staircase(cmp, lang="da")
    save(fig, tmp_path)
    assert fig.get_suptitle().startswith("Anbragte børn ved udgangen af 2033")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Anbragt", "Mellem", "Lav"]
    assert fig.axes[0].get_ylabel() == "Børn"
    fig = plots.payback(cmp, lang="da")
    assert plain(fig.get_suptitle()).startswith("Tjener sig hjem i")
    assert "mio. kr." in plain(fig.get_suptitle())
    assert "3,5 % år 0-35" in footnote(fig) and "2024-priser" in footnote(fig)
    assert fig.axes[0].get_xlabel() == "År"
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "2033" in ticks and not any("." in t for t in ticks)  # years without a thousands separator
    fig = plots.placements_avoided(cmp, lang="da")
    assert "nye anbringelser undgået 2024-2033 (90 %-udfaldsrum:" in plain(fig.get_suptitle())
    fig = plots.waterfall(cmp, lang="da")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][0] == "Investering"
    fig = plots.payback(cmps["never"], lang="da")
    assert fig.get_suptitle() == "Tjener sig ikke hjem inden udgangen af 2033"


def test_language_defaults_to_the_scenarios(cmps):
    da = cmps["des"].base.scenario.with_changes({"language": "da"})
    res = sim.simulate(da, replications=1, seed=1)
    assert plots.staircase(res).get_suptitle().startswith("Anbragte børn")
    assert plots.staircase(res, lang="en").get_suptitle().startswith("Placed children")


# ---------------------------------------------------------------------------
# uncertainty charts: break-even by year, NPV distribution, tornado
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uncertain(toy):
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 80_000}
    base = Scenario.from_dict(d)
    hr = {"dist": "lognormal", "median": 0.7, "p95": 0.95}
    plan = base.with_changes(
        {"name": "plan", "intervention": {**INTERVENTION, "hazard_ratios": {"mid": {"placed": hr}}}}
    )
    return base, plan


@pytest.mark.parametrize("draws", [1, 40])
def test_breakeven_and_npv_distribution(uncertain, draws, tmp_path):
    psa = sim.psa(*uncertain, draws=draws, seed=3)
    fig = plots.breakeven(psa)
    save(fig, tmp_path)
    (line,) = fig.axes[0].lines[:1]
    np.testing.assert_allclose(line.get_ydata(), 100 * psa.breakeven["probability_break_even"])
    last = 100 * psa.breakeven["probability_break_even"].iloc[-1]
    assert plain(fig.get_suptitle()).startswith(f"Paid back by 2033 in {last:.0f} % of {draws} draws")
    fig = plots.npv_distribution(psa)
    save(fig, tmp_path, "npv")
    assert sum(p.get_height() for p in fig.axes[0].patches) == draws
    assert "positive in" in fig.get_suptitle() and "2024 prices" in footnote(fig)
    fig.draw_without_rendering()
    assert all(float(v).is_integer() for v in fig.axes[0].get_yticks())  # whole draws, never 2.5


def test_breakeven_of_a_strategy_that_never_pays_back_says_so(uncertain):
    base, plan = uncertain
    never = plan.with_changes({"intervention.cost_per_year": 1e9})
    fig = plots.breakeven(sim.psa(base, never, draws=5, seed=1))
    assert "in no year more likely than not" in fig.get_suptitle()
    da = plots.breakeven(sim.psa(base, never, draws=5, seed=1), lang="da")
    assert "i intet år over 50 % sandsynligt" in da.get_suptitle()


def test_breakeven_calls_an_even_chance_no_more_likely_than_not(uncertain):
    """Half the draws paid back is not "over 50 %": the title names the first year above it."""
    psa = sim.psa(*uncertain, draws=4, seed=1)
    years = psa.breakeven["year"].to_numpy()
    table = psa.breakeven.copy()
    table["probability_break_even"] = np.where(years < years[3], 0.25, np.where(years == years[3], 0.5, 0.75))
    psa.__dict__["breakeven"] = table  # the cached table, as a PSA with these shares would have it
    assert f"more likely than not from {years[4]}" in plots.breakeven(psa).get_suptitle()
    assert f"over 50 % sandsynligt fra {years[4]}" in plots.breakeven(psa, lang="da").get_suptitle()
    table["probability_break_even"] = np.minimum(table["probability_break_even"], 0.5)
    assert "in no year more likely than not" in plots.breakeven(psa).get_suptitle()


def test_tornado_chart(uncertain, tmp_path):
    t = sim.tornado(*uncertain)
    fig = plots.tornado(t)
    save(fig, tmp_path)
    (ax,) = fig.axes
    words = [L.describe(t.base, k, "en") for k in t.table["parameter"][::-1]]
    assert [x.get_text().replace("\n", " ") for x in ax.get_yticklabels()] == words
    top = words[-1][:1].lower() + words[-1][1:]  # mid-sentence: "depends most on effect (hazard ratio)"
    assert fig.get_suptitle() == f"NPV depends most on {top}"
    # The legend stands above the bars: clear of the axis's label, which it covered below them.
    fig.draw_without_rendering()
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 > ax.get_window_extent().y1 - 1 and not legend.overlaps(
        ax.xaxis.label.get_window_extent()
    )
    assert "((" not in ax.get_xlabel() and "DKK m" in ax.get_xlabel()
    da = plots.tornado(t, lang="da")
    assert da.get_suptitle().startswith("Nettonutidsværdi afhænger mest af")
    assert "mio. kr." in da.axes[0].get_xlabel()
    # Every outcome in words of the chart's language (it said "placed at end avoided" in Danish).
    other = sim.tornado(*uncertain, outcome="placed_at_end_avoided")
    da = plots.tornado(other, lang="da")
    assert da.axes[0].get_xlabel() == "Færre anbragte ved periodens udgang"
    assert "placed" not in da.get_suptitle()


def test_a_long_tornado_title_is_wrapped_inside_the_figure():
    """The municipal pair's Danish title ran off both edges ("…elser undgået afhænger mest af Effekt
    (hazard ratio): Hjemmebaserede foranstaltninger → Anbringelse i")."""
    pair = [
        REPO_SCENARIOS / f
        for f in ("municipality-uncertain.toml", "municipality-early-detection-uncertain.toml")
    ]
    t = sim.tornado(*pair, outcome="placement_entries_avoided")
    fig = plots.tornado(t, lang="da")
    fig.canvas.draw()
    box = fig._suptitle.get_window_extent()
    width = fig.get_figwidth() * fig.dpi
    assert box.x0 >= 0 and box.x1 <= width


def test_waterfall_shows_adult_life_apart(toy, tmp_path):
    d = toy_dict()
    d["adult"] = {"cost_per_year": {"placed": 80_000.0}}
    base = Scenario.from_dict(d)
    plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(base, plan, replications=2, seed=1)
    fig = plots.waterfall(cmp)
    save(fig, tmp_path)
    bars = fig.axes[0].patches
    assert len(bars) == 1 + 3 + 1 + 2  # investment, steps, NPV, then adult life and the NPV with it
    s = cmp.summary["mean"]
    npv, adult, total = (b.get_height() for b in bars[-3:])
    assert adult == pytest.approx(s["adult_consequences_avoided_pv"]) and bars[-2].get_y() == pytest.approx(
        npv
    )
    assert total == pytest.approx(s["npv_with_adult_consequences"])
    assert "not a budget line" in footnote(fig)
    assert _bar_labels_overlap(fig) == []
    expected = plots.waterfall(sim.compare(base, plan, engine="expected"))
    assert "Present values, expected values." in footnote(expected)  # not "mean of 1 replication"


def test_a_waterfall_whose_steps_cost_more_does_not_say_a_negative_was_saved(tmp_path):
    from sim.run.experiment import compare as compare_arms

    worse = {"start_year": 2025, "cost_per_year": 1e6, "hazard_ratios": {"mid": {"placed": 1.5}}}
    cmp = compare_arms(
        Scenario.from_dict(toy_dict()), Scenario.from_dict(toy_dict(intervention=worse)), engine="expected"
    )
    fig = plots.waterfall(cmp)
    save(fig, tmp_path)
    title = fig.get_suptitle()
    assert "more spent on the steps, besides" in title and "saved" not in title
    assert "DKK -" not in title.split(":")[1]


def _title_box(fig: Figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return fig._suptitle.get_window_extent(canvas.get_renderer()), fig.bbox


def test_a_long_title_is_broken_where_a_reader_pauses_and_stays_on_the_figure():
    # The national chart in English: bold digits ran off both edges ("2,366" for 12,366).
    title = "12,366 new placements avoided 2018-2043 (90 % range of outcomes: 12,159 to 12,619)"
    fig = Figure(figsize=(8, 5), layout="constrained")  # the yearly charts' size
    plots._title(fig, title)
    box, page = _title_box(fig)
    assert page.x0 <= box.x0 and box.x1 <= page.x1
    assert fig.get_suptitle() == title.replace(" (", "\n(", 1)
    # A title in two lines already, its first too long (the Danish NPV distribution lost its "N").
    two = "Nettonutidsværdi 528,4\xa0mio.\xa0kr. i gennemsnit (90 %: 361,1\xa0mio.\xa0kr. til 695,5\xa0mio.\xa0kr.);\npositiv i 100\xa0% af trækkene"
    fig2 = Figure(figsize=(8, 5), layout="constrained")
    plots._title(fig2, two)
    box, page = _title_box(fig2)
    assert page.x0 <= box.x0 and box.x1 <= page.x1
    assert fig2.get_suptitle() == two.replace(" (", "\n(", 1)
    short = Figure(figsize=(8, 5), layout="constrained")
    plots._title(short, "Pays back in 2028")
    assert short.get_suptitle() == "Pays back in 2028"  # a title that fits is left alone


@pytest.mark.parametrize("lang", ["da", "en"])
def test_every_chart_title_stays_on_the_figure(cmps, lang):
    cmp = cmps["des"]
    figs = [
        plots.staircase(cmp, lang),
        plots.placed_children(cmp, lang),
        plots.placements_avoided(cmp, lang),
        plots.payback(cmp, lang),
        plots.waterfall(cmp, lang),
    ]
    for fig in figs:
        box, page = _title_box(fig)
        assert page.x0 <= box.x0 and box.x1 <= page.x1, fig.get_suptitle()


def test_placed_children_says_when_its_rounded_numbers_do_not_subtract_exactly():
    # "2,420 fewer ... 9,191 instead of 11,612": a reader who subtracts gets 2,421.
    base = sim.load_scenario(REPO_SCENARIOS / "denmark-baseline.toml")
    plan = sim.load_scenario(REPO_SCENARIOS / "denmark-early-detection.toml")
    cmp = sim.compare(base, plan, engine="expected")

    def placed(arm):
        return (arm.mean_measures["stock_end"] * arm.staircase.placement).sum(-1)

    a, b = placed(cmp.strategy), placed(cmp.base)
    whole = np.round
    off = np.abs(whole(b) - whole(a)) != whole(np.abs(b - a))
    off &= np.round(np.abs(b - a)) != 0
    found = {}
    for y in range(list(cmp.years).index(base.discounting.to_year), len(cmp.years)):  # money needs its year
        found.setdefault(bool(off[y]), y)
    assert set(found) == {True, False}  # the national pair has years of both kinds
    for apart, y in found.items():
        years = y + 1
        short = sim.compare(
            base.with_changes({"horizon_years": years}),
            plan.with_changes({"horizon_years": years}),
            engine="expected",
        )
        assert ("rounded separately" in footnote(plots.placed_children(short, lang="en"))) is apart


def test_placements_avoided_says_what_below_zero_means(toy):
    # "Fewer children placed: -16" read as a double negative on a strategy that places more.
    worse = toy.with_changes(
        {"name": "worse", "intervention": {**INTERVENTION, "hazard_ratios": {"mid": {"placed": 1.5}}}}
    )
    fig = plots.placements_avoided(sim.compare(toy, worse, engine="expected"), lang="en")
    labels = legend_texts(fig.axes[0])
    assert "Fewer children placed at 31 December (below zero: more)" in labels
    assert any(x.startswith("New placements avoided") and x.endswith("(below zero: more)") for x in labels)
    plan = toy.with_changes({"name": "plan", "intervention": INTERVENTION})
    better = legend_texts(
        plots.placements_avoided(sim.compare(toy, plan, engine="expected"), lang="en").axes[0]
    )
    assert not any("below zero" in x for x in better)  # said only where it happens


def test_a_chart_of_the_wrong_kind_of_result_says_so_in_one_line():
    """plots.payback(a Result) raised KeyError 'cum_net_savings_discounted', plots.tornado(a Comparison)
    AttributeError, key_figures(a PSAResult) AttributeError: a researcher's slip, not a bug."""
    import sim
    from sim.errors import UserError

    res = sim.expected(REPO_SCENARIOS / "municipality-template.toml")
    cmp = sim.compare(
        REPO_SCENARIOS / "municipality-template.toml",
        REPO_SCENARIOS / "municipality-early-detection.toml",
        engine="expected",
    )
    for chart, wrong in (
        ("payback", res),
        ("waterfall", res),
        ("placed_children", res),
        ("tornado", cmp),
        ("npv_distribution", cmp),
        ("breakeven", cmp),
    ):
        with pytest.raises(UserError, match=rf"sim.plots.{chart} draws a .*, not a {type(wrong).__name__}"):
            getattr(sim.plots, chart)(wrong)
    psa = sim.psa(
        REPO_SCENARIOS / "municipality-uncertain.toml",
        REPO_SCENARIOS / "municipality-early-detection-uncertain.toml",
        draws=4,
    )
    with pytest.raises(UserError, match="not a PSAResult; a PSA's are shown with its comparison"):
        sim.key_figures(psa)
    with pytest.raises(UserError, match="not an int"):
        sim.key_figures(cmp, psa=5)
