"""Small inline SVG charts for the live what-if page: placed children, the J-curve and the NPV waterfall.

Every chart is a string of SVG built by hand, so a redraw on each slider move
costs about a millisecond: no matplotlib, no numpy. The SVG scales with its
container (``viewBox``, ``width="100%"``), uses the system sans-serif font,
carries a ``<title>`` plus ``role="img"`` and ``aria-label``, and takes every
number through :mod:`sim.outputs.language`, so Danish pages show "12.345" and
"12,3 mio. kr.".

Elements carry classes a page (or a test) can find them by: ``series
without``/``series with`` (the lines), ``start``, ``payback``, ``zero``,
``bar item``/``bar total``.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Mapping, Sequence

from sim.outputs import language as L

__all__ = ["jcurve", "placed", "waterfall"]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
BASELINE = "#737373"
STRATEGY = "#00204c"
POSITIVE = "#2e7d32"
NEGATIVE = "#b23b3b"
GRID = "#e3e3e3"
ZERO = "#4d4d4d"
INK = "#222222"
MUTED = "#555555"
WIDTH = 960
"""Width of every chart's viewBox: font sizes below are in these units."""
TICK = 14  # font size of tick labels
LABEL = 15  # font size of series and annotation labels
_EMPTY = {"da": "Intet at vise", "en": "Nothing to show"}

# Approximate advance widths (in em) of a sans-serif font, to keep labels apart without measuring text.
_NARROW = set("iljtfrI.,:;'|!()[] ")
_WIDE = set("mwMW@%")


SOFT_HYPHEN = "\u00ad"
"""Where a long word may break ("Netto\u00adnutidsværdi"): never drawn, preferred when hyphenating."""


def _e(text: object) -> str:
    try:
        return _escaped(text)
    except TypeError:  # not hashable: not kept
        return _escaped.__wrapped__(text)


@functools.lru_cache(maxsize=4096, typed=True)
def _escaped(text: object) -> str:
    """:func:`_e`, kept: labels, colours and tick values repeat from one redraw to the next (typed: 1 is not 1.0)."""
    return html.escape(str(text).replace(SOFT_HYPHEN, ""), quote=True)


_c = "{:.2f}".format
"""A coordinate with two decimals (``f"{v:.2f}"``; a bound method: hundreds a redraw, without a frame each)."""


def _finite(x: object) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@functools.lru_cache(maxsize=8192)
def _width(text: str, size: float, bold: bool = False) -> float:
    """Rough rendered width of ``text`` at font ``size``, erring wide (as for DejaVu Sans or Verdana)."""
    em = 0.0
    for ch in text.replace(SOFT_HYPHEN, ""):
        if ch in _NARROW:
            em += 0.34
        elif ch in _WIDE:
            em += 0.9
        elif ch.isupper():
            em += 0.7
        else:
            em += 0.6
    return em * size * (1.18 if bold else 1.0)


@functools.lru_cache(maxsize=4096)
def _number(x: float, lang: str, decimals: int = 0, signed: bool = False) -> str:
    """:func:`L.number`, cached: tick values repeat from one redraw to the next."""
    if not math.isfinite(x):
        return "–"
    return L.number(x, lang, decimals, signed)


@functools.lru_cache(maxsize=4096)
def _money(x: float, lang: str, currency: str) -> str:
    """:func:`L.money`, cached, for tooltips."""
    return L.money(x, lang, currency)


def _nice(lo: float, hi: float, target: int = 5) -> tuple[float, float, float, list[float]]:
    """An axis covering ``lo..hi`` and zero, with about ``target`` steps of 1, 2 or 5 times a power of ten.

    Returns the axis's low end, high end, step and ticks.
    """
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo < 1e-9:
        lo, hi = (-1.0, 0.0) if lo < 0 else (0.0, 1.0)
    raw = (hi - lo) / target
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * (1 - 1e-12))
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    ticks = [i * step for i in range(first, last + 1)]
    return first * step, last * step, step, ticks


def _decimals(step: float) -> int:
    """Decimals needed to tell ticks ``step`` apart."""
    return max(0, min(6, -math.floor(math.log10(step) + 1e-9)))


def _money_scale(biggest: float) -> tuple[str, float]:
    """The one unit for a money axis: units, millions or billions."""
    if biggest >= 1e9:
        return "bn", 1e9
    if biggest >= 1e6:
        return "m", 1e6
    return "units", 1.0


def _open(height: float, title: str) -> list[str]:
    t = _e(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_c(height)}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" style="display:block;width:100%;height:auto" '
        f'role="img" aria-label="{t}" font-family="{FONT}" font-size="{TICK}" fill="{INK}">',
        f"<title>{t}</title>",
    ]


def _empty(title: str, lang: str) -> str:
    parts = _open(160, title)
    parts.append(
        f'<text x="{WIDTH / 2}" y="86" text-anchor="middle" font-size="{LABEL}" fill="{MUTED}">'
        f"{_e(_EMPTY.get(lang, _EMPTY['en']))}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _text(x: float, y: float, text: str, anchor: str = "start", size: float = TICK, **attrs: str) -> str:
    extra = _attributes(tuple(attrs.items())) if attrs else ""
    return f'<text x="{_c(x)}" y="{_c(y)}" text-anchor="{anchor}" font-size="{size}"{extra}>{_e(text)}</text>'


@functools.lru_cache(maxsize=256)
def _attributes(items: tuple[tuple[str, str], ...]) -> str:
    """A text's extra attributes, written (kept: the same few styles on every redraw)."""
    return "".join(f' {k.replace("_", "-")}="{_e(v)}"' for k, v in items)


def _halo() -> dict[str, str]:
    """A white outline behind text that may cross gridlines."""
    return {"stroke": "#ffffff", "stroke_width": "4", "stroke_linejoin": "round", "paint_order": "stroke"}


def _y_axis(
    parts: list[str],
    ticks: list[float],
    span: tuple[float, float, float, float],
    left: float,
    right: float,
    labels: list[str],
) -> None:
    """Gridlines and tick labels; the zero line is drawn later, over the data's fills.

    ``span`` is ``(lo, hi, top, bottom)``: tick ``t`` sits at ``bottom - (t - lo) / (hi - lo) *
    (bottom - top)``, as the chart's values do.
    """
    parts.extend(_y_ticks(tuple(ticks), span, left, right, tuple(labels)))


@functools.lru_cache(maxsize=256)
def _y_ticks(
    ticks: tuple[float, ...],
    span: tuple[float, float, float, float],
    left: float,
    right: float,
    labels: tuple[str, ...],
) -> tuple[str, ...]:
    """:func:`_y_axis`'s elements, kept: most redraws have the axis of the one before."""
    lo, hi, top, bottom = span
    parts = []
    for t, text in zip(ticks, labels):
        y = bottom - (t - lo) / (hi - lo) * (bottom - top)
        if abs(t) > 1e-12 * max(1.0, abs(ticks[-1] - ticks[0])):
            parts.append(
                f'<line x1="{_c(left)}" x2="{_c(right)}" y1="{_c(y)}" y2="{_c(y)}" stroke="{GRID}" '
                f'stroke-width="1"/>'
            )
        parts.append(_text(left - 8, y + TICK * 0.35, text, "end", fill=MUTED))
    return tuple(parts)


def _zero(parts: list[str], y: float, left: float, right: float) -> None:
    parts.append(
        f'<line class="zero" x1="{_c(left)}" x2="{_c(right)}" y1="{_c(y)}" y2="{_c(y)}" stroke="{ZERO}" '
        f'stroke-width="1.3"/>'
    )


def _year_domain(years: Sequence[float]) -> tuple[float, float]:
    y0, y1 = min(years), max(years)
    return (y0 - 1, y1 + 1) if y1 == y0 else (y0, y1)


def _year_ticks(y0: int, y1: int, span: float) -> list[int]:
    """Years to label: multiples of 1, 2, 5, 10 ... that fit side by side in ``span``."""
    room = _width("2000", TICK) + 14
    fits = max(1, int(span // room))
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        ticks = [y for y in range(y0, y1 + 1) if y % step == 0]
        if len(ticks) <= fits:
            return ticks or [y0]
    return [y0]


def _x_axis(
    parts: list[str],
    years: Sequence[int],
    domain: tuple[float, float],
    left: float,
    right: float,
    bottom: float,
) -> None:
    """Year ticks and labels; year ``y`` sits at ``left + (y - x0) / (x1 - x0) * (right - left)`` for
    ``domain`` ``(x0, x1)``, as the chart's values do."""
    first, last = int(math.ceil(min(years))), int(math.floor(max(years)))
    parts.extend(_x_ticks(first, last, domain, left, right, bottom))


@functools.lru_cache(maxsize=256)
def _x_ticks(
    first: int, last: int, domain: tuple[float, float], left: float, right: float, bottom: float
) -> tuple[str, ...]:
    """:func:`_x_axis`'s elements, kept: the years and the plot's width rarely change between redraws."""
    x0, x1 = domain
    parts = []
    for y in _year_ticks(first, last, right - left):
        x = left + (y - x0) / (x1 - x0) * (right - left)
        parts.append(
            f'<line x1="{_c(x)}" x2="{_c(x)}" y1="{_c(bottom)}" y2="{_c(bottom + 5)}" stroke="{ZERO}"/>'
        )
        parts.append(_text(x, bottom + 8 + TICK, str(y), "middle", fill=MUTED))
    return tuple(parts)


def _spread(ys: list[float], gap: float, top: float, bottom: float) -> list[float]:
    """Move label positions apart (keeping their order) so that neighbours are ``gap`` apart."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [ys[i] for i in order]
    for _ in range(len(placed) + 1):
        for k in range(1, len(placed)):
            overlap = gap - (placed[k] - placed[k - 1])
            if overlap > 0:
                placed[k - 1] -= overlap / 2
                placed[k] += overlap / 2
        shift = max(0.0, top - placed[0]) if placed else 0.0
        shift -= max(0.0, placed[-1] - bottom) if placed else 0.0
        placed = [p + shift for p in placed]
    out = [0.0] * len(ys)
    for k, i in enumerate(order):
        out[i] = placed[k]
    return out


def _runs(xs: list[float], vs: list[float | None]) -> list[list[tuple[float, float]]]:
    """Consecutive finite points, as separate runs, so a missing value breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, v in zip(xs, vs):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, v))
    return [r for r in runs if r]


def _vline(parts: list[str], cls: str, x: float, top: float, bottom: float, dash: str, colour: str) -> None:
    parts.append(
        f'<line class="{cls}" x1="{_c(x)}" x2="{_c(x)}" y1="{_c(top)}" y2="{_c(bottom)}" stroke="{colour}" '
        f'stroke-width="1.6" stroke-dasharray="{dash}"/>'
    )


def _annotate(parts: list[str], x: float, y: float, text: str, colour: str, left: float = 6) -> None:
    """A label above the plot at ``x``, kept inside the chart and clear of the y-axis's labels
    (left of ``left``): there it starts at its line rather than centred on it."""
    w = _width(text, LABEL)
    if x + w / 2 > WIDTH - 6:
        parts.append(_text(WIDTH - 6, y, text, "end", LABEL, fill=colour))
    elif x - w / 2 < left:
        parts.append(_text(max(x - 4, 6), y, text, "start", LABEL, fill=colour))
    else:
        parts.append(_text(x, y, text, "middle", LABEL, fill=colour))


# Rows above every line chart: the axis title, then a row for the start or payback label.
_AXIS_ROW = 20
_NOTE_ROW = 46
_TOP = 60
_BOTTOM = 40
_LINE_HEIGHT = 430


def placed(
    years: Sequence[int],
    without: Sequence[float],
    with_: Sequence[float],
    start_year: int | None,
    labels: Mapping[str, str],
    lang: str,
) -> str:
    """Placed children at 31 December per calendar year, without and with the strategy.

    Two lines (without: grey, dashed; with: navy, solid), each named at its right end
    with its last value, e.g. "without: 12.345", and a vertical dotted line at the
    strategy's start year, labelled ``labels["start"]``, when that year lies within
    ``years``. The y-axis starts at zero.

    Parameters
    ----------
    years : sequence of int
        Calendar years, ascending.
    without, with_ : sequence of float
        Placed children in each year; a missing (None or NaN) value breaks the line.
    start_year : int or None
        First year of the strategy.
    labels : mapping
        Keys "without", "with", "start", "axis" (y-axis title) and "title" (the SVG's title).
    lang : {"da", "en"}
        Language of the number formats.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    title = labels.get("title", "")
    n = min(len(years), len(without), len(with_))
    if n == 0:
        return _empty(title, lang)
    yrs = [float(y) for y in years[:n]]
    series = {
        "without": [_finite(v) for v in without[:n]],
        "with": [_finite(v) for v in with_[:n]],
    }
    values = [v for s in series.values() for v in s if v is not None]
    lo, hi, step, ticks = _nice(min(values, default=0.0), max(values, default=0.0))
    decimals = _decimals(step)
    tick_labels = [_number(t, lang, decimals) for t in ticks]

    ends: dict[str, tuple[float, float, str]] = {}  # name -> (last x-year, last value, label)
    for name, vs in series.items():
        last = next(((yrs[i], v) for i in range(n - 1, -1, -1) if (v := vs[i]) is not None), None)
        if last is not None:
            text = f"{labels.get(name, name)}: {_number(last[1], lang)}"
            ends[name] = (last[0], last[1], text)

    left = max(_width(t, TICK) for t in tick_labels) + 18
    right_room = max((_width(e[2], LABEL, bold=True) for e in ends.values()), default=0.0) + 22
    right = WIDTH - min(right_room, WIDTH * 0.4)
    top, bottom = _TOP, _LINE_HEIGHT - _BOTTOM
    x0, x1 = _year_domain(yrs)

    def x_of(year: float) -> float:
        return left + (year - x0) / (x1 - x0) * (right - left)

    def y_of(v: float) -> float:
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    parts = _open(_LINE_HEIGHT, title)
    parts.append(_text(left - 8, _AXIS_ROW, labels.get("axis", ""), "start", TICK, fill=MUTED))
    _y_axis(parts, ticks, (lo, hi, top, bottom), left, right, tick_labels)
    _x_axis(parts, [int(y) for y in yrs], (x0, x1), left, right, bottom)
    _zero(parts, y_of(0.0), left, right)

    if start_year is not None and _finite(start_year) is not None and yrs[0] <= start_year <= yrs[-1]:
        xs = x_of(float(start_year))
        _vline(parts, "start", xs, top - 6, bottom, "2 4", INK)
        _annotate(parts, xs, _NOTE_ROW, labels.get("start", ""), INK, left)

    style = {
        "without": (BASELINE, 'stroke-dasharray="7 5" stroke-width="2.5"'),
        "with": (STRATEGY, 'stroke-width="3"'),
    }
    xs = [x_of(y) for y in yrs]  # both lines' years
    for name, vs in series.items():
        colour, stroke = style[name]
        for run in _runs(xs, vs):
            pts = " ".join(f"{x:.2f},{y_of(v):.2f}" for x, v in run)  # as _c writes them
            parts.append(
                f'<polyline class="series {name}" points="{pts}" fill="none" stroke="{colour}" {stroke} '
                f'stroke-linejoin="round" stroke-linecap="round"/>'
            )
        if name in ends:
            ex, ev, _ = ends[name]
            parts.append(f'<circle cx="{_c(x_of(ex))}" cy="{_c(y_of(ev))}" r="4" fill="{colour}"/>')

    names = list(ends)
    spread = _spread([y_of(ends[k][1]) for k in names], LABEL * 1.3, top, bottom)
    for name, ly in zip(names, spread):
        ex, _, text = ends[name]
        parts.append(
            _text(
                x_of(ex) + 10,
                ly + LABEL * 0.35,
                text,
                "start",
                LABEL,
                fill=style[name][0],
                font_weight="600",
                **{"class": f"end {name}"},
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def _split_at_zero(run: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The run with a point added wherever it crosses zero between two points."""
    out: list[tuple[float, float]] = []
    for k, (x, v) in enumerate(run):
        if k:
            px, pv = run[k - 1]
            if (pv < 0 < v) or (v < 0 < pv):
                out.append((px + (x - px) * pv / (pv - v), 0.0))
        out.append((x, v))
    return out


def jcurve(
    years: Sequence[int],
    cumulative: Sequence[float],
    payback_year: float | None,
    currency: str,
    labels: Mapping[str, str],
    lang: str,
) -> str:
    """Cumulative discounted net savings per year: the J-curve.

    One navy line with a dot per year, a zero line, the area below zero lightly red
    and above lightly green, the last value written at the right end, and, if
    ``payback_year`` is a finite number within the years, a vertical dashed line at
    it labelled ``labels["payback"]``. The y-axis is in one money unit (units,
    millions or billions, whichever suits the largest amount), named after
    ``labels["axis"]`` in brackets.

    Parameters
    ----------
    years : sequence of int
        Calendar years, ascending.
    cumulative : sequence of float
        Cumulative discounted net savings at the end of each year; a missing value breaks the line.
    payback_year : float or None
        The (possibly fractional) year the savings pass zero; None or NaN for never.
    currency : str
        ISO code, e.g. "DKK".
    labels : mapping
        Keys "axis", "payback" (already containing the year) and "title".
    lang : {"da", "en"}
        Language of the number formats.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    title = labels.get("title", "")
    n = min(len(years), len(cumulative))
    if n == 0:
        return _empty(title, lang)
    yrs = [float(y) for y in years[:n]]
    vs = [_finite(v) for v in cumulative[:n]]
    values = [v for v in vs if v is not None]
    scale, div = _money_scale(max((abs(v) for v in values), default=0.0))
    lo, hi, step, ticks = _nice(min(values, default=0.0) / div, max(values, default=0.0) / div)
    decimals = _decimals(step)
    tick_labels = [_number(t, lang, decimals) for t in ticks]
    last = next(((yrs[i], v) for i in range(n - 1, -1, -1) if (v := vs[i]) is not None), None)
    # The end is the NPV: written as the figure above the chart writes it (its own unit, "-746,3 mio.
    # kr." under an axis in mia.), so that the two read the same.
    end_text = L.money(last[1], lang, currency) if last else ""

    left = max(_width(t, TICK) for t in tick_labels) + 18
    right = WIDTH - min(_width(end_text, LABEL, bold=True) + 24, WIDTH * 0.35)
    top, bottom = _TOP, _LINE_HEIGHT - _BOTTOM
    x0, x1 = _year_domain(yrs)

    def x_of(year: float) -> float:
        return left + (year - x0) / (x1 - x0) * (right - left)

    def y_of(v: float) -> float:
        return bottom - (v / div - lo) / (hi - lo) * (bottom - top)

    parts = _open(_LINE_HEIGHT, title)
    axis = f"{labels.get('axis', '')} ({L.money_unit(currency, lang, scale)})"
    parts.append(_text(left - 8, _AXIS_ROW, axis, "start", TICK, fill=MUTED))
    _y_axis(parts, ticks, (lo, hi, top, bottom), left, right, tick_labels)
    _x_axis(parts, [int(y) for y in yrs], (x0, x1), left, right, bottom)

    y0 = y_of(0.0)
    xs = [x_of(y) for y in yrs]
    runs = _runs(list(range(n)), vs)  # by index: the areas, the line and its dots share them
    # Each point's coordinates as written (as _c writes them): the line and its dots share them.
    cx = [f"{x:.2f}" for x in xs]
    cy = [f"{y_of(v):.2f}" if v is not None else "" for v in vs]
    for run in runs:
        if len(run) < 2:
            continue
        pts = _split_at_zero([(xs[i], v) for i, v in run])
        for sign, colour in ((1, POSITIVE), (-1, NEGATIVE)):
            if not any(sign * v > 0 for _, v in pts):
                continue
            edge = " ".join(f"{x:.2f},{y_of(max(0.0, v) if sign > 0 else min(0.0, v)):.2f}" for x, v in pts)
            parts.append(
                f'<polygon class="area" points="{_c(pts[0][0])},{_c(y0)} {edge} {_c(pts[-1][0])},{_c(y0)}" '
                f'fill="{colour}" fill-opacity="0.12" stroke="none"/>'
            )
    _zero(parts, y0, left, right)

    pb = _finite(payback_year)
    if pb is not None and yrs[0] <= pb <= yrs[-1]:
        xp = x_of(pb)
        _vline(parts, "payback", xp, top - 6, bottom, "6 4", POSITIVE)
        _annotate(parts, xp, _NOTE_ROW, labels.get("payback", ""), POSITIVE, left)

    for run in runs:
        pts = " ".join(f"{cx[i]},{cy[i]}" for i, _ in run)
        parts.append(
            f'<polyline class="series cumulative" points="{pts}" fill="none" stroke="{STRATEGY}" '
            f'stroke-width="3" stroke-linejoin="round" stroke-linecap="round"/>'
        )
    dot = 3.5 if n <= 40 else 2.0
    for i, (year, v) in enumerate(zip(yrs, vs)):
        if v is not None:
            parts.append(
                f'<circle cx="{cx[i]}" cy="{cy[i]}" r="{dot}" fill="{STRATEGY}" '
                f'stroke="#ffffff" stroke-width="1">'
                f"<title>{_e(int(year))}: {_e(_money(v, lang, currency))}</title></circle>"
            )
    if last:
        parts.append(
            _text(
                x_of(last[0]) + 10,
                y_of(last[1]) + LABEL * 0.35,
                end_text,
                "start",
                LABEL,
                fill=STRATEGY,
                font_weight="600",
                **{"class": "end"},
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def _wrap(name: str, size: float, room: float, max_lines: int, bold: bool = False) -> list[str] | None:
    """``name`` on as few lines (up to ``max_lines``) as fit in ``room``; None if it does not fit."""
    words = name.split() or [""]
    for k in range(1, min(max_lines, len(words)) + 1):
        best: list[str] | None = None
        best_w = math.inf
        for cut in _cuts(len(words), k):
            lines = [" ".join(words[a:b]) for a, b in zip((0, *cut), (*cut, len(words)))]
            w = max(_width(line, size, bold) for line in lines)
            if w < best_w:
                best, best_w = lines, w
        if best is not None and best_w <= room:
            return best
    return None


def _cuts(n: int, k: int) -> list[tuple[int, ...]]:
    """Every way to cut ``n`` words into ``k`` non-empty lines, as the cut positions."""
    if k == 1:
        return [()]
    if k == 2:
        return [(i,) for i in range(1, n)]
    return [(i, j) for i in range(1, n - 1) for j in range(i + 1, n)]


_VOWELS = set("aeiouyæøåAEIOUYÆØÅ")


def _hyphenate(word: str, size: float, room: float, bold: bool) -> list[str]:
    """A word too long for ``room`` in pieces ending in "-": cut before a consonant followed by a
    vowel (as in "foranstalt-ninger"), nearest the middle, else as late as fits."""
    if _width(word, size, bold) <= room or len(word) < 6:
        return [word]
    if SOFT_HYPHEN in word:  # the caller knows where the word breaks: the latest such place that fits
        marks = [
            i for i, ch in enumerate(word) if ch == SOFT_HYPHEN and _width(word[:i] + "-", size, bold) <= room
        ]
        if marks:
            cut = marks[-1]
            return [word[:cut] + "-", *_hyphenate(word[cut + 1 :], size, room, bold)]
    fits = [i for i in range(3, len(word) - 2) if _width(word[:i] + "-", size, bold) <= room]
    if not fits:
        return [word]
    good = [
        i
        for i in fits
        if word[i - 1] in _VOWELS and word[i] not in _VOWELS and word[i + 1] in _VOWELS and word[i].isalpha()
    ]
    cut = min(good, key=lambda i: abs(i - len(word) / 2)) if good else fits[-1]
    return [word[:cut] + "-", *_hyphenate(word[cut:], size, room, bold)]


def _clip(line: str, size: float, room: float, bold: bool) -> str:
    if _width(line, size, bold) <= room:
        return line
    while line and _width(line + "…", size, bold) > room:
        line = line[:-1]
    return line.rstrip() + "…"


def _fill(name: str, size: float, room: float, bold: bool, max_lines: int = 3) -> list[str]:
    """Last resort for a name that does not wrap: hyphenate long words, fill lines greedily, and cut
    what is left after ``max_lines`` short with an ellipsis."""
    tokens = [piece for word in name.split() for piece in _hyphenate(word, size, room, bold)]
    lines: list[str] = []
    for tok in tokens:
        joined = f"{lines[-1]} {tok}" if lines and not lines[-1].endswith("-") else None
        if joined is not None and _width(joined, size, bold) <= room:
            lines[-1] = joined
        else:
            lines.append(tok)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :]) + "…"]
    return [_clip(line, size, room, bold) for line in lines] or [""]


@functools.lru_cache(maxsize=256)
def _categories(names: tuple[str, ...], room: float) -> tuple[float, list[list[str]]]:
    """One font size for all category names (the last, the total, in bold) and each name's lines:
    two lines if possible, else three, else hyphenated, else cut short with an ellipsis."""
    bold = [False] * (len(names) - 1) + [True]
    for max_lines, sizes in ((2, (13.0, 12.0)), (3, (13.0, 12.0, 11.0))):
        for size in sizes:
            wrapped = [_wrap(nm, size, room, max_lines, b) for nm, b in zip(names, bold)]
            if all(w is not None for w in wrapped):
                return size, wrapped  # type: ignore[return-value]
    size = 11.0
    return size, [_wrap(nm, size, room, 3, b) or _fill(nm, size, room, b) for nm, b in zip(names, bold)]


def waterfall(
    items: Sequence[tuple[str, float]],
    total_label: str,
    currency: str,
    labels: Mapping[str, str],
    lang: str,
) -> str:
    """Net present value built up, as a waterfall.

    Each item is a bar floating from the running total (green when positive, red when
    negative), in order; then a white total bar with a black outline from zero to the
    sum, named ``total_label``. Each bar's value is written outside its end, in the
    axis's money unit (skipped where the bar is too narrow for it); category names
    sit under the bars, wrapped onto two lines (three if they must, then cut short
    with the full name as a tooltip). The y-axis includes zero.

    Parameters
    ----------
    items : sequence of (str, float)
        Category name and amount, in order; usually the investment (negative) first.
        A missing (None, NaN) amount counts as zero and gets no value label.
    total_label : str
        Name of the total bar.
    currency : str
        ISO code, e.g. "DKK".
    labels : mapping
        Keys "axis" (y-axis title; the unit is added in brackets) and "title".
    lang : {"da", "en"}
        Language of the number formats.

    Returns
    -------
    str
        An ``<svg>`` element; with no items, one that says there is nothing to show.
    """
    title = labels.get("title", "")
    if not items:
        return _empty(title, lang)
    names = [str(nm) for nm, _ in items] + [str(total_label)]
    raw = [_finite(v) for _, v in items]
    amounts = [v if v is not None else 0.0 for v in raw]
    ends = [0.0]
    for v in amounts:
        ends.append(ends[-1] + v)
    total = ends[-1]
    bars = [(ends[i], ends[i + 1]) for i in range(len(amounts))] + [(0.0, total)]

    scale, div = _money_scale(max(max(abs(e) for e in ends), max(abs(v) for v in amounts)))
    lo = min(min(a, b) for a, b in bars) / div
    hi = max(max(a, b) for a, b in bars) / div

    height = 470.0
    n = len(bars)
    top = 44.0
    # Room for the value labels outside the bars' ends: pad the data range until the chosen axis leaves
    # ``need`` pixels beyond the highest and lowest bar (a label above, or below, each).
    need = LABEL + 12
    up = any(v >= 0 for v in amounts) or total >= 0
    down = any(v < 0 for v in amounts) or total < 0
    span = max(hi - lo, 1e-9)
    pad = span * need / 300
    for _ in range(8):
        lo_t, hi_t, step, ticks = _nice(lo - (pad if down else 0.0), hi + (pad if up else 0.0))
        decimals = _decimals(step)
        tick_labels = [_number(t, lang, decimals) for t in ticks]
        left = max(_width(t, TICK) for t in tick_labels) + 18
        right = WIDTH - 16
        slot = (right - left) / n
        size, wrapped = _categories(tuple(names), round(slot - 8, 1))
        bottom = height - (14 + max(len(w) for w in wrapped) * size * 1.2)
        px = (bottom - top) / (hi_t - lo_t)
        if (not up or (hi_t - hi) * px >= need) and (not down or (lo - lo_t) * px >= need):
            break
        pad *= 1.6
    value_decimals = max(decimals, {"units": 0, "m": 1, "bn": 2}[scale])

    def y_of(v: float) -> float:
        return bottom - (v / div - lo_t) / (hi_t - lo_t) * (bottom - top)

    parts = _open(height, title)
    axis = f"{labels.get('axis', '')} ({L.money_unit(currency, lang, scale)})"
    parts.append(_text(left - 8, _AXIS_ROW, axis, "start", TICK, fill=MUTED))
    _y_axis(parts, ticks, (lo_t, hi_t, top, bottom), left, right, tick_labels)

    bar_w = min(slot * 0.64, 110.0)
    texts: list[str] = []
    for i, (a, b) in enumerate(bars):
        is_total = i == n - 1
        cx = left + slot * (i + 0.5)
        ya, yb = y_of(a), y_of(b)
        y, h = min(ya, yb), abs(ya - yb)
        value = total if is_total else amounts[i]
        if is_total:
            fill = 'fill="#ffffff" stroke="#000000" stroke-width="1.5"'
            cls = "bar total"
        else:
            fill = f'fill="{POSITIVE if value >= 0 else NEGATIVE}"'
            cls = "bar item"
        tip = f"{names[i]}: {_money(value, lang, currency) if is_total or raw[i] is not None else '–'}"
        parts.append(
            f'<rect class="{cls}" x="{_c(cx - bar_w / 2)}" y="{_c(y)}" width="{_c(bar_w)}" height="{_c(h)}" '
            f"{fill}><title>{_e(tip)}</title></rect>"
        )
        if i < n - 1:  # connector to the next bar, at this bar's end
            parts.append(
                f'<line x1="{_c(cx + bar_w / 2)}" x2="{_c(cx + slot - bar_w / 2)}" y1="{_c(yb)}" y2="{_c(yb)}" '
                f'stroke="{BASELINE}" stroke-width="1" stroke-dasharray="3 3"/>'
            )
        if is_total or raw[i] is not None:
            text = _number(value / div, lang, value_decimals, signed=not is_total)
            if _width(text, LABEL, bold=True) <= slot - 4:
                up = value >= 0
                ty = (min(ya, yb) - 7) if up else (max(ya, yb) + 5 + LABEL * 0.8)
                weight = "700" if is_total else "600"
                colour = INK if is_total else (POSITIVE if value >= 0 else NEGATIVE)
                texts.append(_text(cx, ty, text, "middle", LABEL, fill=colour, font_weight=weight, **_halo()))
        for k, line in enumerate(wrapped[i]):
            texts.append(
                f'<text x="{_c(cx)}" y="{_c(bottom + 8 + size + k * size * 1.2)}" text-anchor="middle" '
                f'font-size="{size}" fill="{INK}"'
                + (' font-weight="700"' if is_total else "")
                + f">{_e(line)}<title>{_e(names[i])}</title></text>"
            )
    _zero(parts, y_of(0.0), left, right)
    parts.extend(texts)
    parts.append("</svg>")
    return "".join(parts)
