"""Calibration: fit a scenario's numbers to observed stocks and flows.

A planner's first question is whether the baseline looks like the
municipality. Observed numbers come as a tidy CSV (one row per year, measure
and step); :func:`calibrate` fits the chosen keys of a scenario to them by
weighted least squares on the analytic engine (scipy's ``least_squares``),
checks the fit with the discrete-event engine, says how well it fits and
which keys the data could not pin down, and :func:`write_calibrated` writes
the scenario file again with the fitted values, each commented.

Observed data format (``scenarios/data/denmark-observed.csv`` is an example):

``year``
    calendar year.
``measure``
    ``stock_end`` (children on the step at 31 December), ``entries`` (new
    cases and moves onto the step), ``exits`` (moves off it, closures and
    ageing out), ``new_cases``, ``placement_entries`` (new placements) — or,
    kept for the record but not fitted, ``persons_in_year`` and
    ``stock_exit_share``.
``step``
    a step id, ``placed`` (every placement step), ``all``, or steps joined
    with ``+`` (``preventive+home``).
``value``
    the number (not negative).
``ages`` (optional)
    the ages the number covers, such as ``0-17``; a row whose ages differ
    from the scenario's is left out, with a note.
``sd`` (optional)
    its standard error; without one, a share of the value by ``confidence``
    (H 2 %, M 5 %, L 10 %, none 5 %).
``confidence``, ``source`` (optional)
    as in the scenario files.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sim.errors import OptionError, OutputExistsError
from sim.outputs import language as L
from sim.run.experiment import DEFAULT_SEED, Result, check_whole, simulate
from sim.scenario import Scenario, ScenarioError, ScenarioLike, as_scenario
from sim.scenario.files import edit_toml
from sim.scenario.files import value_at as _get

FITTED = ("stock_end", "entries", "exits", "new_cases", "placement_entries")
"""Measures the model gives, and calibration fits."""
RECORDED = ("persons_in_year", "stock_exit_share")
"""Measures a data file may hold for the record; the model does not give them (yet)."""
RELATIVE_SD = {"H": 0.02, "M": 0.05, "L": 0.10, "": 0.05}
"""Standard error as a share of the value when a row gives none, by confidence."""
REQUIRED = ("year", "measure", "step", "value")
MAX_CHI2_PER_DOF = 10.0
"""A fit whose chi-square per degree of freedom is above this is refused.

With standard errors that say how uncertain the observations are, a model
that fits has a chi-square near its degrees of freedom (the calibrated
national baseline: 22.9 on 9). Above 10 per degree of freedom the model
misses the observations by more than three standard errors on average: the
data, their units or the keys fitted are wrong, and a "calibrated" file
would only carry the error on.
"""


class CalibrationError(ScenarioError):
    """A data file or a request the calibration cannot use (the CLI exits with 2)."""


# ---------------------------------------------------------------------------
# Observed data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """Observed numbers a scenario can be compared with.

    Attributes
    ----------
    rows : pandas.DataFrame
        The rows used: ``year``, ``measure``, ``step``, ``value``, ``sd``, ``source``.
    left_out : list of str
        Rows not used, and why.
    file : str
    """

    rows: pd.DataFrame
    left_out: list[str]
    file: str
    reasons: list[tuple[dict[str, Any], str, dict[str, Any]]] = field(default_factory=list)
    """Per row left out: the row (``row``, ``year``, ``measure``, ``step``), and why, as a
    :mod:`sim.outputs.language` key and its values (for :meth:`left_out_in`)."""

    def left_out_in(self, lang: str) -> list[str]:
        """The rows left out, and why, in ``lang``."""
        if len(self.reasons) != len(self.left_out):  # made by hand, without reasons
            return list(self.left_out)
        return [L.t("cal_left_row", lang, **row) + ": " + L.t(key, lang, **v) for row, key, v in self.reasons]


def _ages(scenario: Scenario) -> str:
    top = scenario.population.aftercare_until_age or scenario.population.leaving_age
    return f"0-{top - 1}"


def _steps_of(spec: str, scenario: Scenario) -> list[str]:
    if spec == "placed":
        return [s for s in scenario.step_ids if scenario.steps[s].placement]
    if spec == "all":
        return list(scenario.step_ids)
    return spec.split("+")


# Numbers as Danish Excel writes them: "." groups thousands, "," is the decimal mark
# ("11.500" is eleven thousand five hundred, "1.234,5" and "0,16" have decimals).
_DANISH = re.compile(r"^[+-]?([1-9]\d{0,2}(\.\d{3})+|\d+)(,\d+)?([eE][+-]?\d+)?$")
# Numbers as programs write them: "." is the decimal mark, no thousands separator.
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# "11.500" or "1.500" in a comma-separated file: eleven and a half, or a Danish
# eleven thousand five hundred? A count of children is refused rather than guessed.
_ONE_GROUP = re.compile(r"^[+-]?[1-9]\d{0,2}\.\d{3}$")
_MISSING = {"", "na", "n/a", "nan"}
"""What an empty optional number (``sd``) may be written as."""


def _number(text: str, danish: bool, count: bool) -> float:
    """A number in a data file's convention (``ValueError`` saying why it cannot be read).

    Parameters
    ----------
    danish : bool
        The file is semicolon-separated, as Danish Excel writes CSV: "."
        groups thousands and "," is the decimal mark.
    count : bool
        The number counts children (not a share): a comma-separated file's
        "11.500" is then refused as ambiguous.
    """
    t = text.strip()
    if danish:
        if _DANISH.match(t):
            return float(t.replace(".", "").replace(",", "."))
        if _PLAIN.match(t):
            raise ValueError(
                f"'{t}' cannot be read: in a semicolon-separated file (as Danish Excel saves CSV) '.' "
                "groups thousands in threes (11.500 is eleven thousand five hundred) and ',' is the "
                "decimal mark (11,5)"
            )
        raise ValueError(f"'{t}' is not a number")
    if count and _ONE_GROUP.match(t):
        small, large = f"{float(t):g}", t.replace(".", "").lstrip("+")
        raise ValueError(
            f"'{t}' is ambiguous: {small}, or {large} written with a Danish thousands separator; write "
            f"{small} or {large}, or save the file from Excel as CSV separated by semicolons (then '.' "
            "separates thousands)"
        )
    if _PLAIN.match(t):
        return float(t)
    if "," in t or t.count(".") > 1:
        raise ValueError(
            f"'{t}' cannot be read: in a comma-separated file numbers have no thousands separator and "
            "'.' is the decimal mark (0.16); a file from Danish Excel is read as it is when saved as CSV "
            "separated by semicolons"
        )
    raise ValueError(f"'{t}' is not a number")


def _table(path: str | Path) -> tuple[list[str], list[tuple[int, list[str]]], bool]:
    """The header, the rows (each with its row number as a spreadsheet shows it) and whether it is Danish.

    Reads UTF-8 (with or without the byte-order mark Excel writes) or, failing
    that, Windows-1252 (Excel's "CSV" on Danish Windows); a semicolon in the
    header, or a first line ``sep=;``, makes the file semicolon-separated.
    """
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise CalibrationError(file, "", "file not found") from None
    except OSError as err:
        raise CalibrationError(file, "", f"cannot be read ({err.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise CalibrationError(file, "", "not a text file (neither UTF-8 nor Windows-1252)") from None
    lines = text.splitlines(keepends=True)
    skipped = 0
    sep = None
    if lines and lines[0].strip().lower().startswith("sep="):  # Excel's hint, not part of the table
        sep, skipped = lines[0].strip()[4:5] or None, 1
    body = "".join(lines[skipped:])
    first = body.split("\n", 1)[0]
    if sep is None:
        sep = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sep)
    try:
        header = [h.strip() for h in next(reader)]
        rows = []
        for fields in reader:
            if any(f.strip() for f in fields):  # Excel writes ";;;;" for an empty row
                rows.append((reader.line_num, [f.strip() for f in fields]))
    except StopIteration:
        raise CalibrationError(file, "", "empty: a data file needs a header and rows") from None
    except csv.Error as err:
        raise CalibrationError(file, "", f"not a readable CSV file ({err})") from None
    for row, fields in rows:
        if len(fields) > len(header):
            hint = " (a decimal comma in a comma-separated file? write 0.16)" if sep == "," else ""
            raise CalibrationError(
                file, "", f"row {row}: {len(fields)} values but {len(header)} columns{hint}"
            )
        fields.extend([""] * (len(header) - len(fields)))
    return header, rows, sep == ";"


def _cell(file: str, row: int, column: str, message: str) -> CalibrationError:
    return CalibrationError(file, "", f"row {row}, column {column}: {message}")


def read_observed(path: str | Path, scenario: ScenarioLike) -> Observed:
    """Read and check an observed-data CSV against a scenario.

    Reads comma-separated files with "." as the decimal mark, and files as
    Danish Excel saves them: semicolon-separated, "," as the decimal mark,
    "." between thousands ("11.500" is eleven thousand five hundred),
    UTF-8 with a byte-order mark or Windows-1252. A number that cannot be
    read, or that could be read two ways, is refused.

    Raises
    ------
    CalibrationError
        Naming the file, the row and column, and what is allowed.
    """
    scenario = as_scenario(scenario)  # a scenario, or the path of its file
    file = str(path)
    header, table, danish = _table(path)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CalibrationError(
            file,
            ", ".join(missing),
            f"missing column(s); a data file needs {', '.join(REQUIRED)} "
            "(and may have ages, sd, confidence, source)"
            + ("" if len(header) > 1 else "; the columns are separated by commas, or by semicolons"),
        )
    known = {*REQUIRED, "ages", "sd", "confidence", "source"}
    extra = [c for c in header if c not in known]
    if extra:
        raise CalibrationError(file, extra[0], f"unknown column; allowed: {', '.join(sorted(known))}")
    first, last = scenario.start_year, scenario.start_year + scenario.horizon_years - 1
    allowed_steps = ["placed", "all", *scenario.step_ids]
    used, left_out, reasons = [], [], []
    for row, fields in table:
        r = dict.fromkeys(known, "") | dict(zip(header, fields))
        measure = r["measure"]
        if measure not in FITTED + RECORDED:
            raise _cell(
                file, row, "measure", f"unknown measure '{measure}'; allowed: {', '.join(FITTED + RECORDED)}"
            )
        count = measure != "stock_exit_share"
        numbers: dict[str, float] = {}
        for col in ("year", "value", "sd"):
            text = r[col]
            if col == "sd" and text.lower() in _MISSING:
                numbers[col] = math.nan
                continue
            if not text:
                raise _cell(file, row, col, "is empty; every row needs a year and a value")
            try:
                numbers[col] = _number(text, danish, count and col != "year")
            except ValueError as err:
                raise _cell(file, row, col, str(err)) from None
        year, value, sd = numbers["year"], numbers["value"], numbers["sd"]
        if not year.is_integer():
            raise _cell(file, row, "year", f"must be a whole year (got {r['year']})")
        year = int(year)
        if not math.isfinite(value) or value < 0:
            raise _cell(file, row, "value", f"must be a number of at least 0 (got {r['value']})")
        if not (math.isnan(sd) or (math.isfinite(sd) and sd > 0)):
            raise _cell(file, row, "sd", f"must be a positive number or empty (got {r['sd']})")
        step = r["step"]
        for part in step.split("+"):
            if part not in allowed_steps:
                raise _cell(
                    file,
                    row,
                    "step",
                    f"'{part}' is not a step of scenario '{scenario.name}'; allowed: "
                    f"{', '.join(allowed_steps)}, or steps joined with '+'",
                )
        if r["confidence"] not in RELATIVE_SD:
            raise _cell(file, row, "confidence", f"must be H, M, L or empty (got {r['confidence']})")
        about = {"row": row, "year": year, "measure": measure, "step": step}
        why = None
        if measure in RECORDED:
            why = ("cal_left_measure", {})
        elif r["ages"] and r["ages"] != _ages(scenario):
            why = ("cal_left_ages", {"ages": r["ages"], "model": _ages(scenario)})
        elif not first <= year <= last:
            why = ("cal_left_years", {"first": first, "last": last})
        if why is not None:
            reasons.append((about, *why))
            left_out.append(L.t("cal_left_row", "en", **about) + ": " + L.t(why[0], "en", **why[1]))
            continue
        sd = sd if not math.isnan(sd) else max(value * RELATIVE_SD[r["confidence"]], 1e-9)
        used.append(
            {"year": year, "measure": measure, "step": step, "value": value, "sd": sd, "source": r["source"]}
        )
    rows = pd.DataFrame(used, columns=["year", "measure", "step", "value", "sd", "source"])
    if rows.duplicated(["year", "measure", "step"]).any():
        dup = rows[rows.duplicated(["year", "measure", "step"], keep=False)].iloc[0]
        raise CalibrationError(
            file,
            f"{dup['year']} {dup['measure']} {dup['step']}",
            "given twice; keep one row per year, measure and step",
        )
    return Observed(rows, left_out, file, reasons)


def model_values(result: Result, rows: pd.DataFrame) -> np.ndarray:
    """The model's value for each observed row (mean over replications)."""
    m = {k: v.mean(axis=0) for k, v in result.measures.items()}  # [year, step]
    series = {
        "stock_end": m["stock_end"],
        "entries": m["new_cases"] + m["moves_in"],
        "exits": m["moves_up"] + m["moves_down"] + m["closed"] + m["aged_out"],
        "new_cases": m["new_cases"],
        "placement_entries": m["placement_entries"],
    }
    index = {s: j for j, s in enumerate(result.staircase.step_ids)}
    out = np.empty(len(rows))
    for n, (year, measure, step) in enumerate(zip(rows["year"], rows["measure"], rows["step"])):
        cols = [index[s] for s in _steps_of(step, result.scenario)]
        out[n] = series[measure][year - result.scenario.start_year, cols].sum()
    return out


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


def _is_share(key: str) -> bool:
    last = key.split(".")[-1]
    return last.endswith("share") or ".entry_step_shares." in key or ".age_shares." in key


@dataclass(frozen=True)
class Parameter:
    """A key to fit: its starting value, and how it is moved.

    A key holding one rate per age band (``transitions.home.foster``) is
    fitted as one factor on all its bands, keeping their ratios.
    """

    key: str
    start: float | dict[str, float]
    share: bool
    whole: bool = False  # a count of children: fitted values are rounded

    @property
    def banded(self) -> bool:
        return isinstance(self.start, dict)

    def to_x(self, value: float | dict[str, float]) -> float:
        """The unconstrained number the optimiser moves (log, or logit for shares)."""
        if self.banded:
            return (
                0.0
                if value is self.start
                else math.log(next(iter(value.values())) / next(iter(self.start.values())))
            )
        v = float(value)
        return math.log(v / (1 - v)) if self.share else math.log(v)

    def from_x(self, x: float) -> float | dict[str, float]:
        if self.banded:
            return {b: v * math.exp(x) for b, v in self.start.items()}
        if self.whole:
            return int(round(math.exp(x)))
        return 1 / (1 + math.exp(-x)) if self.share else math.exp(x)


def parameters(scenario: Scenario, keys: list[str]) -> list[Parameter]:
    """Check the keys to fit and read their starting values."""
    data = scenario.to_dict()
    uncertain = {u.path for u in scenario.uncertain}
    out = []
    for key in keys:
        value = _get(data, key)
        if key in uncertain:
            raise CalibrationError("--fit", key, "is given as a distribution; fit a fixed number")
        if isinstance(value, dict) and value and all(isinstance(v, int | float) for v in value.values()):
            if any(v <= 0 for v in value.values()):
                raise CalibrationError("--fit", key, "every band must be above 0 to be fitted as one factor")
            out.append(Parameter(key, {k: float(v) for k, v in value.items()}, False))
            continue
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise CalibrationError(
                "--fit",
                key,
                "not a number in the scenario; give the key of a number (a rate, a count, a mean "
                "duration, a share), e.g. transitions.home.foster or steps.foster.duration.long_mean_years",
            )
        share = _is_share(key)
        if value <= 0 or (share and value >= 1):
            raise CalibrationError(
                "--fit", key, f"must be above 0{' and below 1' if share else ''} to be fitted (is {value})"
            )
        out.append(Parameter(key, float(value), share, isinstance(value, int)))
    if len({p.key for p in out}) != len(out):
        raise CalibrationError("--fit", "", "a key is given twice")
    return out


# ---------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Calibration:
    """What a calibration found.

    Attributes
    ----------
    scenario, fitted : Scenario
        Before and after.
    table : pandas.DataFrame
        One row per fitted key: ``key``, ``start``, ``fitted``, ``se``
        (standard error, delta method), ``rel_se``, ``identified`` and
        ``note``.
    fit : pandas.DataFrame
        One row per observation: observed, ``sd``, ``before``, ``after``,
        ``residual`` (in standard errors), ``rel_error``, and the DES check
        (``des_mean``, ``des_se``, ``des_z``).
    """

    kind: ClassVar[str] = "calibration"
    """What a results folder of it is: ``calibration`` (the manifest's ``kind``)."""

    scenario: Scenario
    fitted: Scenario
    observed: Observed
    table: pd.DataFrame
    fit: pd.DataFrame
    chi2: float
    dof: int
    des_replications: int
    seed: int
    success: bool
    message: str
    left_out: list[str] = field(default_factory=list)

    @property
    def rmse_percent(self) -> float:
        """Root mean square relative error after the fit, in per cent."""
        return float(100 * np.sqrt(np.mean(self.fit["rel_error"] ** 2)))

    def problem(self, lang: str = "en") -> str | None:
        """Why this fit must not be used, in ``lang``; None when it may be.

        A fit fails when the optimiser did not converge, when a fitted key
        ran to an extreme (a hundredth of its start, or a hundred times it),
        when the model misses the observations by far more than their
        standard errors allow (chi-square per degree of freedom above
        :data:`MAX_CHI2_PER_DOF`), or when the data pin down none of the
        keys. A failed fit is neither written to a scenario file nor to a
        results folder.
        """
        why = []
        if not self.success:
            why.append(L.t("cal_fail_converge", lang, message=self.message))
        reasons = self.table["reason"] if "reason" in self.table else pd.Series("", index=self.table.index)
        extreme = self.table.loc[reasons == "extreme", "key"].tolist()
        if extreme:
            why.append(L.t("cal_fail_extreme", lang, keys=", ".join(extreme)))
        per_dof = self.chi2 / max(self.dof, 1)
        if per_dof > MAX_CHI2_PER_DOF:
            why.append(
                L.t(
                    "cal_fail_chi2",
                    lang,
                    rms=L.number(math.sqrt(per_dof), lang, 1),
                    chi2=L.number(self.chi2, lang, 1),
                    dof=self.dof,
                    limit=L.number(MAX_CHI2_PER_DOF, lang),
                )
            )
        if not extreme and not self.table["identified"].any():
            why.append(L.t("cal_fail_none", lang))
        return "; ".join(why) or None


def _with(scenario: Scenario, params: list[Parameter], x: np.ndarray) -> Scenario:
    return scenario.with_changes({p.key: p.from_x(float(v)) for p, v in zip(params, x)}, warn=False)


def check(scenario: Scenario, observed: Observed, fit: list[str]) -> list[Parameter]:
    """Check that the keys can be fitted to the rows before any work is done (:class:`CalibrationError`)."""
    rows = observed.rows
    params = parameters(scenario, fit)
    if not params:
        raise CalibrationError("--fit", "", "name at least one key to fit")
    if rows.empty:
        why = "; ".join(observed.left_out[:3]) + ("; ..." if len(observed.left_out) > 3 else "")
        raise CalibrationError(
            observed.file,
            "",
            f"no row of this file can be compared with scenario '{scenario.name}' ({why}); it must cover "
            f"its years ({scenario.start_year} on) and ages ({_ages(scenario)})",
        )
    years = sorted(rows["year"].unique())
    if len(years) < 2:
        raise CalibrationError(
            observed.file,
            "year",
            f"only {years[0]} can be used; rates and durations need observations in at least two years "
            "to be told apart from the starting stock",
        )
    if len(rows) < len(params):
        raise CalibrationError(
            observed.file, "", f"{len(rows)} usable rows cannot fit {len(params)} keys; fit fewer keys"
        )
    return params


def calibrate(
    scenario: ScenarioLike,
    observed: Observed,
    fit: list[str],
    des_replications: int = 5,
    seed: int = DEFAULT_SEED,
    workers: Any = 1,
) -> Calibration:
    """Fit ``fit`` keys of ``scenario`` to observed rows by weighted least squares.

    Parameters
    ----------
    scenario : Scenario or path
        A scenario, or the path of a scenario file.
        Must start at or before the first observed year.
    observed : Observed or path
        From :func:`read_observed`, or the path of the CSV file (read against ``scenario``).
    fit : list of str, or str
        Keys of numbers to fit (see :class:`Parameter`); one key may be given alone.
    des_replications : int
        Replications of the discrete-event engine that check the fit (0: no check).

    Returns
    -------
    Calibration
    """
    scenario = as_scenario(scenario)
    if not isinstance(observed, Observed):  # a path: read it against this scenario
        if not isinstance(observed, str | Path):
            raise OptionError(f"observed must be read_observed(...) or a CSV file's path, not {observed!r}")
        observed = read_observed(observed, scenario)
    if isinstance(fit, str):  # one key, not its letters
        fit = [fit]
    check_whole("des_replications", des_replications, 0)
    check_whole("seed", seed, 0)
    params = check(scenario, observed, fit)
    rows = observed.rows
    years = sorted(rows["year"].unique())
    # Only the observed years are simulated while fitting.
    # (Money plays no part in the fit: the discount year may lie beyond them.)
    short = scenario.with_changes(
        {"horizon_years": int(max(years)) - scenario.start_year + 1, "discounting.to_year": None}, warn=False
    )
    obs, sd = rows["value"].to_numpy(float), rows["sd"].to_numpy(float)

    def residuals(x: np.ndarray) -> np.ndarray:
        try:
            res = simulate(_with(short, params, x), engine="expected")
        except ScenarioError:  # a step outside what the scenario allows: steer away
            return np.full(len(obs), 1e6)
        return (model_values(res, rows) - obs) / sd

    x0 = np.array([p.to_x(p.start) for p in params])
    before = residuals(x0) * sd + obs
    # Counts are whole children: their finite-difference step must move them by
    # about two children, or the slope comes out as zero for small counts.
    steps = [
        max(1e-4, math.log1p(2.0 / p.start) / max(abs(x), 1e-9)) if p.whole else 1e-4
        for p, x in zip(params, x0)
    ]
    from scipy.optimize import least_squares  # SciPy only when a calibration runs

    sol = least_squares(
        residuals, x0, method="trf", x_scale="jac", diff_step=steps, max_nfev=200 * len(params)
    )
    fitted = _with(scenario, params, sol.x)
    after = sol.fun * sd + obs
    chi2 = float(np.sum(sol.fun**2))
    dof = len(obs) - len(params)
    table = _identification(params, sol, chi2, dof)
    fit_df = rows.assign(
        before=before, after=after, residual=sol.fun, rel_error=(after - obs) / np.maximum(obs, 1e-9)
    )
    cal = Calibration(
        scenario,
        fitted,
        observed,
        table,
        fit_df,
        chi2,
        dof,
        des_replications,
        seed,
        bool(sol.success),
        str(sol.message),
        list(observed.left_out),
    )
    # A failed fit is not checked with the DES: its numbers may be extreme
    # (slow to simulate), and it will not be used.
    if des_replications > 0 and cal.problem() is None:
        des = simulate(
            _with(short, params, sol.x),
            replications=des_replications,
            seed=seed,
            engine="des",
            workers=workers,
        )
        per_rep = np.array([model_values(_one(des, r), rows) for r in range(des_replications)])
        mean = per_rep.mean(axis=0)
        se = (
            per_rep.std(axis=0, ddof=1) / np.sqrt(des_replications)
            if des_replications > 1
            else np.full(len(obs), np.nan)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            # One replication has no standard error: no z (it was 0, which read as perfect agreement).
            z = np.where(se > 0, (mean - after) / se, np.where(mean == after, 0.0, np.nan))
        cal = dataclasses.replace(cal, fit=fit_df.assign(des_mean=mean, des_se=se, des_z=z))
    return cal


def _one(result: Result, r: int) -> Result:
    """Replication ``r`` of a result, as a result of its own."""
    return Result(
        result.scenario,
        result.staircase,
        result.engine,
        result.seed,
        1,
        {k: v[r : r + 1] for k, v in result.measures.items()},
    )


def _identification(params: list[Parameter], sol, chi2: float, dof: int) -> pd.DataFrame:
    """Standard errors from the Jacobian, and which keys the data could not pin down."""
    J = sol.jac
    sv = np.linalg.svd(J, compute_uv=False)
    rows = []
    try:
        cov = np.linalg.pinv(J.T @ J, rcond=1e-10)
    except np.linalg.LinAlgError:  # pragma: no cover - pinv rarely fails
        cov = np.full((len(params), len(params)), np.inf)
    flat = sv.min() < 1e-6 * max(sv.max(), 1e-300) if len(sv) else True
    for i, p in enumerate(params):
        x = float(sol.x[i])
        se_x = float(np.sqrt(max(cov[i, i], 0.0)))
        value = p.from_x(x)
        level = next(iter(value.values())) if p.banded else value
        start = next(iter(p.start.values())) if p.banded else p.start
        # Delta method: d value / d x is value for log, value (1 - value) for logit.
        slope = level * (1 - level) if p.share else level
        se = slope * se_x
        rel = se / abs(level) if level else np.inf
        column = float(np.linalg.norm(J[:, i]))
        ratio = abs(level / start) if start else np.inf
        if column < 1e-8:
            reason = "no_effect"
        elif not 0.01 < ratio < 100:
            reason = "extreme"
        elif not np.isfinite(rel) or rel > 0.5:
            reason = "wide"
        elif flat and abs(cov[i, i]) > 1e6:
            reason = "together"
        else:
            reason = ""
        identified = not reason
        note = L.t(f"cal_why_{reason}", "en") if reason else ""
        rows.append(
            {
                "key": p.key,
                "start": start,
                "fitted": level,
                "se": se,
                "rel_se": rel,
                "identified": identified,
                "note": note + (" " + L.t("cal_banded", "en") if p.banded else ""),
                "reason": reason,
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Writing the calibrated scenario
# ---------------------------------------------------------------------------


def write_calibrated(cal: Calibration, source: str | Path, out: str | Path, data_file: str) -> Path:
    """Write the scenario file again with the fitted values, each commented.

    The original file is kept as it is, comments and layout included
    (tomlkit); each fitted value gets the comment "calibrated to FILE on
    DATE (was X)". A key the file inherits through ``extends`` is added to
    it. ``extends`` is rewritten relative to the new file's folder.

    Raises
    ------
    OutputExistsError
        ``out`` exists: it is never replaced.
    CalibrationError
        The fit failed (:meth:`Calibration.problem`): nothing is written.
    """
    import os

    import tomlkit

    source, out = Path(source), Path(out)
    if out.exists():
        raise OutputExistsError(f"{out}: exists; choose another --scenario-out")
    problem = cal.problem()
    if problem is not None:
        raise CalibrationError(str(out), "", f"not written: the fit failed: {problem}")
    extends = None
    raw = tomlkit.parse(source.read_text(encoding="utf-8-sig")).get("extends")
    if isinstance(raw, str):
        parent = (source.parent / raw).resolve()
        extends = Path(os.path.relpath(parent, out.parent.resolve())).as_posix()
    stamp = f"calibrated to {Path(data_file).name} on {date.today().isoformat()}"
    fitted = cal.fitted.to_dict()
    # Only what the data gave: a number it did not identify keeps the file's own value.
    changes = {row.key: _get(fitted, row.key) for row in cal.table.itertuples() if row.identified}
    text = edit_toml(
        source.read_text(encoding="utf-8-sig"), changes, stamp, cal.scenario.to_dict(), extends, digits=6
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)  # an interruption leaves no hidden half-file
    return out


# ---------------------------------------------------------------------------
# Short and long stays
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StayMixture:
    """Two groups of stays, short and long, that match two observed numbers."""

    short_share: float
    short_mean_years: float
    long_mean_years: float
    exit_share: float  # share of the stock at 1 January that leaves within the year
    mean_years: float  # mean stay of an entrant (stock / inflow)
    exponential_exit_share: float  # what one exponential with the same mean gives


def exit_share(short_share: float, short_mean: float, long_mean: float) -> float:
    """Share of a steady-state stock that leaves within a year, for a two-group mixture.

    In steady state each group's stock is its inflow times its mean stay,
    and a stay is memoryless within its group, so the stock leaves at
    ``1 - exp(-1 / mean)`` a year in each group.
    """
    weights = np.array([short_share * short_mean, (1 - short_share) * long_mean])
    leave = np.array([1 - math.exp(-1 / short_mean), 1 - math.exp(-1 / long_mean)])
    return float(weights @ leave / weights.sum())


def fit_stay_mixture(
    exit_share_observed: float, mean_years: float, short_mean_years: float = 0.5
) -> StayMixture:
    """Short and long stays matching the share of the stock leaving a year and the mean stay.

    One exponential cannot give both: with a mean of 3.5 years, 25 % of the
    stock would leave each year, not the 16 % Danmarks Statistik counts. Two
    groups can: many short stays (which barely show in the stock) and long
    ones (which make most of it).

    Parameters
    ----------
    exit_share_observed : float
        Share of those placed on 1 January who have left by 31 December.
    mean_years : float
        Mean stay of an entrant (stock / inflow).
    short_mean_years : float
        Mean of the short stays (an assumption: weeks to months).
    """
    if not 0 < exit_share_observed < 1:
        raise OptionError("the exit share must be between 0 and 1")
    if not mean_years > short_mean_years > 0:
        raise OptionError("the mean stay must be longer than the short stays")

    def gap(p: float) -> float:
        long_mean = (mean_years - p * short_mean_years) / (1 - p)
        return exit_share(p, short_mean_years, long_mean) - exit_share_observed

    single = 1 - math.exp(-1 / mean_years)
    lo, hi = 1e-9, 1 - 1e-6
    if gap(lo) * gap(hi) > 0:
        raise OptionError(
            f"no mixture with short stays of {short_mean_years} years gives an exit share of "
            f"{exit_share_observed:.0%} with a mean stay of {mean_years} years"
        )
    from scipy.optimize import brentq

    p = brentq(gap, lo, hi, xtol=1e-12)
    long_mean = (mean_years - p * short_mean_years) / (1 - p)
    return StayMixture(p, short_mean_years, long_mean, exit_share_observed, mean_years, single)
