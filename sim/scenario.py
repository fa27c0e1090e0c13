"""Scenario files: schema, loading TOML, ``extends``, validation.

A scenario is data. It is read with :mod:`tomllib`, merged with the file it
``extends`` (if any), checked for unknown keys (with a "did you mean" hint),
validated by pydantic into frozen models, and finally checked across fields
(steps named in transitions exist, shares sum to one, ...). Every error is a
:class:`ScenarioError` naming the file, the key path and what is allowed.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import re
import tomllib
import types
import typing
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, Strict, StrictBool, ValidationError

from sim.distributions import DistributionError, Uncertain, apply_draw, check

CLOSED = "closed"
"""Name of the pseudo-destination "case closed" in transition tables."""

FM_DISCOUNTING = (
    {"from_year": 0, "rate": 0.035},
    {"from_year": 36, "rate": 0.025},
    {"from_year": 71, "rate": 0.015},
)
"""Finansministeriet (2021): real rate 3.5 % years 0-35, 2.5 % 36-70, then 1.5 %."""


class ScenarioError(ValueError):
    """A scenario file (or a change to a scenario) is not valid.

    Parameters
    ----------
    file : str
        The file the problem is in (or ``"<changes>"``).
    key : str
        Dotted key path, e.g. ``"steps.foster.cost_per_year"``.
    message : str
        What is wrong and what is allowed.
    """

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file, self.key, self.message = file, key, message
        where = f"{file}: " if file else ""
        at = f"key '{key}': " if key else ""
        super().__init__(f"{where}{at}{message}")


# ---------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Numbers are strict: a string ("850") or a boolean is refused, not converted.
NonNeg = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
Pos = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
Share = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=0)]
"""A number of children: a whole number."""
Year = Annotated[int, Strict(), Field(ge=1900, le=2200)]
PAYERS = ("kommune", "region", "stat")
"""Who pays, as in Socialstyrelsen's SØM: the municipality, the region, the state."""
PERSPECTIVES = (*PAYERS, "society")
"""Whose money the budget numbers count: one payer's, or everyone's."""
Payers = dict[Literal["kommune", "region", "stat"], Share]
"""Shares of a cost line by payer; they must sum to 1. Default: the municipality pays all."""


class Exponential(_Model):
    """Exponential stay: the step's rates are hazards (the default)."""

    dist: Literal["exponential"] = "exponential"


class Mixture(_Model):
    """Two groups of exponential stays, short and long (hyperexponential)."""

    dist: Literal["mixture"]
    short_share: Annotated[float, Strict(), Field(gt=0, lt=1)]
    short_mean_years: Pos
    long_mean_years: Pos


class Weibull(_Model):
    """Weibull stay with a given mean and shape (discrete-event engine only)."""

    dist: Literal["weibull"]
    mean_years: Pos
    shape: Pos


class Lognormal(_Model):
    """Lognormal stay with a given mean and log-sd (discrete-event engine only)."""

    dist: Literal["lognormal"]
    mean_years: Pos
    sigma: Pos


Duration = Annotated[Exponential | Mixture | Weibull | Lognormal, Field(discriminator="dist")]


class Capacity(_Model):
    """Places on a step, and what happens to a child due to move onto it when it is full.

    The child waits (first come first served, or by age) on its current step,
    or on ``wait_on``; with ``overflow_to`` it goes to that step instead, at
    once or after ``max_wait_years``.
    """

    places: Count | Literal["unlimited"]
    overflow_to: str | None = None
    max_wait_years: NonNeg | None = None
    wait_on: str | None = None
    queue: Literal["fifo", "oldest_first", "youngest_first"] = "fifo"
    source: str = ""


class Review(_Model):
    """Case reviews: some moves happen only at a review, with a probability per review."""

    interval_months: Pos
    moves: dict[str, Share]
    source: str = ""


class Step(_Model):
    """One step of the staircase."""

    name_da: str
    name_en: str
    placement: StrictBool = False
    cost_per_year: NonNeg = 0.0
    entry_cost: NonNeg = 0.0
    duration: Duration = Exponential()
    capacity: Capacity | None = None
    review: Review | None = None
    payers: Payers | None = None
    price_year: Year | None = None
    """The price year of this step's costs, if not the scenario's (needs ``prices.index``)."""
    source: str = ""


class Casework(_Model):
    """Caseworkers: their cost, and how their caseload sets the review interval.

    A step's ``review.interval_months`` holds at ``reference_caseload``; with
    ``cases / caseworkers`` cases per caseworker the interval scales in
    proportion (half the caseload, reviews twice as often).
    """

    caseworkers: Pos
    cost_per_caseworker: NonNeg = 0.0
    cases: Pos
    reference_caseload: Pos
    payers: Payers | None = None
    price_year: Year | None = None
    source: str = ""


class ExtraPlaces(_Model):
    """Places a strategy adds to a step, and what each costs a year."""

    places: Count
    cost_per_place_per_year: NonNeg = 0.0


class StockAtStart(_Model):
    """Children on a step at the start, with their ages."""

    children: Count
    age_shares: dict[str, Share]


class DiscountPeriod(_Model):
    from_year: Annotated[int, Strict(), Field(ge=0)]
    rate: Annotated[float, Strict(), Field(gt=-1, lt=1)]


class Discounting(_Model):
    """Stepped real discount rates by year from the start year."""

    periods: tuple[DiscountPeriod, ...] = tuple(DiscountPeriod(**p) for p in FM_DISCOUNTING)
    to_year: Year | None = None
    """The year money is discounted to (default: the start year); years before it are compounded forward."""
    source: str = "Finansministeriet 2021"


class Population(_Model):
    """Who comes onto the staircase, at what age, and who is there already."""

    children: Annotated[int, Strict(), Field(gt=0)]
    age_bands: tuple[Annotated[int, Strict()], ...] = (0, 6, 12)
    leaving_age: Annotated[int, Strict(), Field(ge=1, le=30)] = 18
    aftercare_until_age: Annotated[int, Strict(), Field(ge=1, le=30)] | None = None
    aftercare_steps: tuple[str, ...] | None = None
    entries_per_year: NonNeg | None = None
    entries_per_1000_children: NonNeg | None = None
    entry_age_shares: dict[str, Share]
    entry_step_shares: dict[str, Share]
    initial_stock: dict[str, StockAtStart] = {}


Rate = NonNeg | dict[str, NonNeg]
"""A rate per year: one number, or one number per age band label."""


class EntryChange(_Model):
    """Earlier detection: more entries, and on lower steps."""

    extra_entries_per_year: NonNeg = 0.0
    extra_entries_share: NonNeg = 0.0
    entry_step_shares: dict[str, Share] | None = None


class Fading(_Model):
    """How a strategy's effect declines.

    From the year after ``after_year`` (default: the year before the strategy
    starts, so it fades from its start) the effect halves every
    ``half_life_years``; a half-life of 0 (the default) ends it at once, an
    infinite one (``inf``) never fades.
    """

    # inf is allowed here (and written back as inf): "never fades".
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

    half_life_years: Annotated[float, Strict(), Field(ge=0, allow_inf_nan=True)] = 0.0
    after_year: Year | None = None
    source: str = ""


class Intervention(_Model):
    """A strategy laid over a baseline."""

    name: str = "intervention"
    start_year: Year
    end_year: Year | None = None
    """The last year the programme runs and costs; default: to the horizon. Its effect then fades (``fading``)."""
    ramp_up_years: Annotated[int, Strict(), Field(ge=0, le=50)] = 0
    fading: Fading | None = None
    reached_age_bands: tuple[str, ...] | None = None
    """Age bands the hazard ratios apply to (the children the programme reaches); default: all."""
    reached_entry_steps: Annotated[tuple[str, ...], Field(min_length=1)] | None = None
    """Steps whose new cases the hazard ratios apply to, for as long as they are on the staircase
    (children there at the start count as entering where they stand); default: every child."""
    hazard_ratios: dict[str, dict[str, NonNeg]] = {}
    entry: EntryChange = EntryChange()
    cost_per_year: NonNeg = 0.0
    one_off_cost: NonNeg = 0.0
    cost_per_child_reached: NonNeg = 0.0
    reached_steps: tuple[str, ...] = ()
    extra_places: dict[str, ExtraPlaces] = {}
    extra_caseworkers: NonNeg = 0.0
    payers: Payers | None = None
    """Who pays the programme (its yearly, one-off and per-child costs and extra places)."""
    price_year: Year | None = None
    """The price year of the programme's costs, if not the scenario's (needs ``prices.index``)."""
    source: str = ""


class AdultOutcome(_Model):
    """An adult outcome (being employed at 30, on disability pension, ...) and how
    common it is by the highest step a child reached.

    ``share`` gives the share of adults in the outcome by highest step; steps
    not named have the ``reference_share`` (the share among everyone else).
    The outcome is counted as persons above (or below) the reference, and,
    with ``cost_per_year``, costs that much per person-year above the
    reference over the adult years (negative: a net contribution, such as the
    taxes of someone in work).
    """

    name_da: str
    name_en: str
    share: dict[str, Share]
    reference_share: Share
    cost_per_year: Annotated[float, Strict(), Field(allow_inf_nan=False)] = 0.0
    source: str = ""


class Adult(_Model):
    """Costs of adult life after the staircase: a projection, reported apart from the budget.

    For each child who leaves the staircase within the horizon: ``cost_per_year``
    for each of ``years`` years of adult life from age ``from_age`` (or from
    leaving, if later), by the highest step the child reached; a number per
    age band says it by the age at which the child first reached that step.
    Steps not named cost nothing. Discounted like every other cost.
    ``outcomes`` count adult outcomes by highest step (and may cost instead).
    """

    cost_per_year: dict[str, NonNeg | dict[str, NonNeg]] = {}
    outcomes: dict[str, AdultOutcome] = {}
    years: Annotated[int, Strict(), Field(ge=1, le=80)] = 40
    from_age: Annotated[int, Strict(), Field(ge=0, le=30)] = 18
    payers: Payers | None = None
    price_year: Year | None = None
    source: str = ""


class Prices(_Model):
    """A price index by year, to bring costs given in other price years to the scenario's."""

    index: dict[str, Pos]
    source: str = ""

    def factor(self, from_year: int, to_year: int) -> float:
        """Multiply an amount in ``from_year`` prices by this to get ``to_year`` prices."""
        return self.index[str(to_year)] / self.index[str(from_year)]


class Scenario(_Model):
    """A validated, immutable scenario.

    Build one with :func:`load_scenario` (from a TOML file) or
    :meth:`from_dict`; derive variants with :meth:`with_changes`.
    """

    name: str
    title: str = ""
    description: str = ""
    extends: str | None = None
    start_year: Year
    horizon_years: Annotated[int, Strict(), Field(ge=1, le=100)]
    price_year: Year
    currency: str = "DKK"
    language: Literal["da", "en"] = "da"
    discounting: Discounting = Discounting()
    steps: dict[str, Step]
    population: Population
    transitions: dict[str, dict[str, Rate]]
    casework: Casework | None = None
    intervention: Intervention | None = None
    adult: Adult | None = None
    prices: Prices | None = None
    _uncertain: tuple[Uncertain, ...] = PrivateAttr(default=())

    @property
    def uncertain(self) -> tuple[Uncertain, ...]:
        """The numbers given as distributions (the scenario holds their means)."""
        return self._uncertain

    # -- derived views -----------------------------------------------------
    @property
    def step_ids(self) -> list[str]:
        """Step ids in staircase order (lowest, least intrusive, first)."""
        return list(self.steps)

    @property
    def band_edges(self) -> list[int]:
        """Lower edges of the age bands, plus the oldest leaving age at the end."""
        return _band_edges(self.population)

    @property
    def band_labels(self) -> list[str]:
        """Age band labels such as ``"0-5"``."""
        e = self.band_edges
        return [f"{a}-{b - 1}" for a, b in zip(e[:-1], e[1:])]

    @property
    def discount_year(self) -> int:
        """The year money is discounted to: ``discounting.to_year``, else the start year."""
        return self.discounting.to_year or self.start_year

    @property
    def entries_per_year(self) -> float:
        """Baseline new cases per year."""
        p = self.population
        if p.entries_per_year is not None:
            return p.entries_per_year
        return p.children / 1000.0 * (p.entries_per_1000_children or 0.0)

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data (what ``check`` prints)."""
        # ``extends`` is resolved already: the dump stands on its own.
        data = self.model_dump(mode="json", exclude_none=True, exclude={"extends"})
        for u in self._uncertain:  # distributions go back where they were written
            apply_draw(data, u.path, dict(u.spec))
        return data

    def input_hash(self) -> str:
        """SHA-256 of the resolved scenario (stable across key order)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_changes(self, changes: dict[str, Any]) -> Scenario:
        """Return a new scenario with dotted keys replaced.

        Parameters
        ----------
        changes : dict
            ``{"steps.institution.cost_per_year": 1.3e6, ...}``; a key may
            also add a table that does not exist yet, such as
            ``"intervention.hazard_ratios.home.foster"``.

        Examples
        --------
        >>> s = load_scenario("scenarios/denmark-baseline.toml")  # doctest: +SKIP
        >>> s.with_changes({"horizon_years": 10}).horizon_years  # doctest: +SKIP
        10
        """
        data = self.to_dict()
        for key, value in changes.items():
            node = data
            parts = key.split(".")
            for part in parts[:-1]:
                nxt = node.get(part)
                if nxt is None:
                    nxt = node[part] = {}
                if not isinstance(nxt, dict):
                    raise ScenarioError("<changes>", key, f"'{part}' is not a table")
                node = nxt
            node[parts[-1]] = value
        return Scenario.from_dict(data, file="<changes>")

    @classmethod
    def from_dict(cls, data: dict[str, Any], file: str = "<dict>") -> Scenario:
        """Validate plain data (as read from TOML) into a Scenario."""
        data, uncertain = _take_distributions(copy.deepcopy(data), file)
        _check_unknown_keys(cls, data, file, "")
        try:
            scenario = cls.model_validate(data)
        except ValidationError as err:
            raise _from_pydantic(err, file, data) from None
        _check_consistency(scenario, file)
        scenario._uncertain = tuple(uncertain)
        from sim.plausibility import check_limits  # it reads scenarios: imported here, not above

        # Values that cannot give finite results. Break-even's search scales hazard
        # ratios far beyond theirs (r ** 64) through with_changes: it reads the results.
        check_limits(scenario, file, ratios=file != "<changes>")
        return scenario

    def with_values(self, values: dict[str, Any]) -> Scenario:
        """A copy with uncertain numbers fixed at given values (one PSA draw)."""
        data = self.to_dict()
        for path, value in values.items():
            apply_draw(data, path, value)
        return Scenario.from_dict(data, file="<draw>")


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        A TOML file. ``extends = "other.toml"`` is resolved relative to it.

    Returns
    -------
    Scenario
        Frozen and fully validated.

    Raises
    ------
    ScenarioError
        With file, key path and what is allowed; also for a value beyond its
        hard limit (:data:`sim.plausibility.LIMITS`).

    Warns
    -----
    PlausibilityWarning
        For each number outside its plausible range
        (:func:`sim.plausibility.check_scenario`).
    """
    data, file = _read_with_extends(Path(path), [])
    scenario = Scenario.from_dict(data, file=file)
    from sim.plausibility import PlausibilityWarning, check_scenario

    for finding in check_scenario(scenario, file):
        warnings.warn(PlausibilityWarning(str(finding)), stacklevel=2)
    return scenario


# A money or count number written like 1.540 or 45.000: in Danish that is a
# thousands separator, in TOML a decimal point. Checked on the number as
# written (tomlkit keeps the text), anywhere under a key about children,
# entries, places or money, including inside a distribution.
_THOUSANDS_TEXT = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+$")
_COUNT_OR_MONEY = re.compile(r"children|entries|cost|places")
_DECIMAL_COMMA = re.compile(r"=\s*-?\d+,\d")


def _danish_thousands(node: Any, path: str = "") -> tuple[str, str] | None:
    """The first (key path, text) of a number that looks like a Danish thousands separator."""
    if isinstance(node, dict):
        for key, value in node.items():
            found = _danish_thousands(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _danish_thousands(value, f"{path}[{i}]")
            if found:
                return found
    elif isinstance(node, float) and hasattr(node, "as_string"):
        text = node.as_string().strip()
        if _THOUSANDS_TEXT.match(text) and _COUNT_OR_MONEY.search(path):
            return path, text
    return None


def save_scenario(scenario: Scenario, path: str | Path, note: str = "") -> Path:
    """Write a scenario as a TOML file that :func:`load_scenario` reads back unchanged.

    The file stands on its own (``extends`` is resolved); numbers given as
    distributions are written as distributions. An existing file is never
    replaced: choose a new name.

    Parameters
    ----------
    note : str
        A comment for the top of the file (where the numbers came from).
    """
    import tomli_w

    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: exists; choose another name")
    head = "".join(f"# {line}\n" for line in note.splitlines()) if note else ""
    text = head + tomli_w.dumps(scenario.to_dict())
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def scenario_notes(path: str | Path) -> dict[str, str]:
    """The comment written beside each number in a scenario file and the files it extends.

    Scenario files say where each number comes from in a comment on its line
    ("# DST (H): ..." or "# assumption (L): ..."); reports show these beside
    the numbers. A file's comment replaces the one in the file it extends.

    Returns
    -------
    dict
        Dotted key (as in :meth:`Scenario.with_changes`) to comment text.
    """
    path = Path(path)
    chain = [path, *extends_chain(path)]
    notes: dict[str, str] = {}
    for file in reversed(chain):  # the base first, so children override
        try:
            doc = tomlkit.parse(file.read_text(encoding="utf-8-sig"))
        except (OSError, tomlkit.exceptions.ParseError):
            continue
        _collect_notes(doc, "", notes)
    return notes


def extends_chain(path: str | Path) -> list[Path]:
    """The files a scenario file extends, nearest first (paths as its ``extends`` lines give them).

    Stops quietly at a missing or unreadable file or a loop: loading the
    scenario reports those.
    """
    out: list[Path] = []
    seen = {Path(path).resolve()}
    cur = Path(path)
    while True:
        try:
            parent = tomllib.loads(cur.read_text(encoding="utf-8-sig")).get("extends")
        except (OSError, tomllib.TOMLDecodeError):
            return out
        if not isinstance(parent, str):
            return out
        cur = cur.parent / parent
        if cur.resolve() in seen or not cur.is_file():
            return out
        seen.add(cur.resolve())
        out.append(cur)


def _collect_notes(node: Any, prefix: str, notes: dict[str, str]) -> None:
    for key, item in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        comment = getattr(getattr(item, "trivia", None), "comment", "") or ""
        text = comment.lstrip("#").strip()
        if text:
            notes[path] = text
        if isinstance(item, dict):
            _collect_notes(item, path, notes)


def _read_toml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise ScenarioError(str(path), "", "is a folder; give a scenario file (.toml)")
    if not path.is_file():
        raise ScenarioError(str(path), "", "file not found")
    try:
        # utf-8-sig: files saved by Windows Notepad start with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "", "not valid TOML: file is not UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        at = re.search(r"line (\d+)", str(err))  # Python 3.11's error has no lineno attribute
        lines = text.splitlines()
        line = lines[int(at.group(1)) - 1] if at and 0 < int(at.group(1)) <= len(lines) else ""
        hint = ""
        many = re.match(r"\s*([\w-]+)\s*=\s*([1-9]\d{0,2}(?:\.\d{3}){2,})\s*(?:#.*)?$", line)
        if many:  # 1.160.000 is no TOML number at all
            heads = [h for h in lines[: int(at.group(1))] if re.match(r"\s*\[[^\[]", h)]
            table = heads[-1].strip().strip("[]").strip() if heads else ""
            key = f"{table}.{many.group(1)}" if table else many.group(1)
            whole = many.group(2).replace(".", "")
            raise ScenarioError(
                str(path),
                key,
                f"{many.group(2)} reads as a decimal number in TOML; for thousands write {whole} or "
                f"{int(whole):_} (and 0.5 for a half)",
            ) from None
        if _DECIMAL_COMMA.search(line.split("#", 1)[0]):
            hint = (
                "; a decimal comma? TOML writes decimals with a point (1.54) and thousands as 1540 or 1_540"
            )
        raise ScenarioError(str(path), "", f"not valid TOML: {err}{hint}") from None
    found = _danish_thousands(tomlkit.parse(text))
    if found:
        key, number = found
        whole = number.replace(".", "")
        raise ScenarioError(
            str(path),
            key,
            f"{number} reads as a decimal number in TOML; for thousands write {whole} or "
            f"{int(whole):_} (and 0.5 for a half)",
        )
    return data


def _read_with_extends(path: Path, seen: list[Path]) -> tuple[dict[str, Any], str]:
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(p.name for p in [*seen, resolved])
        raise ScenarioError(str(path), "extends", f"circular extends: {chain}")
    data = _read_toml(path)
    parent = data.get("extends")
    if parent is None:
        return data, str(path)
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", "must be a file name (a string)")
    base_path = path.parent / parent
    if not base_path.is_file():
        raise ScenarioError(
            str(path),
            "extends",
            f"file '{parent}' not found next to {path.name}; the path is relative to this file: copy "
            f"'{parent}' beside it, or write a relative path such as '../scenarios/{Path(parent).name}'",
        )
    base, _ = _read_with_extends(base_path, [*seen, resolved])
    # A typo in the base file is reported against the base file; other errors
    # in the merged data against the extending file, which made the mix.
    _check_unknown_keys(Scenario, base, str(base_path), "")
    merged = _deep_merge(base, data)
    return merged, str(path)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# ---------------------------------------------------------------------------
# Errors: unknown keys with a hint, pydantic errors with key paths
# ---------------------------------------------------------------------------


def _take_distributions(data: Any, file: str, path: str = "") -> tuple[Any, list[Uncertain]]:
    """Replace every distribution table by its mean; return the distributions found.

    A table with a ``dist`` key is a distribution, except a step's
    ``duration`` (whose ``dist`` names the duration law).
    """
    found: list[Uncertain] = []
    if not isinstance(data, dict):
        return data, found
    for key, value in list(data.items()):
        key_path = f"{path}.{key}" if path else key
        if not isinstance(value, dict):
            continue
        parts = key_path.split(".")
        is_duration = len(parts) == 3 and parts[0] == "steps" and parts[2] == "duration"
        if "dist" in value and not is_duration:
            try:
                check(value)
            except DistributionError as err:
                raise ScenarioError(file, key_path, str(err)) from None
            u = Uncertain(key_path, dict(value))
            data[key] = u.central()
            found.append(u)
        else:
            data[key], inner = _take_distributions(value, file, key_path)
            found += inner
    return data, found


def _model_in(annotation: Any) -> tuple[str, Any] | None:
    """Find ``("model", M)`` or ``("dict", M)`` for a field's annotation."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("model", annotation)
    if origin is dict:
        inner = _model_in(typing.get_args(annotation)[1])
        if inner and inner[0] == "model":
            return ("dict", inner[1])
        return None
    if origin in (Union, types.UnionType):
        models = [m for a in typing.get_args(annotation) if (m := _model_in(a)) is not None]
        if len(models) == 1:
            return models[0]
    return None


def _check_unknown_keys(model: type[BaseModel], data: Any, file: str, path: str) -> None:
    if not isinstance(data, dict):
        return
    fields = model.model_fields
    for key, value in data.items():
        key_path = f"{path}.{key}" if path else key
        if key not in fields:
            allowed = sorted(fields)
            hint = difflib.get_close_matches(key, allowed, n=1)
            did = f" Did you mean '{hint[0]}'?" if hint else ""
            raise ScenarioError(
                file,
                key_path,
                f"unknown key.{did} Allowed here: {', '.join(allowed)}.",
            )
        found = _model_in(fields[key].annotation)
        if found is None:
            continue
        kind, sub = found
        if kind == "model":
            _check_unknown_keys(sub, value, file, key_path)
        elif isinstance(value, dict):
            for name, item in value.items():
                _check_unknown_keys(sub, item, file, f"{key_path}.{name}")


def _step_named_wrong(loc: list[str], data: dict, file: str) -> ScenarioError | None:
    """A required key missing under a step name that is a typo of a real one, said as the typo.

    ``[population.initial_stock.netwrok]`` lacks ``age_shares`` and ``[steps.instituion]``
    (with only a cost) lacks ``name_da``, but the mistake is the step's name.
    """
    steps = data.get("steps") if isinstance(data.get("steps"), dict) else {}
    if len(loc) >= 3 and loc[0] == "steps":
        name, others = loc[1], [k for k in steps if k != loc[1]]
        hint = difflib.get_close_matches(name, others, n=1)
        if hint:
            return ScenarioError(
                file,
                f"steps.{name}",
                f"a new step '{name}' (it has no {loc[2]}). Did you mean the step '{hint[0]}'? "
                f"A new step needs name_da, name_en and its other keys.",
            )
    if len(loc) >= 4 and loc[:2] == ["population", "initial_stock"] and loc[2] not in steps:
        hint = difflib.get_close_matches(loc[2], list(steps), n=1)
        did = f" Did you mean '{hint[0]}'?" if hint else ""
        return ScenarioError(
            file,
            f"population.initial_stock.{loc[2]}",
            f"unknown step '{loc[2]}'.{did} Allowed: {', '.join(steps)}.",
        )
    return None


def _from_pydantic(err: ValidationError, file: str, data: dict | None = None) -> ScenarioError:
    first = err.errors()[0]
    # Drop pydantic's internal union/discriminator tags from the path.
    loc = [
        str(p)
        for p in first["loc"]
        if not (
            isinstance(p, str)
            and ("[" in p or p in {"float", "int", "dict", "constrained-float", "constrained-int"})
        )
    ]
    msg = first["msg"]
    ctx = first.get("ctx", {})
    kind = first["type"]
    friendly = {
        "greater_than_equal": "must be at least {ge:g}",
        "greater_than": "must be above {gt:g}",
        "less_than_equal": "must be at most {le:g}",
        "less_than": "must be below {lt:g}",
        "float_type": "must be a number",
        "int_type": "must be a whole number (no decimals, no quotes)",
        "bool_type": "must be true or false",
        "string_type": "must be text in quotes",
        "finite_number": "must be a finite number",
    }
    if kind in friendly:
        msg = friendly[kind].format(**ctx)
    if kind == "missing":
        msg = "required key is missing"
        wrong = _step_named_wrong(loc, data or {}, file)
        if wrong is not None:
            return wrong
    if loc and loc[-1] == "places" and kind in ("int_type", "literal_error"):
        msg = 'must be a whole number of places, or "unlimited"'
    elif kind == "union_tag_invalid":
        msg = "unknown duration 'dist'; allowed: exponential, mixture, weibull, lognormal"
    given = first.get("input")
    if kind != "missing" and not isinstance(given, dict | list):
        msg += f" (got {given!r})"
    if kind == "literal_error" and isinstance(given, str):
        # A payer, a queue, a language: say which one was meant.
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = difflib.get_close_matches(given, allowed, n=1, cutoff=0.5)
        if hint:
            msg += f". Did you mean '{hint[0]}'?"
    if kind == "float_type" and isinstance(given, str) and given.strip().lower() in ("inf", "infinity"):
        msg += "; write inf without quotes for a value that never ends"
    return ScenarioError(file, ".".join(loc), msg)


# ---------------------------------------------------------------------------
# Cross-field checks
# ---------------------------------------------------------------------------


def _band_edges(pop: Population) -> list[int]:
    top = pop.aftercare_until_age or pop.leaving_age
    edges = sorted(set(pop.age_bands) | ({pop.leaving_age} if top > pop.leaving_age else set()))
    return [e for e in edges if e < top] + [top]


def _shares_sum_to_one(shares: dict[str, float], file: str, key: str) -> None:
    total = sum(shares.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ScenarioError(file, key, f"shares must sum to 1 (they sum to {total:.6g})")


def _known(name: str, allowed: list[str], file: str, key: str, what: str) -> None:
    if name not in allowed:
        hint = difflib.get_close_matches(name, allowed, n=1)
        did = f" Did you mean '{hint[0]}'?" if hint else ""
        raise ScenarioError(file, key, f"unknown {what} '{name}'.{did} Allowed: {', '.join(allowed)}.")


def _check_adult(s: Scenario, file: str) -> None:
    adult = s.adult
    if not adult.cost_per_year and not adult.outcomes:
        raise ScenarioError(
            file,
            "adult",
            "gives neither cost_per_year nor outcomes: give one, or leave the [adult] table out",
        )
    costly = [k for k, o in adult.outcomes.items() if o.cost_per_year != 0]
    if costly and any(adult.cost_per_year.values()):
        raise ScenarioError(
            file,
            f"adult.outcomes.{costly[0]}.cost_per_year",
            "would count the same money twice: adult.cost_per_year (a lifetime gap in net public "
            "contribution) already holds work, benefits and pensions; cost adult life one way, "
            "and leave the outcomes' cost_per_year at 0 to count persons only",
        )
    for key, outcome in adult.outcomes.items():
        if not key.isidentifier():
            raise ScenarioError(
                file, f"adult.outcomes.{key}", "an outcome's key must be a plain name (letters, digits, _)"
            )
        for step in outcome.share:
            _known(step, s.step_ids, file, f"adult.outcomes.{key}.share.{step}", "step")


def _check_consistency(s: Scenario, file: str) -> None:
    steps = s.step_ids
    if len(steps) < 2:
        raise ScenarioError(file, "steps", "at least two steps are needed")
    if CLOSED in steps:
        raise ScenarioError(file, f"steps.{CLOSED}", f"'{CLOSED}' is reserved for case closure")
    if not any(st.placement for st in s.steps.values()):
        raise ScenarioError(file, "steps", "at least one step must have placement = true")
    last = s.start_year + s.horizon_years - 1
    if s.discounting.to_year is not None and not s.start_year <= s.discounting.to_year <= last:
        raise ScenarioError(
            file,
            "discounting.to_year",
            f"must be a simulated year, {s.start_year} to {last} (got {s.discounting.to_year})",
        )
    if s.prices is not None:
        for year in s.prices.index:
            if not (year.isdigit() and len(year) == 4):
                raise ScenarioError(file, f"prices.index.{year}", 'keys must be years, such as "2019"')
    lines = [(f"steps.{k}", st.price_year) for k, st in s.steps.items()]
    lines += [("casework", s.casework.price_year if s.casework else None)]
    lines += [("intervention", s.intervention.price_year if s.intervention else None)]
    lines += [("adult", s.adult.price_year if s.adult else None)]
    if s.adult is not None:
        _check_adult(s, file)
        for step, cost in s.adult.cost_per_year.items():
            _known(step, s.step_ids, file, f"adult.cost_per_year.{step}", "step")
            for band in cost if isinstance(cost, dict) else ():
                _known(band, s.band_labels, file, f"adult.cost_per_year.{step}.{band}", "age band")
    for where, year in lines:
        if year is None or year == s.price_year:
            continue
        have = sorted(s.prices.index) if s.prices is not None else []
        for needed in (year, s.price_year):
            if str(needed) not in have:
                given = (
                    f"prices.index has {', '.join(have)}" if have else "the scenario has no [prices] index"
                )
                raise ScenarioError(
                    file,
                    f"{where}.price_year" if needed == year else "price_year",
                    f"no price index for {needed}: {given}; add the year to prices.index, or give the "
                    f"costs in {s.price_year} prices",
                )
    tables = [(f"steps.{k}.payers", st.payers) for k, st in s.steps.items()]
    tables += [("casework.payers", s.casework.payers if s.casework else None)]
    tables += [("intervention.payers", s.intervention.payers if s.intervention else None)]
    tables += [("adult.payers", s.adult.payers if s.adult else None)]
    for key, payers in tables:
        if payers is not None:
            _shares_sum_to_one(dict(payers), file, key)
    iv = s.intervention
    if iv is not None:
        if iv.end_year is not None and iv.end_year < iv.start_year:
            raise ScenarioError(
                file,
                "intervention.end_year",
                f"must not be before start_year {iv.start_year} (got {iv.end_year})",
            )
        if (
            iv.fading is not None
            and iv.fading.after_year is not None
            and iv.fading.after_year < iv.start_year - 1
        ):
            raise ScenarioError(
                file,
                "intervention.fading.after_year",
                f"must be {iv.start_year - 1} (fade from the start) or later (got {iv.fading.after_year})",
            )
        for band in iv.reached_age_bands or ():
            _known(band, s.band_labels, file, "intervention.reached_age_bands", "age band")
        for sid in iv.reached_entry_steps or ():
            _known(sid, s.step_ids, file, "intervention.reached_entry_steps", "step")
    pop = s.population
    ages = sorted(pop.age_bands)
    if list(pop.age_bands) != ages or len(set(ages)) != len(ages) or ages[0] != 0:
        raise ScenarioError(file, "population.age_bands", "lower band edges must start at 0 and increase")
    if ages[-1] >= pop.leaving_age:
        raise ScenarioError(
            file, "population.age_bands", f"band edges must be below leaving_age ({pop.leaving_age})"
        )
    if pop.aftercare_until_age is not None and pop.aftercare_until_age <= pop.leaving_age:
        raise ScenarioError(
            file, "population.aftercare_until_age", f"must be above leaving_age ({pop.leaving_age})"
        )
    if (pop.entries_per_year is None) == (pop.entries_per_1000_children is None):
        raise ScenarioError(
            file,
            "population.entries_per_year",
            "give exactly one of entries_per_year and entries_per_1000_children",
        )
    labels = s.band_labels
    entry_labels = [lab for lab, lo in zip(labels, s.band_edges) if lo < pop.leaving_age]
    for lab in pop.entry_age_shares:
        _known(lab, entry_labels, file, f"population.entry_age_shares.{lab}", "age band")
    _shares_sum_to_one(pop.entry_age_shares, file, "population.entry_age_shares")
    for st in pop.entry_step_shares:
        _known(st, steps, file, f"population.entry_step_shares.{st}", "step")
    _shares_sum_to_one(pop.entry_step_shares, file, "population.entry_step_shares")
    aftercare = set(pop.aftercare_steps or (k for k, v in s.steps.items() if v.placement))
    for st, stock in pop.initial_stock.items():
        _known(st, steps, file, f"population.initial_stock.{st}", "step")
        allowed = labels if (pop.aftercare_until_age and st in aftercare) else entry_labels
        for lab in stock.age_shares:
            key = f"population.initial_stock.{st}.age_shares.{lab}"
            _known(lab, labels, file, key, "age band")
            if lab not in allowed and stock.age_shares[lab] > 0:
                raise ScenarioError(
                    file,
                    key,
                    f"children on '{st}' leave at {pop.leaving_age}; allowed bands: {', '.join(allowed)}",
                )
        _shares_sum_to_one(stock.age_shares, file, f"population.initial_stock.{st}.age_shares")
    for st in pop.aftercare_steps or ():
        _known(st, steps, file, "population.aftercare_steps", "step")
    for src, row in s.transitions.items():
        _known(src, steps, file, f"transitions.{src}", "step")
        for dst, rate in row.items():
            key = f"transitions.{src}.{dst}"
            if dst == src:
                raise ScenarioError(file, key, "a step cannot move to itself")
            _known(dst, [*(x for x in steps if x != src), CLOSED], file, key, "destination")
            if isinstance(rate, dict):
                for lab in rate:
                    _known(lab, labels, file, f"{key}.{lab}", "age band")
                # Aftercare bands may be left out: they inherit the last child band.
                missing = [lab for lab in entry_labels if lab not in rate]
                if missing:
                    raise ScenarioError(
                        file, key, f"give a rate for every age band; missing: {', '.join(missing)}"
                    )
    for sid, step in s.steps.items():
        if not isinstance(step.duration, Exponential):
            row = s.transitions.get(sid, {})
            if not any(_max_rate(r) > 0 for r in row.values()):
                raise ScenarioError(
                    file,
                    f"steps.{sid}.duration",
                    "a step with a non-exponential duration needs transitions saying where "
                    "children go (their rates are used as proportions)",
                )
    _check_capacity_and_reviews(s, file)
    iv = s.intervention
    if iv is not None:
        if iv.start_year < s.start_year:
            raise ScenarioError(
                file, "intervention.start_year", f"must not be before start_year ({s.start_year})"
            )
        for src, row in iv.hazard_ratios.items():
            _known(src, steps, file, f"intervention.hazard_ratios.{src}", "step")
            for dst in row:
                key = f"intervention.hazard_ratios.{src}.{dst}"
                # A hazard ratio scales a move the baseline has: those are the ones to suggest.
                _known(
                    dst,
                    [*steps, CLOSED] if dst in steps else list(s.transitions.get(src, {})),
                    file,
                    key,
                    "destination",
                )
                if dst not in s.transitions.get(src, {}):
                    raise ScenarioError(
                        file, key, f"there is no transition {src} -> {dst} in the baseline to scale"
                    )
        if iv.entry.entry_step_shares is not None:
            for st in iv.entry.entry_step_shares:
                _known(st, steps, file, f"intervention.entry.entry_step_shares.{st}", "step")
            _shares_sum_to_one(iv.entry.entry_step_shares, file, "intervention.entry.entry_step_shares")
        for st in iv.reached_steps:
            _known(st, steps, file, "intervention.reached_steps", "step")
        for st in iv.extra_places:
            key = f"intervention.extra_places.{st}"
            _known(st, steps, file, key, "step")
            if capped_steps(s).get(st) is None:
                raise ScenarioError(file, key, f"step '{st}' has no capacity limit to add places to")
        if iv.extra_caseworkers and s.casework is None:
            raise ScenarioError(
                file,
                "intervention.extra_caseworkers",
                "needs a [casework] table (caseworkers, cases, caseload)",
            )


def _max_rate(rate: float | dict[str, float]) -> float:
    return max(rate.values()) if isinstance(rate, dict) else rate


def stock_above_places(s: Scenario) -> list[str]:
    """Notes for steps that hold, or may come to hold, more children than places.

    Allowed: children at the start may outnumber the places (it is how a
    shortage looks on day one), and a strategy's extra places may end while
    children are in them (nobody is moved out because a place is cut). In
    both cases nobody is admitted until fewer children than places are there.
    """
    notes = []
    for sid, places in capped_steps(s).items():
        stock = s.population.initial_stock.get(sid)
        if stock is not None and stock.children > places:
            notes.append(
                f"steps.{sid}: {stock.children:,} children at the start but {places:,} places; "
                f"nobody is admitted until fewer than {places:,} are there"
            )
    iv = s.intervention
    if iv is not None and iv.end_year is not None and iv.end_year < s.start_year + s.horizon_years - 1:
        for sid, extra in iv.extra_places.items():
            if extra.places:
                notes.append(
                    f"intervention.extra_places.{sid}: the {extra.places:,} extra places end after "
                    f"{iv.end_year}; the children in them stay until they leave, so '{sid}' may hold more "
                    "children than places for a while, and nobody is admitted until fewer than its places are there"
                )
    return notes


def capped_steps(s: Scenario) -> dict[str, int]:
    """Steps with a finite number of places, and that number."""
    return {
        sid: st.capacity.places
        for sid, st in s.steps.items()
        if st.capacity is not None and st.capacity.places != "unlimited"
    }


def _check_capacity_and_reviews(s: Scenario, file: str) -> None:
    steps = s.step_ids
    capped = capped_steps(s)
    for sid, st in s.steps.items():
        cap = st.capacity
        if cap is not None:
            key = f"steps.{sid}.capacity"
            if cap.overflow_to is not None:
                _known(cap.overflow_to, steps, file, f"{key}.overflow_to", "step")
                if cap.overflow_to == sid:
                    raise ScenarioError(file, f"{key}.overflow_to", "a step cannot overflow to itself")
            elif cap.max_wait_years is not None:
                raise ScenarioError(
                    file,
                    f"{key}.max_wait_years",
                    "a maximum wait needs overflow_to: where the child goes after it",
                )
            if cap.wait_on is not None:
                _known(cap.wait_on, steps, file, f"{key}.wait_on", "step")
                if cap.wait_on in capped or cap.wait_on == sid:
                    raise ScenarioError(
                        file, f"{key}.wait_on", "children must wait on a step without a capacity limit"
                    )
        # A new case sent straight onto a full step, or a child sent on by
        # another full step, waits on a step below it.
        sent_here = any(o.capacity is not None and o.capacity.overflow_to == sid for o in s.steps.values())
        # New cases come where the baseline's shares say, and, as a strategy ramps in, where its say.
        iv = s.intervention
        shares = [s.population.entry_step_shares]
        if iv is not None and iv.entry.entry_step_shares is not None:
            shares.append(iv.entry.entry_step_shares)
        arrives = any(sh.get(sid, 0) > 0 for sh in shares) or sent_here
        if sid in capped and arrives and cap.wait_on is None:
            if cap.overflow_to is None or (cap.max_wait_years or 0) > 0:
                below = [x for x in steps[: steps.index(sid)] if x not in capped]
                if not below:
                    raise ScenarioError(
                        file,
                        f"steps.{sid}.capacity.wait_on",
                        "children arrive on this step from outside (new cases or overflow); name the "
                        "step they wait on while it is full",
                    )
        rv = st.review
        if rv is not None:
            key = f"steps.{sid}.review"
            for dst in rv.moves:
                if dst == sid:
                    raise ScenarioError(
                        file, f"{key}.moves.{dst}", "a review cannot move a child to its own step"
                    )
                _known(
                    dst, [*(x for x in steps if x != sid), CLOSED], file, f"{key}.moves.{dst}", "destination"
                )
            total = sum(rv.moves.values())
            if total > 1 + 1e-9:
                raise ScenarioError(
                    file,
                    f"{key}.moves",
                    f"probabilities per review must sum to at most 1 (they sum to {total:.6g})",
                )
    # Overflow must end somewhere: no cycles a -> b -> a.
    for sid in capped:
        chain, cur = [sid], s.steps[sid].capacity.overflow_to
        while cur is not None and cur in capped:
            if cur in chain:
                raise ScenarioError(
                    file,
                    f"steps.{sid}.capacity.overflow_to",
                    f"a cycle of overflows: {' -> '.join([*chain, cur])}; one step in it must wait instead",
                )
            chain.append(cur)
            cur = s.steps[cur].capacity.overflow_to
