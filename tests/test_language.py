"""Words and numbers: Danish and English number formats, money, the catalogue."""

from __future__ import annotations

import pytest
from conftest import SCENARIOS

from sim import language as L
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
