"""The levers of the what-if page: what a negotiation moves, read from and written to scenarios.

A lever shows a number in the unit a finance officer says aloud (a percent,
millions of kroner, a year) and knows the scenario key it sets. The page's
state is the levers' raw text, as in the URL's query; :func:`read` turns it
into values and messages, and :func:`arms` into the two scenarios, through
``Scenario.with_changes``: the same validation as a file. A lever left at the
files' value changes nothing, so an untouched page is the files themselves.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.errors import PairError, ScenarioError
from sim.outputs import language as L
from sim.scenario import PERSPECTIVES, Scenario
from sim.scenario.schema import tidy
from sim.serve.words import scenario_message, word

# Levers by group, in the order the page shows them.
GROUPS = ("effect", "programme", "timing", "pair")


@dataclass(frozen=True)
class Lever:
    """One control of the page.

    ``scale`` turns the shown number into the scenario's (``percent``: 0.01,
    ``dkk_m``: 1e6); ``scope`` says which arm it changes: ``strategy``,
    ``pair`` (both arms, e.g. the horizon) or ``view`` (no arm: the payer
    perspective, the effect size, which scales the strategy's changes).
    """

    id: str
    group: str
    unit: str
    default: float | int | str | None
    low: float
    high: float
    step: float
    key: str = ""
    scope: str = "strategy"
    whole: bool = False
    optional: bool = False
    choices: tuple[str, ...] = ()
    words: tuple[str, dict[str, str]] = ("", {})

    @property
    def scale(self) -> float:
        return {"percent": 0.01, "dkk_m": 1e6}.get(self.unit, 1.0)

    def label(self, lang: str, base: Scenario) -> str:
        """The lever's name on the page."""
        key, names = self.words
        values = {
            k: L.step_name(base, v, lang) if v != "closed" else L.closed_name(lang) for k, v in names.items()
        }
        return word(key or self.id, lang, **values)

    def display(self, value: Any, lang: str, unit: bool = False) -> str:
        """A value as a person reads it: a decimal comma in Danish, a payer by name, with its unit."""
        if self.choices:
            return word("persp_" + str(value), lang)
        text = self.shown(value)
        if text and self.unit != "year" and "e" not in text:  # a year is no amount: 2030, never 2.030
            # The language's decimal sign and groups of thousands ("100.000", "0,9"); the field reads them back.
            decimals = len(text.split(".")[1]) if "." in text else 0
            text = L.number(float(value), lang, decimals)
        elif lang == "da":  # 1.5e-05: every digit kept, the decimal sign Danish
            text = text.replace(".", ",")
        if unit and text and self.unit != "year":
            text += "\u00a0" + word("unit_" + self.unit, lang)
        return text or "–"

    def shown(self, value: Any) -> str:
        """A value as the URL holds it (``""`` for none): the same in every language."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if self.whole:
            return str(int(value))
        return f"{float(value):.10g}"


def _in_unit(value: float | None, scale: float) -> float | None:
    # Round away the binary noise of the division (0.035 / 0.01 = 3.5000000000000004), not the value.
    return None if value is None else float(f"{value / scale:.12g}")


def levers(base: Scenario, strategy: Scenario) -> list[Lever]:
    """The levers of a baseline and strategy pair, each at the files' value."""
    iv = strategy.intervention
    if iv is None:
        raise PairError(f"'{strategy.name}' has no [intervention]: the page moves a strategy's levers")
    out = [Lever("effect", "effect", "percent", 100.0, 0.0, 150.0, 5.0, scope="view")]
    for src, row in iv.hazard_ratios.items():
        for dst, r in row.items():
            out.append(
                Lever(
                    f"hr.{src}.{dst}",
                    "effect",
                    "ratio",
                    float(r),
                    0.0,
                    10.0,
                    0.01,
                    key=f"intervention.hazard_ratios.{src}.{dst}",
                    words=("hr", {"src": src, "dst": dst}),
                )
            )
    out += [
        Lever(
            "extra_share",
            "effect",
            "percent",
            _in_unit(iv.entry.extra_entries_share, 0.01),
            0.0,
            100.0,
            1.0,
            key="intervention.entry.extra_entries_share",
        ),
        Lever(
            "extra_per_year",
            "effect",
            "children",
            float(iv.entry.extra_entries_per_year),
            0.0,
            100_000.0,
            1.0,
            key="intervention.entry.extra_entries_per_year",
        ),
        Lever(
            "cost",
            "programme",
            "dkk_m",
            _in_unit(iv.cost_per_year, 1e6),
            0.0,
            100_000.0,
            0.1,
            key="intervention.cost_per_year",
        ),
        Lever(
            "one_off",
            "programme",
            "dkk_m",
            _in_unit(iv.one_off_cost, 1e6),
            0.0,
            100_000.0,
            0.1,
            key="intervention.one_off_cost",
        ),
    ]
    y0, y1 = base.start_year, base.start_year + base.horizon_years - 1
    out += [
        Lever("start", "timing", "year", iv.start_year, y0, y1, 1, key="intervention.start_year", whole=True),
        Lever(
            "ramp",
            "timing",
            "years",
            iv.ramp_up_years,
            0,
            50,
            1,
            key="intervention.ramp_up_years",
            whole=True,
        ),
        Lever(
            "end",
            "timing",
            "year",
            iv.end_year,
            y0,
            y1,
            1,
            key="intervention.end_year",
            whole=True,
            optional=True,
        ),
        Lever(
            "half_life",
            "timing",
            "years",
            iv.fading.half_life_years
            if iv.fading is not None and math.isfinite(iv.fading.half_life_years)
            else None,
            0.0,
            100.0,
            0.5,
            key="intervention.fading.half_life_years",
            optional=True,
        ),
    ]
    for s in base.step_ids:
        cap = base.steps[s].capacity
        if cap is not None and cap.places != "unlimited":
            out.append(
                Lever(
                    f"places.{s}",
                    "pair",
                    "places",
                    int(cap.places),
                    0,
                    1_000_000,
                    1,
                    key=f"steps.{s}.capacity.places",
                    scope="pair",
                    whole=True,
                    words=("places", {"step": s}),
                )
            )
    first = base.discounting.periods[0].rate if base.discounting.periods else 0.0
    out += [
        Lever(
            "discount",
            "pair",
            "percent",
            _in_unit(first, 0.01),
            0.0,
            15.0,
            0.1,
            key="discounting",
            scope="pair",
        ),
        Lever(
            "horizon",
            "pair",
            "years",
            base.horizon_years,
            1,
            100,
            1,
            key="horizon_years",
            scope="pair",
            whole=True,
        ),
        Lever(
            "perspective",
            "pair",
            "choice",
            "kommune",
            0,
            0,
            0,
            scope="view",
            choices=PERSPECTIVES,
        ),
    ]
    return out


@dataclass(frozen=True)
class State:
    """The page's levers read: their values, and a message for each that cannot be used."""

    values: dict[str, Any]
    errors: dict[str, str]
    moved: tuple[str, ...]
    """The levers away from the files' values, in the page's order."""

    @property
    def effect(self) -> float:
        """The effect size as a share (1: as assumed)."""
        return self.values["effect"] / 100.0

    @property
    def perspective(self) -> str:
        return self.values["perspective"]


def _example(lever: Lever, lang: str) -> str:
    """A value the field takes, for "write a number, e.g. ...": the files' value, else one that works
    whatever the other levers say (the last year for a last year, not the first, before any start)."""
    if lever.default is not None:
        return lever.display(lever.default, lang)
    if lever.unit == "year":
        return lever.display(lever.high, lang)
    return lever.display(min(lever.high, lever.low + 10 * lever.step), lang)


_SIMPLE = {"da": (re.compile(r"-?\d+(,\d+)?\Z"), ","), "en": (re.compile(r"-?\d+(\.\d+)?\Z"), ".")}
"""Numbers with no group separator, only the language's decimal sign: the same in babel's strict reading."""


def parse_number(text: str, lang: str) -> float:
    """A number as a person in ``lang`` writes it: "1.200" is 1200 on the Danish page, "1,200" on the English.

    Read by the page's language first (babel's strict rules: a group separator
    only between groups of three), then by the other, so that "3.5" on the
    Danish page and "3,5" on the English are 3.5; spaces between groups are
    allowed. Raises ``ValueError`` for anything else.
    """
    plain = text.strip().replace("\u2212", "-").removesuffix("%")  # "100 %" in a field of percent
    for space in (" ", "\u00a0", "\u202f"):
        plain = plain.replace(space, "")
    # Most fields hold a plain number ("21", "0,9"): read at once (babel's answer, a tenth of its time).
    simple = _SIMPLE.get(lang)
    if simple is not None and simple[0].match(plain):
        x = float(plain.replace(simple[1], "."))
        if not math.isfinite(x):  # 400 digits: beyond any float
            raise ValueError(f"not a number: {text!r}")
        return x
    if simple is not None:
        # The other language's plain decimal ("3.5" on the Danish page) whose digits after the sign are
        # no group of three: babel's strict reading refuses it in this language (its group separator
        # stands only before three digits) and gives this number in the other. At once, too.
        other = _SIMPLE["en" if lang == "da" else "da"]
        found = other[0].match(plain)
        if found is not None and found.group(1) is not None and len(found.group(1)) != 4:
            x = float(plain.replace(other[1], "."))
            if math.isfinite(x):
                return x
    from babel.numbers import NumberFormatError, parse_decimal

    for locale in (lang, "en" if lang == "da" else "da"):
        try:
            x = float(parse_decimal(plain, locale=locale, strict=True))
        except (NumberFormatError, ValueError, ArithmeticError):  # decimal's InvalidOperation
            continue  # (as for more digits than decimal's context holds)
        if math.isfinite(x):
            return x
    raise ValueError(f"not a number: {text!r}")


def url_number(text: str) -> float:
    """A number as the page's URLs write it (:meth:`Lever.shown`: "2.125" is two and an eighth in
    every language; a comma, as a hand-edited Danish link may have, is a decimal comma)."""
    x = float(text.strip().replace("\u2212", "-").replace(" ", "").replace(",", "."))
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {text!r}")
    return x


def _bounds(
    all_levers: list[Lever], raw: Mapping[str, str], lang: str, typed: bool = False
) -> dict[str, tuple[float, float]]:
    """Ranges that follow another lever: the start and last year stay within the horizon asked for."""
    by_id = {lv.id: lv for lv in all_levers}
    horizon = by_id.get("horizon")
    if horizon is None or not str(raw.get("horizon", "")).strip():
        return {}
    try:
        years = parse_number(str(raw["horizon"]), lang) if typed else url_number(str(raw["horizon"]))
    except ValueError:
        return {}  # said beside the horizon's own field
    if years != int(years) or not horizon.low <= years <= horizon.high:
        return {}
    return {
        lid: (by_id[lid].low, by_id[lid].low + int(years) - 1) for lid in ("start", "end") if lid in by_id
    }


def read(all_levers: list[Lever], raw: Mapping[str, str], lang: str, typed: bool = False) -> State:
    """Read the levers' text (a query or form); a lever not given keeps the files' value.

    ``typed``: the fields as a person typed them, read as :func:`parse_number`
    reads them ("1.200" is twelve hundred on the Danish page); otherwise the
    page's own URL form (:func:`url_number`: "2.125" is two and an eighth). A
    message in ``lang`` names what is allowed. Nothing here reads a file or
    runs a model.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    bounds = _bounds(all_levers, raw, lang, typed)
    for lever in all_levers:
        low, high = bounds.get(lever.id, (lever.low, lever.high))
        text = raw.get(lever.id)
        if text is None:
            values[lever.id] = lever.default
            continue
        text = str(text).strip()
        if lever.choices:
            if text not in lever.choices:
                # The codes a link may carry, with their names ("stat (staten)").
                names = {c: lever.display(c, lang).replace(f" ({c})", "") for c in lever.choices}
                allowed = ", ".join(c if names[c] == c else f"{c} ({names[c]})" for c in lever.choices)
                errors[lever.id] = word("err_choice", lang, allowed=allowed)
                values[lever.id] = lever.default
            else:
                values[lever.id] = text
            continue
        if text == "":
            if lever.optional:
                values[lever.id] = None
            else:
                errors[lever.id] = word("err_required", lang)
                values[lever.id] = lever.default
            continue
        try:
            x = parse_number(text, lang) if typed else url_number(text)
        except ValueError:
            errors[lever.id] = word("err_number", lang, example=_example(lever, lang))
            values[lever.id] = lever.default
            continue
        if lever.whole and (not math.isfinite(x) or x != int(x)):
            errors[lever.id] = word("err_whole", lang, example=_example(lever, lang))
        elif not (math.isfinite(x) and low <= x <= high):
            said = word(
                "err_range", lang, low=lever.display(low, lang), high=lever.display(high, lang, unit=True)
            )
            errors[lever.id] = said.replace("..", ".")  # "mio. kr.."
        values[lever.id] = (int(x) if lever.whole else x) if lever.id not in errors else lever.default
    moved = tuple(lv.id for lv in all_levers if values[lv.id] != lv.default and lv.id not in errors)
    return State(values, errors, moved)


def query(all_levers: list[Lever], state: State) -> dict[str, str]:
    """The state as query parameters: only the levers moved away from the files' values."""
    by_id = {lv.id: lv for lv in all_levers}
    return {k: by_id[k].shown(state.values[k]) for k in state.moved}


def changes(
    all_levers: list[Lever], state: State, base: Scenario, lang: str = "en"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dotted-key changes of the moved levers: (both arms', the strategy's own).

    The effect size is not among them: it scales the strategy's changes
    after they are made (:func:`arms`).
    """
    pair: dict[str, Any] = {}
    own: dict[str, Any] = {}
    by_id = {lv.id: lv for lv in all_levers}
    for lid in state.moved:
        lever = by_id[lid]
        if lever.scope == "view":
            continue
        into = pair if lever.scope == "pair" else own
        value = state.values[lid]
        if lid == "discount":
            periods = [p.model_dump() for p in base.discounting.periods] or [{"from_year": 0}]
            was = periods[0].get("rate")
            periods[0]["rate"] = tidy(value * lever.scale)
            # The rate is the page's, not the source's: "(Finansministeriet 2021)" beside 15 % would credit it.
            source = word(
                "discount_source",
                lang,
                rate=L.percent(was, lang, 1) if was is not None else "–",
                source=", " + base.discounting.source if base.discounting.source else "",
            )
            into[lever.key] = {**base.discounting.model_dump(), "periods": periods, "source": source}
        elif lid == "half_life" and value is None:  # no fading: the effect ends with the programme
            into["intervention.fading"] = None
        else:
            into[lever.key] = value if value is None or lever.whole else tidy(value * lever.scale)
    return pair, own


def lever_of(all_levers: list[Lever], key: str) -> str | None:
    """The lever that sets a scenario key (or a table above it), for a message from validation."""
    best = None
    for lever in all_levers:
        if lever.key and (key == lever.key or key.startswith(lever.key + ".")):
            best = lever.id
    if best is None and key.startswith("intervention.fading"):  # the table's other keys
        best = "half_life"
    return best


def arms(
    all_levers: list[Lever], state: State, base: Scenario, strategy: Scenario, lang: str
) -> tuple[Scenario, Scenario] | dict[str, str]:
    """The two scenarios of a state, validated as files are; or messages by lever.

    Both arms take the pair's changes (the horizon, discounting, places);
    the strategy takes its own, then its effect is scaled by the effect size
    as break-even scales it: every hazard ratio ``r`` becomes ``r ** theta``,
    extra entries ``theta`` times theirs.
    """
    from sim.analysis.uncertainty import scaled_effect

    pair, own = changes(all_levers, state, base, lang)
    arm = base  # the file whose copy is being made: a message quotes its years
    try:
        a = base.with_changes(pair, warn=False) if pair else base
        arm = strategy
        b = strategy.with_changes({**pair, **own}, warn=False) if pair or own else strategy
        if state.effect != 1.0:
            b = scaled_effect(b, state.effect)
        last = b.start_year + b.horizon_years - 1
        if b.intervention is not None and b.intervention.start_year > last:
            # Every figure would be 0, for no reason the page could give (validation allows it: a file may).
            where = "start" if "start" in state.moved else "horizon"
            return {where: word("err_after_horizon", lang, start=b.intervention.start_year, last=last)}
    except ScenarioError as err:
        if err.key == "discounting.to_year" and arm.discounting.to_year is not None:
            # Of the levers, only the horizon can end the years simulated before the year discounted to.
            last = arm.start_year + int(state.values.get("horizon", arm.horizon_years)) - 1
            return {"horizon": word("err_discount_year", lang, year=arm.discounting.to_year, last=last)}
        where = lever_of(all_levers, err.key) or "effect"
        said = scenario_message(_in_words(err.message, all_levers, base, lang), lang)
        return {where: word("err_scenario", lang, message=said)}
    return a, b


def _in_words(message: str, all_levers: list[Lever], base: Scenario, lang: str) -> str:
    """A validation message with the file's key names replaced by the levers' names ("start_year" -> "Start year")."""
    import re

    for lever in all_levers:
        last = lever.key.rsplit(".", 1)[-1] if lever.key else ""
        if "_" in last:
            message = re.sub(rf"\b{re.escape(last)}\b", f"'{lever.label(lang, base)}'", message)
    return message
