"""Inline SVG charts for the what-if page: valid SVG on every edge case, geometry that matches the numbers,
Danish and English number formats."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from sim.serve import charts

SVG = "{http://www.w3.org/2000/svg}"
YEARS = list(range(2024, 2036))
WITHOUT = [12_000 + 30 * i for i in range(len(YEARS))]
WITH = [w - (0 if y < 2026 else 250 * (y - 2025)) for w, y in zip(WITHOUT, YEARS)]
CUMULATIVE = [-40e6, -90e6, -110e6, -80e6, -30e6, 20e6, 80e6, 150e6, 220e6, 290e6, 360e6, 430e6]
ITEMS = [
    ("Investering", -250e6),
    ("Early help in universal services", -40e6),
    ("Netværkspleje", 60e6),
    ("Hjemmebaserede foranstaltninger", 35e6),
    ("Residential care (institution, opholdssted)", 420e6),
    ("Foster family", -5e6),
]
PLACED_LABELS = {"without": "without", "with": "with", "start": "start", "axis": "Placed", "title": "Placed"}
JCURVE_LABELS = {"axis": "Cumulative", "payback": "pays back 2029", "title": "J-curve"}
WATERFALL_LABELS = {"axis": "NPV", "title": "Waterfall"}
BAD = re.compile(r"(?i)\bnan\b|\binf\b|infinity|∞")


def parse(svg: str) -> ET.Element:
    """The chart as XML, after checking what every chart must have."""
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img" and root.get("aria-label") is not None
    assert root.get("width") == "100%" and root.get("viewBox")
    title = root.find(SVG + "title")
    assert title is not None and title.text == root.get("aria-label")
    assert not BAD.search(svg), BAD.search(svg)
    return root


def by_class(root: ET.Element, *classes: str) -> list[ET.Element]:
    return [el for el in root.iter() if set(classes) <= set(el.get("class", "").split())]


def points(el: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in el.get("points", "").split()]  # type: ignore[misc]


def texts(root: ET.Element) -> list[str]:
    """Every text element's own text (not its tooltip)."""
    return [el.text or "" for el in root.iter(SVG + "text")]


def line_x(el: ET.Element) -> float:
    assert el.get("x1") == el.get("x2")
    return float(el.get("x1", "nan"))


# --- placed ---------------------------------------------------------------------------------------------


def test_placed_lines_end_labels_and_start_line():
    root = parse(charts.placed(YEARS, WITHOUT, WITH, 2026, PLACED_LABELS, "en"))
    (without,) = by_class(root, "series", "without")
    (with_,) = by_class(root, "series", "with")
    assert len(points(without)) == len(points(with_)) == len(YEARS)
    assert points(without)[-1][1] < points(with_)[-1][1]  # more children without the strategy: higher up
    xs = [x for x, _ in points(without)]
    assert xs == sorted(xs)
    (start,) = by_class(root, "start")
    i = YEARS.index(2026)
    assert xs[i - 1] < line_x(start) < xs[i + 1]
    assert line_x(start) == pytest.approx(xs[i], abs=0.02)
    assert "start" in texts(root)
    ends = {name: "".join(by_class(root, "end", name)[0].itertext()) for name in ("without", "with")}
    assert ends == {"without": f"without: {WITHOUT[-1]:,}", "with": f"with: {WITH[-1]:,}"}
    assert without.get("stroke") == charts.BASELINE and without.get("stroke-dasharray")
    assert with_.get("stroke") == charts.STRATEGY and not with_.get("stroke-dasharray")


def test_placed_higher_series_is_higher_whichever_it_is():
    root = parse(charts.placed(YEARS, WITH, WITHOUT, None, PLACED_LABELS, "en"))
    (without,) = by_class(root, "series", "without")
    (with_,) = by_class(root, "series", "with")
    assert points(with_)[-1][1] < points(without)[-1][1]
    assert not by_class(root, "start")


def test_placed_start_year_between_years():
    years = [2020, 2025, 2030]
    root = parse(charts.placed(years, [1, 2, 3], [1, 2, 2], 2027, PLACED_LABELS, "en"))
    xs = [x for x, _ in points(by_class(root, "series", "without")[0])]
    x = line_x(by_class(root, "start")[0])
    assert xs[1] < x < xs[2]
    assert x == pytest.approx(xs[1] + (xs[2] - xs[1]) * 2 / 5, abs=0.02)


def test_placed_end_labels_do_not_overlap_when_values_are_equal():
    root = parse(charts.placed(YEARS, WITHOUT, WITHOUT, None, PLACED_LABELS, "en"))
    y1, y2 = (float(by_class(root, "end", name)[0].get("y", "nan")) for name in ("without", "with"))
    assert abs(y1 - y2) >= charts.LABEL


@pytest.mark.parametrize(("lang", "shown"), [("da", "12.345"), ("en", "12,345")])
def test_placed_number_formats(lang, shown):
    root = parse(charts.placed([2024, 2025], [12_000, 12_345], [11_000, 11_500], 2025, PLACED_LABELS, lang))
    assert "".join(by_class(root, "end", "without")[0].itertext()) == f"without: {shown}"
    assert ("15.000" if lang == "da" else "15,000") in texts(root)  # a y tick


@pytest.mark.parametrize(
    ("years", "without", "with_", "start"),
    [
        ([2024, 2025, 2026], [0, 0, 0], [0, 0, 0], 2025),  # all zero
        ([2030], [500], [450], 2030),  # a single year
        ([2030], [500], [450], None),
        ([2024, 2025, 2026], [-5, -10, -3], [-6, -12, -2], 2025),  # negative only
        ([2024, 2025, 2026], [1e10, 2e10, 3e10], [1e10, 1.5e10, 2e10], 2025),  # very large
        ([2024, 2025, 2026], [10, 20, 30], [10, 15, 20], 2040),  # start after the years
        ([2024, 2025, 2026], [10, 20, 30], [10, 15, 20], 2000),  # start before the years
        ([2024, 2025, 2026], [10, None, 30], [float("nan"), 15, float("inf")], 2025),  # missing values
        ([2024, 2025, 2026], [None, None, None], [None, None, None], 2025),
        ([], [], [], None),
    ],
)
def test_placed_edge_cases(years, without, with_, start):
    root = parse(charts.placed(years, without, with_, start, PLACED_LABELS, "da"))
    if start is not None and years and not years[0] <= start <= years[-1]:
        assert not by_class(root, "start")


def test_placed_escapes_labels():
    labels = dict.fromkeys(PLACED_LABELS, "<&> \"'")
    root = parse(charts.placed(YEARS, WITHOUT, WITH, 2026, labels, "en"))
    assert root.find(SVG + "title").text == "<&> \"'"  # type: ignore[union-attr]
    assert "<&> \"'" in texts(root)


# --- J-curve --------------------------------------------------------------------------------------------


def test_jcurve_payback_line_at_payback_year():
    root = parse(charts.jcurve(YEARS, CUMULATIVE, 2029, "DKK", JCURVE_LABELS, "en"))
    (line,) = by_class(root, "series", "cumulative")
    pts = points(line)
    assert len(pts) == len(YEARS)
    (payback,) = by_class(root, "payback")
    assert line_x(payback) == pytest.approx(pts[YEARS.index(2029)][0], abs=0.02)
    assert "pays back 2029" in texts(root)
    (zero,) = by_class(root, "zero")
    y0 = float(zero.get("y1", "nan"))
    # savings below zero are drawn below the zero line, and above it above
    assert all((y > y0) == (v < 0) for (_, y), v in zip(pts, CUMULATIVE))
    assert by_class(root, "area")


def test_jcurve_fractional_payback():
    root = parse(charts.jcurve(YEARS, CUMULATIVE, 2028.25, "DKK", JCURVE_LABELS, "en"))
    pts = points(by_class(root, "series", "cumulative")[0])
    i = YEARS.index(2028)
    expected = pts[i][0] + 0.25 * (pts[i + 1][0] - pts[i][0])
    assert line_x(by_class(root, "payback")[0]) == pytest.approx(expected, abs=0.02)


@pytest.mark.parametrize(
    ("lang", "unit", "end"), [("da", "mio.\u00a0kr.", "430,0"), ("en", "DKK m", "430.0")]
)
def test_jcurve_money_axis(lang, unit, end):
    root = parse(charts.jcurve(YEARS, CUMULATIVE, 2029, "DKK", JCURVE_LABELS, lang))
    all_text = texts(root)
    assert any(t.startswith("Cumulative (") and unit.replace("\u00a0", " ") in t for t in all_text)
    assert any(end in t for t in all_text)  # the last value, in millions


def test_jcurve_end_reads_as_the_figure_above_it():
    """An axis in billions wrote the NPV of -746.3 m as "-0,75 mia. kr." under a card saying "-746,3 mio. kr."."""
    from sim.outputs import language as L

    values = [-1.2e9, -1.1e9, -0.9e9, -746.3e6]
    root = parse(charts.jcurve(YEARS[:4], values, None, "DKK", JCURVE_LABELS, "da"))
    assert L.money(-746.3e6, "da", "DKK") in texts(root)


@pytest.mark.parametrize("payback", [None, float("nan"), float("inf"), 1990, 2100])
def test_jcurve_without_payback_line(payback):
    root = parse(charts.jcurve(YEARS, CUMULATIVE, payback, "DKK", JCURVE_LABELS, "da"))
    assert not by_class(root, "payback")


@pytest.mark.parametrize(
    ("years", "values", "payback"),
    [
        ([2024, 2025, 2026], [0, 0, 0], None),
        ([2030], [-5e6], None),
        ([2030], [5e6], 2030),
        ([2024, 2025, 2026], [-1e6, -3e6, -2e6], None),
        ([2024, 2025, 2026], [-1e10, 2e10, 9e10], 2024.3),
        ([2024, 2025, 2026], [1.0, -1.0, 1.0], 2024.5),  # small amounts: plain currency units
        ([2024, 2025, 2026], [None, float("nan"), 3e6], None),
        ([], [], None),
    ],
)
def test_jcurve_edge_cases(years, values, payback):
    parse(charts.jcurve(years, values, payback, "EUR", {**JCURVE_LABELS, "title": "<&>"}, "da"))


# --- waterfall ------------------------------------------------------------------------------------------


def bar_span(rect: ET.Element) -> tuple[float, float]:
    """(top, bottom) in SVG coordinates."""
    y, h = float(rect.get("y", "nan")), float(rect.get("height", "nan"))
    assert h >= 0
    return y, y + h


def check_waterfall(root: ET.Element, values: list[float], tol: float = 0.05) -> None:
    """Each item floats from the running total, and the total stands on zero, all on one scale.

    The scale (pixels per currency unit) is taken from the tallest bar; ``tol`` is in pixels.
    """
    items = by_class(root, "bar", "item")
    (total,) = by_class(root, "bar", "total")
    assert len(items) == len(values)
    (zero,) = by_class(root, "zero")
    y0 = float(zero.get("y1", "nan"))
    s = sum(values)
    spans = [bar_span(r) for r in (*items, total)]
    tallest = max(range(len(spans)), key=lambda i: spans[i][1] - spans[i][0])
    amount = abs([*values, s][tallest])
    px = (spans[tallest][1] - spans[tallest][0]) / amount if amount else 0.0  # pixels per currency unit
    top, bottom = spans[-1]
    assert (bottom if s >= 0 else top) == pytest.approx(y0, abs=0.02)  # the total stands on zero
    assert bottom - top == pytest.approx(px * abs(s), abs=tol)
    running = 0.0
    previous_end: float | None = None
    for rect, v, (top, bottom) in zip(items, values, spans):
        start, end = (bottom, top) if v >= 0 else (top, bottom)
        if previous_end is not None:
            assert start == pytest.approx(previous_end, abs=0.03)  # floats from where the last bar ended
        assert start == pytest.approx(y0 - px * running, abs=tol)
        assert end == pytest.approx(y0 - px * (running + v), abs=tol)
        assert rect.get("fill") == (charts.POSITIVE if v >= 0 else charts.NEGATIVE)
        running += v
        previous_end = end
    assert total.get("fill") == "#ffffff" and total.get("stroke") == "#000000"


def test_waterfall_geometry():
    values = [v for _, v in ITEMS]
    root = parse(charts.waterfall(ITEMS, "Net present value", "DKK", WATERFALL_LABELS, "en"))
    check_waterfall(root, values)
    all_text = texts(root)
    assert "-250.0" in all_text and "+420.0" in all_text and "220.0" in all_text  # in DKK m
    assert "NPV (DKK m)" in all_text
    assert "Netværkspleje" in all_text  # one short word: one line
    # long names are wrapped, not lost: their words all appear, spread over the lines
    assert all(w in " ".join(all_text) for w in "Early help in universal services".split())


def test_waterfall_total_bar_height_is_the_sum():
    items = [("a", -100.0), ("b", 300.0), ("c", 50.0)]
    root = parse(charts.waterfall(items, "total", "DKK", WATERFALL_LABELS, "en"))
    check_waterfall(root, [-100.0, 300.0, 50.0])
    (total,) = by_class(root, "bar", "total")
    (b,) = [r for r in by_class(root, "bar", "item") if r.find(SVG + "title").text.startswith("b:")]  # type: ignore[union-attr]
    top, bottom = bar_span(total)
    btop, bbottom = bar_span(b)
    assert (bottom - top) / (bbottom - btop) == pytest.approx(250 / 300, rel=1e-3)


@pytest.mark.parametrize(("lang", "shown"), [("da", "12.345"), ("en", "12,345")])
def test_waterfall_number_formats(lang, shown):
    root = parse(charts.waterfall([("a", 12_345.0)], "total", "DKK", WATERFALL_LABELS, lang))
    assert "+" + shown in texts(root) and shown in texts(root)


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 0.0, 0.0],
        [5.0],
        [-1e6, -2e6, -0.5e6],
        [-3e10, 1e10, 5e10],
        [1e-3, -1e-3],
        [100.0, -100.0],  # sums to zero
        [1e6, float("nan"), None, 2e6],
    ],
)
def test_waterfall_edge_cases(values):
    items = [(f"step {i}", v) for i, v in enumerate(values)]
    root = parse(charts.waterfall(items, "<total>", "DKK", {"axis": "<&>", "title": "<&>"}, "da"))
    check_waterfall(root, [v if v is not None and math.isfinite(v) else 0.0 for v in values])
    assert "<total>" in texts(root)


def test_waterfall_empty():
    root = parse(charts.waterfall([], "total", "DKK", WATERFALL_LABELS, "en"))
    assert not by_class(root, "bar")
    assert texts(root)


def test_waterfall_very_long_names_stay_in_their_slot():
    items = [(name * 3, 1e6) for name in ("Anbringelsesforanstaltninger ", "x" * 60, "Early help ")] * 3
    root = parse(charts.waterfall(items, "total", "DKK", WATERFALL_LABELS, "en"))
    lines = [el for el in root.iter(SVG + "text") if el.find(SVG + "title") is not None]
    assert lines and all(el.get("text-anchor") == "middle" for el in lines)
    assert max(len(el.text or "") for el in lines) < 30


# --- any data -------------------------------------------------------------------------------------------

amounts = hs.one_of(
    hs.floats(min_value=-1e13, max_value=1e13, allow_nan=False),
    hs.sampled_from([0.0, -0.0, float("nan"), 1e-300]),
)


@settings(max_examples=80, deadline=None)
@given(
    a=hs.lists(amounts, min_size=1, max_size=40),
    b=hs.lists(amounts, min_size=1, max_size=40),
    first=hs.integers(1990, 2060),
    payback=hs.one_of(hs.none(), hs.floats(allow_nan=True)),
    lang=hs.sampled_from(["da", "en"]),
)
def test_any_series_makes_valid_svg(a, b, first, payback, lang):
    years = list(range(first, first + len(a)))
    parse(charts.placed(years, a, b[: len(a)] + a[len(b) :], first + len(a) // 2, PLACED_LABELS, lang))
    parse(charts.jcurve(years, a, payback, "DKK", JCURVE_LABELS, lang))
    items = [(f"step {i}", v) for i, v in enumerate(b)]
    root = parse(charts.waterfall(items, "total", "DKK", WATERFALL_LABELS, lang))
    check_waterfall(root, [v if math.isfinite(v) else 0.0 for v in b], tol=1.0)


@pytest.mark.parametrize("start", [2024, 2025])
def test_a_start_label_near_the_axis_starts_at_its_line_clear_of_the_tick_labels(start):
    """Centred on a line in the first years, "strategien starter 2025" ran over the y-axis's labels."""
    labels = {**PLACED_LABELS, "start": "strategien starter " + str(start)}
    root = parse(charts.placed(YEARS, WITHOUT, WITH, start, labels, "da"))
    x = line_x(by_class(root, "start")[0])
    (label,) = [el for el in root.iter(SVG + "text") if (el.text or "").startswith("strategien")]
    ticks = [
        el
        for el in root.iter(SVG + "text")
        if el.get("text-anchor") == "end" and (el.text or "")[:1].isdigit()
    ]
    right_of_ticks = max(float(el.get("x")) for el in ticks)
    assert label.get("text-anchor") == "start" and float(label.get("x")) >= right_of_ticks
    assert float(label.get("x")) == pytest.approx(x - 4, abs=0.01)
