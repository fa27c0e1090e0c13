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

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq, least_squares

from sim.experiment import DEFAULT_SEED, Result, simulate
from sim.scenario import Scenario, ScenarioError

FITTED = ("stock_end", "entries", "exits", "new_cases", "placement_entries")
"""Measures the model gives, and calibration fits."""
RECORDED = ("persons_in_year", "stock_exit_share")
"""Measures a data file may hold for the record; the model does not give them (yet)."""
RELATIVE_SD = {"H": 0.02, "M": 0.05, "L": 0.10, "": 0.05}
"""Standard error as a share of the value when a row gives none, by confidence."""
REQUIRED = ("year", "measure", "step", "value")


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


def _ages(scenario: Scenario) -> str:
    top = scenario.population.aftercare_until_age or scenario.population.leaving_age
    return f"0-{top - 1}"


def _steps_of(spec: str, scenario: Scenario) -> list[str]:
    if spec == "placed":
        return [s for s in scenario.step_ids if scenario.steps[s].placement]
    if spec == "all":
        return list(scenario.step_ids)
    return spec.split("+")


def read_observed(path: str | Path, scenario: Scenario) -> Observed:
    """Read and check an observed-data CSV against a scenario.

    Raises
    ------
    CalibrationError
        Naming the file, the row and column, and what is allowed.
    """
    file = str(path)
    try:
        df = pd.read_csv(path, dtype={"step": str, "ages": str, "confidence": str, "source": str})
    except FileNotFoundError:
        raise CalibrationError(file, "", "file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise CalibrationError(file, "", f"not a readable CSV file ({err})") from None
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise CalibrationError(
            file,
            ", ".join(missing),
            f"missing column(s); a data file needs {', '.join(REQUIRED)} "
            "(and may have ages, sd, confidence, source)",
        )
    known = {*REQUIRED, "ages", "sd", "confidence", "source"}
    extra = [c for c in df.columns if c not in known]
    if extra:
        raise CalibrationError(file, extra[0], f"unknown column; allowed: {', '.join(sorted(known))}")
    for col in ("ages", "sd", "confidence", "source"):
        if col not in df.columns:
            df[col] = np.nan if col == "sd" else ""
    df[["ages", "confidence", "source"]] = df[["ages", "confidence", "source"]].fillna("")
    first, last = scenario.start_year, scenario.start_year + scenario.horizon_years - 1
    allowed_steps = ["placed", "all", *scenario.step_ids]
    used, left_out = [], []
    for i, r in df.iterrows():
        where = f"row {i + 2}"  # the header is line 1
        try:
            year = int(r["year"])
            value = float(r["value"])
        except (TypeError, ValueError):
            raise CalibrationError(file, f"{where}, year/value", "must be numbers") from None
        if not math.isfinite(value) or value < 0:
            raise CalibrationError(
                file, f"{where}, value", f"must be a number of at least 0 (got {r['value']})"
            )
        sd = r["sd"]
        if isinstance(sd, str) or (not pd.isna(sd) and not float(sd) > 0):
            raise CalibrationError(file, f"{where}, sd", f"must be a positive number or empty (got {sd})")
        measure = str(r["measure"])
        if measure not in FITTED + RECORDED:
            raise CalibrationError(
                file,
                f"{where}, measure",
                f"unknown measure '{measure}'; allowed: {', '.join(FITTED + RECORDED)}",
            )
        step = str(r["step"])
        for part in step.split("+"):
            if part not in allowed_steps:
                raise CalibrationError(
                    file,
                    f"{where}, step",
                    f"'{part}' is not a step of scenario '{scenario.name}'; allowed: "
                    f"{', '.join(allowed_steps)}, or steps joined with '+'",
                )
        if r["confidence"] not in RELATIVE_SD:
            raise CalibrationError(file, f"{where}, confidence", "must be H, M, L or empty")
        if measure in RECORDED:
            left_out.append(f"{where} ({year} {measure} {step}): a measure the model does not give")
            continue
        if r["ages"] and r["ages"] != _ages(scenario):
            left_out.append(
                f"{where} ({year} {measure} {step}): ages {r['ages']}, the scenario models {_ages(scenario)}"
            )
            continue
        if not first <= year <= last:
            left_out.append(f"{where} ({year} {measure} {step}): outside the scenario's years {first}-{last}")
            continue
        sd = float(sd) if not pd.isna(sd) else max(value * RELATIVE_SD[r["confidence"]], 1e-9)
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
    return Observed(rows, left_out, file)


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


def _get(data: dict, key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


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


def _with(scenario: Scenario, params: list[Parameter], x: np.ndarray) -> Scenario:
    return scenario.with_changes({p.key: p.from_x(float(v)) for p, v in zip(params, x)})


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
    scenario: Scenario,
    observed: Observed,
    fit: list[str],
    des_replications: int = 5,
    seed: int = DEFAULT_SEED,
    workers: Any = 1,
) -> Calibration:
    """Fit ``fit`` keys of ``scenario`` to observed rows by weighted least squares.

    Parameters
    ----------
    scenario : Scenario
        Must start at or before the first observed year.
    observed : Observed
        From :func:`read_observed`.
    fit : list of str
        Keys of numbers to fit (see :class:`Parameter`).
    des_replications : int
        Replications of the discrete-event engine that check the fit (0: no check).

    Returns
    -------
    Calibration
    """
    params = check(scenario, observed, fit)
    rows = observed.rows
    years = sorted(rows["year"].unique())
    # Only the observed years are simulated while fitting.
    # (Money plays no part in the fit: the discount year may lie beyond them.)
    short = scenario.with_changes(
        {"horizon_years": int(max(years)) - scenario.start_year + 1, "discounting.to_year": None}
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
    if des_replications > 0:
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
            z = np.where(se > 0, (mean - after) / se, 0.0)
        fit_df = fit_df.assign(des_mean=mean, des_se=se, des_z=z)
    return Calibration(
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
            identified, note = False, "the observed numbers do not depend on it"
        elif not 0.01 < ratio < 100:
            identified, note = (
                False,
                "ran to an extreme value: the data do not hold it (fix it, or give data that do)",
            )
        elif not np.isfinite(rel) or rel > 0.5:
            identified, note = False, "the data hardly pin it down (standard error over 50 %)"
        elif flat and abs(cov[i, i]) > 1e6:
            identified, note = (
                False,
                "moves together with another fitted key: the data tell only their combination",
            )
        else:
            identified, note = True, ""
        rows.append(
            {
                "key": p.key,
                "start": start,
                "fitted": level,
                "se": se,
                "rel_se": rel,
                "identified": identified,
                "note": note + (" (one factor on every age band)" if p.banded else ""),
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
    FileExistsError
        ``out`` exists: it is never replaced.
    """
    import os

    import tomlkit

    source, out = Path(source), Path(out)
    if out.exists():
        raise FileExistsError(f"{out}: exists; choose another --scenario-out")
    doc = tomlkit.parse(source.read_text(encoding="utf-8-sig"))
    if isinstance(doc.get("extends"), str):
        parent = (source.parent / doc["extends"]).resolve()
        doc["extends"] = Path(os.path.relpath(parent, out.parent.resolve())).as_posix()
    stamp = f"calibrated to {Path(data_file).name} on {date.today().isoformat()}"
    fitted = cal.fitted.to_dict()
    for row in cal.table.itertuples():
        if not row.identified:  # the data did not give it: the file keeps its own number
            continue
        value = _get(fitted, row.key)
        was = _get(cal.scenario.to_dict(), row.key)
        parts = row.key.split(".")
        node, holder = doc, None  # holder: the item written on one line (an inline table), if any
        for part in parts[:-1]:
            if part not in node:
                node[part] = tomlkit.table()
            if holder is None and isinstance(node[part], tomlkit.items.InlineTable):
                holder = (node, part)
            node = node[part]
        if isinstance(value, dict):
            item = tomlkit.inline_table()
            item.update({k: round(v, 6) for k, v in value.items()})
        elif isinstance(was, int) and not isinstance(was, bool):
            item = tomlkit.item(int(value))
        else:
            item = tomlkit.item(round(float(value), 6))
        target_parent, target_key = holder or (node, parts[-1])
        old = target_parent.get(target_key)
        kept = getattr(getattr(old, "trivia", None), "comment", "") or ""
        kept = kept.lstrip("#").strip()
        # A second calibration replaces the first one's stamp rather than stacking them.
        kept = re.sub(r"^calibrated to .*? on \d{4}-\d{2}-\d{2} \(was [^)]*\)(; )?", "", kept)
        kept = "; " + kept if kept else ""
        node[parts[-1]] = item
        target_parent[target_key].comment(f"{stamp} (was {_short(was)}){kept}")
    text = tomlkit.dumps(doc)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v:.10g}" for k, v in value.items()) + "}"
    return f"{value:.10g}" if isinstance(value, float) else str(value)


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
        raise ValueError("the exit share must be between 0 and 1")
    if not mean_years > short_mean_years > 0:
        raise ValueError("the mean stay must be longer than the short stays")

    def gap(p: float) -> float:
        long_mean = (mean_years - p * short_mean_years) / (1 - p)
        return exit_share(p, short_mean_years, long_mean) - exit_share_observed

    single = 1 - math.exp(-1 / mean_years)
    lo, hi = 1e-9, 1 - 1e-6
    if gap(lo) * gap(hi) > 0:
        raise ValueError(
            f"no mixture with short stays of {short_mean_years} years gives an exit share of "
            f"{exit_share_observed:.0%} with a mean stay of {mean_years} years"
        )
    p = brentq(gap, lo, hi, xtol=1e-12)
    long_mean = (mean_years - p * short_mean_years) / (1 - p)
    return StayMixture(p, short_mean_years, long_mean, exit_share_observed, mean_years, single)
