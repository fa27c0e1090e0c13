"""Words and numbers: Danish and English number formats, money, the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import SCENARIOS
from hypothesis import given, settings
from hypothesis import strategies as hs

import sim as _sim
from sim.outputs import language as L
from sim.scenario import Scenario


def plain(text: str) -> str:
    return text.replace(L.NBSP, " ")


@pytest.mark.parametrize(
    "x, decimals, da, en",
    [
        (1234567, 0, "1.234.567", "1,234,567"),
        (1234567.891, 0, "1.234.568", "1,234,568"),
        (1234.5, 1, "1.234,5", "1,234.5"),
        (0.5, 2, "0,50", "0.50"),
        (-9876.54, 1, "-9.876,5", "-9,876.5"),
        (999, 0, "999", "999"),
        (0, 0, "0", "0"),
    ],
)
def test_numbers(x, decimals, da, en):
    assert L.number(x, "da", decimals) == da
    assert L.number(x, "en", decimals) == en


@settings(max_examples=400, deadline=None)
@given(
    x=hs.one_of(
        hs.floats(allow_nan=False, allow_infinity=False, min_value=-1e16, max_value=1e16),
        hs.floats(-10, 10).map(lambda v: round(v, 3)),  # halves and ties at the rounding digit
        hs.integers(-(10**15), 10**15),
        hs.floats(-1e12, 1e12).map(np.float64),
        hs.sampled_from([0.125, 2.675, -2.5, 0.5, 1.5, 1e22, -1e-300, float("inf"), -float("inf")]),
    ),
    decimals=hs.integers(-1, 3),  # below 0: babel's whole-number pattern
    lang=hs.sampled_from(L.LANGUAGES),
)
def test_numbers_are_babels_to_the_character(x, decimals, lang):
    """The quick formatter writes what babel's CLDR pattern writes, for any number."""
    if round(x, decimals) == 0:
        x = 0.0  # number() writes no "-0" (tested above)
    pattern = L.parse_pattern("#,##0" + ("." + "0" * decimals if decimals else ""))
    assert L.number(x, lang, decimals) == pattern.apply(x, L._locale(lang))


def test_nan_is_a_dash_not_nan():
    assert L.number(float("nan"), "da") == "–"
    assert L.percent(float("nan"), "en") == "–"
    assert L.money(float("nan"), "da") == "–"


@pytest.mark.parametrize(
    "share, decimals, da, en",
    [
        (0.035, 1, "3,5 %", "3.5 %"),
        (0.5, 0, "50 %", "50 %"),
        (1.0, 0, "100 %", "100 %"),
        (0.0025, 2, "0,25 %", "0.25 %"),
    ],
)
def test_percent(share, decimals, da, en):
    assert plain(L.percent(share, "da", decimals)) == da
    assert plain(L.percent(share, "en", decimals)) == en
    assert L.NBSP in L.percent(share, "da", decimals)  # never broken across lines


@pytest.mark.parametrize(
    "share, da, en",
    [
        (0.42, "42 %", "42 %"),
        (0.996, "99,6 %", "99.6 %"),  # psa printed "100 % [100 % – 100 %]" for 99.6 % of draws
        (0.9949, "99 %", "99 %"),
        (0.9996, "> 99,9 %", "> 99.9 %"),
        (1.0, "100 %", "100 %"),
        (0.004, "0,4 %", "0.4 %"),
        (0.0004, "< 0,1 %", "< 0.1 %"),
        (0.0, "0 %", "0 %"),
        (0.497, "49,7 %", "49.7 %"),  # "50 %" beside a chart saying paying back is not yet more likely
        (0.503, "50,3 %", "50.3 %"),
        (0.5, "50 %", "50 %"),
        (0.4996, "< 50 %", "< 50 %"),  # "50.0 %" beside 0.5's "50 %" tells no side
        (0.5004, "> 50 %", "> 50 %"),
    ],
)
def test_a_probability_never_rounds_to_a_certainty_it_is_not(share, da, en):
    assert plain(L.probability(share, "da")) == da
    assert plain(L.probability(share, "en")) == en


@pytest.mark.parametrize(
    "x, da, en",
    [
        (1234567, "1,2 mio. kr.", "DKK 1.2 m"),
        (621_814_873.8, "621,8 mio. kr.", "DKK 621.8 m"),
        (14_139_500_000, "14,14 mia. kr.", "DKK 14.14 bn"),
        (123_456, "123.456 kr.", "DKK 123,456"),
        (-289_838_952.9, "-289,8 mio. kr.", "DKK -289.8 m"),
    ],
)
def test_money(x, da, en):
    assert plain(L.money(x, "da")) == da
    assert plain(L.money(x, "en")) == en


def test_money_in_full_units_and_other_currencies():
    assert plain(L.money(1234567, "da", scale="units")) == "1.234.567 kr."
    assert plain(L.money(1234567, "en", scale="units")) == "DKK 1,234,567"
    assert plain(L.money(2.5e6, "da", "EUR")) == "2,5 mio. €"
    assert plain(L.money(2.5e6, "en", "EUR")) == "EUR 2.5 m"
    assert L.money_unit("DKK", "da") == "mio. kr." and L.money_unit("DKK", "en", "bn") == "DKK bn"


def test_decimal_keeps_the_digits_it_needs():
    assert L.decimal(0.35, "da") == "0,35"
    assert L.decimal(1_200_000, "da") == "1.200.000"
    assert L.decimal(0.0125, "en") == "0.0125"


def test_discounting_and_money_note_in_both_languages(toy: Scenario):
    assert plain(L.discounting(toy, "da")) == "3,5 % år 0-35, 2,5 % år 36-70, 1,5 % fra år 71"
    assert plain(L.discounting(toy, "en")) == "3.5 % years 0-35, 2.5 % years 36-70, 1.5 % from year 71"
    da = plain(L.money_note(toy, "da"))
    assert "kr., 2024-priser" in da and "tilbagediskonteret til 2024" in da and "Finansministeriet 2021" in da
    assert "DKK, 2024 prices" in plain(L.money_note(toy, "en"))


def test_every_text_has_both_languages_and_the_same_placeholders():
    import string

    for key, (en, da) in L.TEXT.items():
        assert en and da, key
        fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
        assert fields(en) == fields(da), key


def test_language_comes_from_the_scenario_unless_asked(toy: Scenario):
    assert L.resolve(None, toy) == "en"  # the toy says language = "en"
    assert L.resolve("da", toy) == "da"
    assert L.resolve(None, toy.with_changes({"language": "da"})) == "da"
    with pytest.raises(ValueError, match="language must be one of da, en"):
        L.resolve("de", toy)


def test_step_names_and_column_headings(toy: Scenario):
    assert L.step_name(toy, "placed", "da") == "Anbragt" and L.step_name(toy, "placed", "en") == "Placed"
    assert L.column("stock_end", "da") == "Børn pr. 31. dec."
    assert L.column("placement_entries_avoided_p95", "en") == "New placements avoided (95 %)"
    assert L.column("savings_mid", "da", toy) == "Besparelse: Mellem"
    assert L.column("something_new", "da") == "something_new"


@pytest.mark.parametrize(
    "key, da, en",
    [
        (
            "adult.cost_per_year.foster",
            "Udgift pr. voksenår, højeste trin: Anbringelse i plejefamilie",
            "Adult-life cost a year, highest step: Foster family",
        ),
        (
            "adult.outcomes.disability_pension_at_30.reference_share",
            "På førtidspension som 30-årig: andel blandt alle andre",
            "On disability pension at 30: share among everyone else",
        ),
        ("adult.payers.stat", "Voksenliv: andel betalt af staten", "Adult life: share paid by the state"),
        (
            "intervention.payers.kommune",
            "Strategien: andel betalt af kommunen",
            "Strategy: share paid by the municipality",
        ),
        ("prices.index.2019", "Prisindeks 2019", "Price index 2019"),
    ],
)
def test_describe_names_adult_payer_and_price_keys_in_words(key, da, en):
    import sim

    s = sim.load_scenario(SCENARIOS / "municipality-lifetime.toml")
    assert (L.describe(s, key, "da"), L.describe(s, key, "en")) == (da, en)


# ---------------------------------------------------------------------------
# Issue 12: every key and value in words
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("i", [0, 1, 10])
def test_discount_periods_are_numbered_from_one(toy: Scenario, i):
    """The description read ``key[19]``: "Diskonteringsrente, periode [" for every period."""
    assert (
        L.describe(toy, f"discounting.periods[{i}].rate", "da") == f"Diskontering, periode {i + 1}: realrente"
    )
    assert (
        L.describe(toy, f"discounting.periods[{i}].from_year", "en")
        == f"Discounting, period {i + 1}: from year"
    )


@pytest.mark.parametrize(
    "key, value, da, en",
    [
        ("steps.placed.cost_per_year", 470_000, "470.000 kr.", "DKK 470,000"),
        ("intervention.cost_per_year", 21e6, "21.000.000 kr.", "DKK 21,000,000"),
        ("discounting.periods[0].rate", 0.035, "3,5 %", "3.5 %"),
        ("population.entry_step_shares.placed", 0.004, "0,4 %", "0.4 %"),
        ("transitions.mid.closed", 0.33, "0,33 pr. barn-år", "0.33 per child-year"),
        ("intervention.hazard_ratios.mid.placed", 0.85, "0,85", "0.85"),
        ("start_year", 2024, "2024", "2024"),
        ("horizon_years", 1, "1 år", "1 year"),
        ("steps.mid.review.interval_months", 6, "6 måneder", "6 months"),
        ("steps.placed.placement", True, "ja", "yes"),
        ("steps.placed.duration", {"dist": "exponential"}, "eksponentiel", "exponential"),
        (
            "steps.placed.duration",
            {"dist": "mixture", "short_share": 0.3, "short_mean_years": 0.5, "long_mean_years": 11.0},
            "blanding: 30 % korte ophold på 0,5 år, lange ophold på 11 år i gennemsnit",
            "mixture: 30 % short stays of 0.5 years, long stays of 11 years on average",
        ),
        (
            "steps.placed.cost_per_year",
            {"dist": "gamma", "mean": 470_000, "sd": 60_000},
            "gamma: middelværdi 470.000 kr., spredning 60.000 kr.",
            "gamma: mean DKK 470,000, sd DKK 60,000",
        ),
        ("intervention.reached_steps", [], "ingen", "none"),
        ("population.aftercare_steps", ["placed"], "Anbragt", "Placed"),
        ("steps.placed.capacity.queue", "fifo", "først til mølle", "first come, first served"),
        ("steps.placed.capacity.places", "unlimited", "ubegrænset", "unlimited"),
        ("intervention.fading.half_life_years", float("inf"), "uendelig", "infinite"),
        ("intervention.cost_per_year", None, "–", "–"),
        ("transitions.mid.low", 0.30000000000000004, "0,3 pr. barn-år", "0.3 per child-year"),
    ],
)
def test_input_values_in_words_and_units(toy: Scenario, key, value, da, en):
    assert plain(L.describe_value(toy, key, value, "da")) == da
    assert plain(L.describe_value(toy, key, value, "en")) == en


def test_every_shipped_key_has_words(toy: Scenario):
    import sim
    from sim.outputs.report import _flatten

    for path in sorted(SCENARIOS.glob("*.toml")):
        s = sim.load_scenario(path)
        for key, _value, _source, _at in _flatten(s.to_dict()):
            for lang in L.LANGUAGES:
                words = L.describe(s, key, lang)
                assert words != key and "_" not in words and "[" not in words, (path.name, key, words)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("cost", "money"),
        ("savings_foster", "money"),
        ("npv_society", "money"),
        ("adult_consequences_avoided_pv", "money"),
        ("stock_end", "count"),
        ("placement_entries_avoided_p95", "count"),
        ("adult_employed_at_30_change", "count"),
        ("wait_p90", "wait"),
        ("roi", "share"),
        ("discount_factor", "share"),
        ("probability_npv_positive", "share"),
        ("payback_year", "year"),
        ("steps.foster.cost_per_year", "value"),  # a parameter drawn in a PSA
    ],
)
def test_each_column_has_a_kind_of_number(name, kind):
    assert L.measure_kind(name) == kind


def test_every_measure_of_the_engines_has_a_kind_of_its_own():
    """A measure an engine adds must be given its kind (``_COUNT_NAMES`` and the rules above it repeat
    the engines' list by hand): the fallback "value" would write it and its interval's columns to six
    significant digits in yearly.csv, not as the count, wait or money it is."""
    from sim.engines.measures import MEASURES

    for name in MEASURES:
        assert L.measure_kind(name) != "value", name
        for column in (f"{name}_p5", f"{name}_p95", f"{name}_mc_se"):
            assert L.measure_kind(column) == L.measure_kind(name), column


SIM = Path(_sim.__file__).parent


def _danish_texts() -> list[tuple[str, str]]:
    """Every Danish text of the outputs and the what-if page, by key: each table of (English, Danish) pairs."""
    from sim.serve.words import WORDS

    tables = [v for v in vars(L).values() if isinstance(v, dict)] + [WORDS]
    return [
        (str(k), pair[1])
        for table in tables
        for k, pair in table.items()
        if isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
    ]


@pytest.mark.parametrize(
    "pattern, why",
    [
        (r"[Hh]åndtag", "the page's levers are 'indstillinger'"),
        (r"\b[Ii]ndsats(?:en|ens)\b|\b[Pp]rogram(?:met|mets)\b", "the strategy is 'strategien' throughout"),
        (r"fraktil", "percentiles are 'percentil' throughout"),
        (
            r"[Bb]egge forløb|de to forløb",
            "the two arms are 'basis og strategi' ('forløb' is a child's case)",
        ),
    ],
)
def test_danish_names_each_thing_one_way(pattern, why):
    """A native reader found the strategy called strategi, program and indsats, and percentiles both
    'fraktil' and 'percentil': one name each, in every output and on the page."""
    import re

    texts = _danish_texts()
    assert len(texts) > 500  # the tables were found
    # The templates' and the page script's own Danish too (the patterns are Danish words only).
    pages = [f for d in ("outputs/templates", "serve/templates", "serve/static") for f in (SIM / d).iterdir()]
    texts += [(f.name, f.read_text(encoding="utf-8")) for f in pages if f.suffix in (".html", ".js")]
    found = [(k, da) for k, da in texts if re.search(pattern, da)]
    assert not found, f"{why}: {found}"


@pytest.mark.parametrize("lang, word", [("da", "til"), ("en", "to")])
def test_a_range_is_joined_by_a_word_not_a_dash_beside_minus_signs(toy: Scenario, lang, word):
    """ "-6,84 – -2,10 mia. kr." read as one number: a range's ends are joined by a word."""
    import sim
    from sim.outputs.report import format_value, key_figure_records

    costly = {"name": "plan", "intervention": {"start_year": 2025, "cost_per_year": 3e7}}
    costly["intervention"]["hazard_ratios"] = {"mid": {"placed": 0.9}}
    cmp = sim.compare(toy, toy.with_changes(costly), replications=3, seed=1)
    npv = {r["metric"]: r for r in key_figure_records(cmp, lang)}["npv"]
    lo, hi = (format_value(npv[q], "money", lang, "DKK") for q in ("p5", "p95"))
    assert npv["p95"] < 0 and lo != hi  # both ends negative
    assert npv["interval"] == f"{lo} {word} {hi}" and "–" not in npv["interval"]
    assert not [k for k, da in _danish_texts() if re.search(r"\{lo\} – \{hi\}", da)]
