"""No wrong word in a document that goes to the negotiation (issue 12).

For every shipped scenario pair (a strategy file in ``scenarios/`` and its
baseline, found from the files), in both languages, the CLI compares the
pair, writes the results folder and prints its summary; then the visible
text of ``report.html``, every cell of ``report.xlsx``, every CSV cell, the
words on the charts and the printed summary are scanned for what must never
reach a reader: a raw key path, an unmatched bracket, ``nan``, ``inf``,
e-notation, float residue, "-0" and Python reprs. The printed output of
``tornado``, ``sensitivity`` and ``breakeven`` goes through the same scan.

Charts are made and their words scanned, but not rendered to PNG and SVG,
which keeps the whole module quick enough for CI; how charts look is tested
in ``test_plots``.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import SCENARIOS
from matplotlib.text import Text
from openpyxl import load_workbook

import sim
from sim.cli import main
from sim.engines.expected import EngineNotApplicable
from sim.outputs import language as L
from sim.outputs import writers
from sim.scenario import extends_chain

LANGS = ("da", "en")

# ---------------------------------------------------------------------------
# What must never reach a reader
# ---------------------------------------------------------------------------

_TABLES = "steps|transitions|intervention|population|discounting|casework|adult|prices"
DEFECTS: dict[str, re.Pattern] = {
    "raw key path": re.compile(rf"\b(?:{_TABLES})(?:\.[\w-]+|\[\d+\])+|\w\[\d+\]"),
    "nan": re.compile(r"\bnan\b", re.IGNORECASE),
    "inf": re.compile(r"\b-?inf(?:inity)?\b|∞", re.IGNORECASE),
    "e-notation": re.compile(r"\d(?:[.,]\d+)?[eE][+-]?\d+\b"),
    "float residue": re.compile(r"\d[.,]\d{8,}|[.,]\d*(?:0{5,}|9{5,})[1-9]"),
    "-0": re.compile(r"(?<![\w.,])[-−]0(?:[.,]0+)?(?![\d.,])"),
    "Python repr": re.compile(r"\(\)|\bNone\b|\bTrue\b|\bFalse\b|[{}]|\w+\(\w+="),
}
"""Patterns of text that is a defect wherever it appears."""

_HASH = re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b")  # SHA-256 hashes (provenance): not e-notation
_KEY_LINE = re.compile(r"^\s*(?:key|nøgle): \S+$")  # a key shown as a key, labelled so
_MONEY_ZERO = re.compile(r"(?<![\d.,])[-−]?0[.,]0+\s?(?:mio|mia|m\b|bn)")


def unmatched(text: str) -> bool:
    """Whether brackets or parentheses in ``text`` do not pair up."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return True
    return bool(stack)


def defects(text: str, where: str, quoted: bool = False) -> list[str]:
    """What is wrong with one piece of visible text (a line, a cell, a table cell).

    ``quoted`` text (a source, cited as its scenario file writes it) may hold
    braces: a calibration stamp says "(was {0-5 = 0.05, ...})".
    """
    text = _HASH.sub("#", text.replace(L.NBSP, " "))
    if _KEY_LINE.match(text):
        return []
    found = []
    for name, pattern in DEFECTS.items():
        if quoted and name == "Python repr":
            continue
        hit = pattern.search(text)
        if hit:
            found.append(f"{where}: {name} {hit.group(0)!r} in {text[:160]!r}")
    if unmatched(text):
        found.append(f"{where}: unmatched bracket in {text[:160]!r}")
    return found


class _Visible(HTMLParser):
    """The visible text of an HTML page, one piece per block element or table cell.

    Left out: ``<style>``, ``<script>``, and ``<code class="key">`` (a key
    path shown as a key, beside its description in words). Cells marked
    ``class="source"`` are quoted sources.
    """

    INLINE = {"code", "b", "i", "em", "strong", "span", "a", "abbr", "small", "sup", "sub"}

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[tuple[str, bool]] = []
        self._buf: list[str] = []
        self._skip = 0
        self._quoted = False

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        if text:
            self.pieces.append((text, self._quoted))
        self._buf = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self._skip or tag in ("style", "script") or (tag == "code" and "key" in classes):
            self._skip += tag not in ("br", "img", "meta", "link")  # count only elements that close
            return
        if tag not in self.INLINE:
            self._flush()
            self._quoted = "source" in classes

    def handle_endtag(self, tag):
        if self._skip:
            self._skip -= 1
            return
        if tag not in self.INLINE:
            self._flush()
            self._quoted = False

    def handle_data(self, data):
        if not self._skip:
            self._buf.append(data)


def scan_html(path: Path) -> list[str]:
    p = _Visible()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return [d for text, quoted in p.pieces for d in defects(html.unescape(text), path.name, quoted)]


def scan_workbook(path: Path, lang: str) -> list[str]:
    """Every cell of every sheet; the key column holds keys on purpose, sources are quoted."""
    found = []
    wb = load_workbook(path)
    for ws in wb.worksheets:
        headers = [c.value for c in next(ws.iter_rows(max_row=1))]
        key_col = L.column("key", lang)
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                header = headers[c.column - 1] if c.column - 1 < len(headers) else None
                if header == key_col and c.row > 1:
                    continue
                where = f"{path.name}[{ws.title}]{c.coordinate}"
                if isinstance(c.value, bool):
                    found.append(f"{where}: a TRUE/FALSE cell, not a word")
                    continue
                if isinstance(c.value, float):
                    found += defects(repr(c.value), where)  # residue such as 504.84999999999997
                    continue
                found += defects(str(c.value), where, quoted=header == L.column("source", lang))
    return found


def scan_csv(path: Path) -> list[str]:
    """Every CSV cell.

    CSV files are for programs: a key path names an input there (tornado's
    ``parameter`` column, psa_draws.csv's headings), and a column of booleans
    reads True/False. Both are data, not words for a reader.
    """
    found = []
    with path.open(encoding="utf-8", newline="") as f:
        header: list[str] = []
        for i, row in enumerate(csv.reader(f)):
            header = header or row
            for j, cell in enumerate(row):
                if cell in ("True", "False"):
                    continue
                where = f"{path.name} row {i + 1} column {j + 1}"
                if path.name == "tornado.csv" and header[j] in ("low", "high") and i:
                    # A tornado's parameter values keep 12 significant digits (results-folder.md), so
                    # that the report rounds them once: many decimals there are the stated precision.
                    digits = cell.lstrip("-").replace(".", "").lstrip("0")
                    if len(digits) > 12 or _RUN.search(cell):
                        found.append(f"{where}: more than 12 significant digits or a float residue {cell!r}")
                    continue
                found += [d for d in defects(cell, where) if ": raw key path " not in d]
    return found


_RUN = re.compile(r"[.,]\d*(?:0{5,}|9{5,})[1-9]")
"""The second half of a float residue: a run of zeros or nines, then a last digit."""


def scan_printed(text: str, where: str) -> list[str]:
    return [d for i, line in enumerate(text.splitlines()) for d in defects(line, f"{where} line {i + 1}")]


def scan_chart_words(words: list[str], where: str) -> list[str]:
    found = []
    for w in words:
        found += defects(w.replace("\n", " "), where)
        if _MONEY_ZERO.search(w.replace("\n", " ").replace(L.NBSP, " ")):
            found.append(f"{where}: a money label that reads zero: {w!r}")
    return found


# ---------------------------------------------------------------------------
# The shipped scenario pairs, found from the files
# ---------------------------------------------------------------------------


def _without_intervention(s: sim.Scenario) -> dict:
    d = s.to_dict()
    for k in ("intervention", "name", "title", "title_en", "description"):
        d.pop(k, None)
    return d


def shipped_pairs() -> list[tuple[Path, Path]]:
    """(baseline, strategy) for every strategy file in ``scenarios/``.

    A strategy's baseline is the file it extends; where that file is itself a
    strategy (the lifetime strategy extends the municipal one), it is the
    shipped file that is the strategy without its intervention.
    """
    loaded = LOADED
    pairs = []
    for f, s in loaded.items():
        if s.intervention is None:
            continue
        parent = extends_chain(f)[0].resolve()
        if loaded[parent].intervention is None:
            pairs.append((parent, f))
            continue
        same = [
            b
            for b, sb in loaded.items()
            if sb.intervention is None and _without_intervention(sb) == _without_intervention(s)
        ]
        assert len(same) == 1, f"{f.name}: no shipped baseline for this strategy ({[b.name for b in same]})"
        pairs.append((same[0], f))
    return pairs


LOADED = {f.resolve(): sim.load_scenario(f) for f in sorted(SCENARIOS.glob("*.toml"))}
"""Every shipped scenario file, loaded once."""
PAIRS = shipped_pairs()


def test_every_strategy_file_has_its_baseline():
    strategies = {f.name for f, s in LOADED.items() if s.intervention is not None}
    assert {s.name for _, s in PAIRS} == strategies
    assert ("municipality-lifetime.toml", "municipality-early-detection-lifetime.toml") in {
        (b.name, s.name) for b, s in PAIRS
    }


def _engine_args(base: Path, plan: Path) -> list[str]:
    """The expected engine where it applies, else the DES with 2 replications and a fixed seed."""
    try:
        sim.expected(LOADED[base.resolve()])
        sim.expected(LOADED[plan.resolve()])
    except EngineNotApplicable:
        return ["--engine", "des", "--replications", "2", "--seed", "7", "--workers", "1"]
    return ["--engine", "expected"]


# ---------------------------------------------------------------------------
# Run the CLI once per pair and language
# ---------------------------------------------------------------------------

CHART_WORDS: dict[str, list[str]] = {}
"""The words drawn on each chart, by folder and stem."""


def _words_on(fig) -> list[str]:
    """Every word a chart shows: titles, labels, annotations, legends, footnotes and tick labels."""
    words = [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    for ax in fig.axes:  # tick labels are only made when drawn: ask the formatters
        for axis in (ax.xaxis, ax.yaxis):
            words += axis.get_major_formatter().format_ticks(list(axis.get_majorticklocs()))
    return words


def _tiny_png() -> bytes:
    from matplotlib.figure import Figure

    buf = io.BytesIO()
    Figure(figsize=(2, 1)).savefig(buf, format="png", dpi=20)
    return buf.getvalue()


def _charts_with_their_words(result, folder: Path, lang: str | None) -> dict[str, bytes]:
    """Stands in for ``writers.save_charts``: every chart made and its words kept; a stand-in PNG."""
    png = _tiny_png()
    pngs = {}
    # The folder is written under a hidden temporary name (".NAME.partial-PID/charts").
    name = re.sub(r"^\.(.*)\.partial-\d+$", r"\1", folder.parent.name)
    for stem, make in writers.charts(result, lang).items():
        CHART_WORDS[f"{name}/{stem}"] = _words_on(make())
        pngs[stem] = png
    return pngs


@pytest.fixture(scope="module")
def quick_charts():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(writers, "save_charts", _charts_with_their_words)
        yield


def _cli(capsys, *args: object) -> str:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def documents(quick_charts, tmp_path_factory) -> Callable[[tuple[str, str]], tuple[Path, str]]:
    """(results folder, printed summary) of a (strategy file, language), each made once, when first
    asked for: on several cores each process makes only the cases it tests."""
    made: dict[tuple[str, str], tuple[Path, str]] = {}
    root = tmp_path_factory.mktemp("documents")
    plans = {plan.name: (base, plan) for base, plan in PAIRS}

    def document(case: tuple[str, str]) -> tuple[Path, str]:
        if case not in made:
            base, plan = plans[case[0]]
            lang = case[1]
            folder = root / f"{plan.stem}-{lang}"
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):  # capsys is function-scoped: capture by hand
                code = main(
                    [
                        "compare",
                        str(base),
                        str(plan),
                        *_engine_args(base, plan),
                        "--lang",
                        lang,
                        "--out",
                        str(folder),
                    ]
                )
            assert code == 0, f"{plan.name} {lang}"
            made[case] = (folder, buf.getvalue())
        return made[case]

    return document


CASES = [(plan.name, lang) for _, plan in PAIRS for lang in LANGS]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_no_wrong_word_in_the_documents(documents, case):
    folder, printed = documents(case)
    lang = case[1]
    found = scan_html(folder / "report.html")
    found += scan_workbook(folder / "report.xlsx", lang)
    for path in sorted(folder.glob("*.csv")):
        found += scan_csv(path)
    found += scan_printed(printed, "printed summary")
    charts = {
        stem.split("/")[1]: words for stem, words in CHART_WORDS.items() if stem.startswith(folder.name + "/")
    }
    assert set(charts) >= {"placed_children", "staircase", "waterfall"}  # the scan sees every chart
    for stem, words in charts.items():
        found += scan_chart_words(words, f"chart {folder.name}/{stem}")
    assert not found, "\n".join(found[:40]) + (f"\n... and {len(found) - 40} more" if len(found) > 40 else "")


# ---------------------------------------------------------------------------
# tornado, sensitivity and breakeven print through the same scan
# ---------------------------------------------------------------------------


def _uncertain_pair() -> tuple[Path, Path]:
    for base, plan in PAIRS:
        if LOADED[plan.resolve()].uncertain:
            return base, plan
    pytest.fail("no shipped strategy has uncertain numbers")


@pytest.fixture(scope="module")
def computed_once():
    """The uncertainty computations run once; the second language only prints their results again.

    What is under test is the printed words: the numbers do not depend on the language.
    """
    import sim.cli.breakeven
    import sim.cli.sensitivity
    import sim.cli.tornado

    cache: dict[str, object] = {}

    def once(name, fn):
        def run(*args, **kwargs):
            shown = [a.name if isinstance(a, sim.Scenario) else a for a in args]
            key = f"{name} {shown!r} {sorted((k, v if not isinstance(v, sim.Scenario) else v.name) for k, v in kwargs.items())!r}"
            if key not in cache:
                cache[key] = fn(*args, **kwargs)
            return cache[key]

        return run

    with pytest.MonkeyPatch.context() as mp:
        for module, name in (
            (sim.cli.tornado, "tornado"),
            (sim.cli.sensitivity, "global_sensitivity"),
            (sim.cli.breakeven, "break_even"),
        ):
            mp.setattr(module, name, once(name, getattr(module, name)))
        yield


@pytest.mark.parametrize("lang", LANGS)
def test_uncertainty_commands_print_no_wrong_word(quick_charts, computed_once, lang, tmp_path, capsys):
    base, plan = _uncertain_pair()
    printed = {
        "tornado": _cli(capsys, "tornado", base, plan, "--lang", lang, "--out", tmp_path / "t"),
        "sensitivity": _cli(
            capsys, "sensitivity", base, plan, "-n", 2, "-w", 1, "--lang", lang, "--out", tmp_path / "s"
        ),
        "breakeven effect": _cli(capsys, "breakeven", base, plan, "--lang", lang),
        "breakeven cost": _cli(capsys, "breakeven", base, plan, "--on", "cost", "--lang", lang),
    }
    found = [d for name, text in printed.items() for d in scan_printed(text, name)]
    for folder in ("t", "s"):
        for path in (tmp_path / folder).glob("*.csv"):
            found += scan_csv(path)
    assert not found, "\n".join(found)
    words = {"da": ("Nettonutidsværdi", "mio. kr.", "nøgle: "), "en": ("Net present value", "DKK", "key: ")}[
        lang
    ]
    for name, text in printed.items():  # in the language asked, money with its unit
        money = name != "sensitivity"  # Sobol indices have no unit
        assert all(w.lower() in text.lower() for w in words[: 2 if money else 1]), name
    assert words[2] + "steps.institution.cost_per_year" in printed["tornado"]  # a key is shown as a key


# ---------------------------------------------------------------------------
# The scan itself must be able to fail
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Diskonteringsrente, periode [",
        "discounting.periods[0].from_year",
        "steps.foster.cost_per_year",
        "exponential()",
        "mixture(short_share=0.3, long_mean_years=11.0)",
        "9.248e+05",
        "-1.8e-13",
        "504.84999999999997",
        "12496.699999999999",
        "0.30000000000000004",
        "nan",
        "NaN kr.",
        "inf",
        "-0",
        "-0,0 mio. kr.",
        "None",
        "True",
        "{'a': 1}",
    ],
)
def test_the_scan_catches_each_defect(text):
    assert defects(text, "test")


@pytest.mark.parametrize(
    "text",
    [
        "Diskontering, periode 1: realrente",
        "3,5 % år 0-35, 2,5 % år 36-70",
        "-0,3 mio. kr.",
        "12.327  [12.120 til 12.580]",
        "DKK 14.25 bn [13.82 to 14.73 bn]",
        "Input hash 5872009f4f104bab51c8bd79f6952e7d93b3bbd912404236e34685a022db4be0",
        "  nøgle: steps.institution.cost_per_year",
        "Anbringelse i plejefamilie (alder 0-5)",
        "2024-11-27T18:45:10+00:00",
    ],
)
def test_the_scan_passes_good_text(text):
    assert not defects(text, "test")
