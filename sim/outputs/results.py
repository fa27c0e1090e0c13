"""Results folders: CSV tables, charts, and the manifest, written atomically.

A folder is assembled under a hidden temporary name beside its destination
and renamed into place only when every file is written, so a failed or
interrupted run leaves nothing half-written; an existing folder is replaced
only when asked (``force``), and then only after the new one is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.uncertainty import PSAResult, Sensitivity, Tornado
from sim.economics.comparison import compare_arrays
from sim.errors import OutputExistsError, ResultsFolderError
from sim.model.staircase import compile_staircase
from sim.outputs import language as L
from sim.run.experiment import Comparison, Result
from sim.scenario import Scenario, ScenarioError, extends_chain, scenario_notes, written_keys
from sim.scenario.plausibility import warnings_of
from sim.version import version


def FLOAT_FORMAT(x: float, kind: str = "value") -> str:  # noqa: N802 (kept for callers formatting one number)
    """A number as the CSV files write it: plain decimals at the stated precision of its kind.

    Never in 1e+10 notation (which spreadsheets mangle), never "-0", never
    float residue such as 504.84999999999997 (see :data:`sim.outputs.language.PRECISION`).
    """
    return L.plain_number(x, kind)


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _is_results_folder(path: Path) -> bool:
    try:
        meta = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and "trappesim_version" in meta


def check_destination(out: Path, force: bool) -> None:
    """Refuse an existing folder unless ``force``; call before a long run.

    Even with ``force``, only an empty folder or one that a previous run wrote
    (it holds a trappesim ``manifest.json``) is replaced: ``--out results --force`` must
    not delete a folder of other runs or anything else.
    """
    if not out.exists():
        return
    if not force:
        raise OutputExistsError(
            f"{out}: the results folder exists; choose another --out, or add --force to replace it"
        )
    empty = out.is_dir() and not any(out.iterdir())
    if not empty and (not out.is_dir() or not _is_results_folder(out)):
        raise OutputExistsError(
            f"{out}: exists and is not a trappesim results folder (no manifest.json from a run); "
            "refusing to replace it even with --force: choose another --out"
        )


# Hidden folders a run makes while it writes, and what to do with one whose run
# was stopped (kill -9, a power cut): None removes it; a name puts it back there
# when nothing else has taken that name, because it holds finished results.
_LEFTOVERS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]]] = [
    (re.compile(r"^\.(?P<name>.+)\.partial-(?P<pid>\d+)$"), lambda m: None),  # a folder being written
    (re.compile(r"^\.(?P<name>.+)\.old-(?P<pid>\d+)$"), lambda m: m["name"]),  # a folder being replaced
    (re.compile(r"^\.remake-(?P<pid>\d+)$"), lambda m: None),  # charts and reports being remade
    (re.compile(r"^\.charts-old-(?P<pid>\d+)$"), lambda m: "charts"),  # the charts being replaced
]
_CLOCK_SLACK = 2.0
"""Seconds by which process start times (whole-second boot time) and file times may disagree."""


def _started(pid: int) -> float | None:
    """When process ``pid`` started, in seconds since the epoch (Linux), or None if that cannot be told."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def process_alive(pid: int, since: float | None = None) -> bool:
    """Whether process ``pid`` is running, and could have been running at time ``since``.

    A process id is reused once its process has ended: a running process
    that started after ``since`` (seconds since the epoch) is another one.
    A zombie (ended, not yet reaped) is not running. Where this cannot be
    told (Windows), every process counts as running, so nothing is removed
    that might still be in use.
    """
    if os.name != "posix":  # pragma: no cover - os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
    except (OSError, IndexError):
        pass
    started = _started(pid)
    return not (since is not None and started is not None and started > since + _CLOCK_SLACK)


def clear_leftovers(folder: Path) -> list[Path]:
    """Tidy what runs that were stopped left in ``folder``; return what was removed or put back.

    A stopped run may leave hidden folders beside its results folder: the
    half-written ``.NAME.partial-PID`` (removed), and, when it was replacing
    a folder with ``--force``, the previous results as ``.NAME.old-PID``: put
    back as ``NAME`` if nothing has that name (the run stopped between two
    renames), else removed. Inside a results folder, ``.remake-PID`` and
    ``.charts-old-PID`` of ``trappesim report`` are treated alike. Folders of
    a process that is still running (a concurrent run) are left alone.
    """
    done: list[Path] = []
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith(".")]
    except OSError:
        return done
    for path in entries:
        for pattern, restore in _LEFTOVERS:
            m = pattern.match(path.name)
            if m is None:
                continue
            try:
                if path.is_symlink() or not path.is_dir():
                    break  # not one of ours
                # ctime: a rename (.old-PID) changes it, not the modification time.
                st = path.stat()
                if process_alive(int(m["pid"]), since=max(st.st_mtime, st.st_ctime)):
                    break
                name = restore(m)
                if name is not None and not (folder / name).exists():
                    path.rename(folder / name)
                else:
                    shutil.rmtree(path)
                done.append(path)
            except OSError:  # gone meanwhile, or not ours to remove: leave it
                pass
            break
    return done


@contextmanager
def atomic_folder(out: Path, force: bool) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` only if the block succeeds.

    Hidden folders left beside ``out`` by runs that were stopped are tidied
    first (:func:`clear_leftovers`).
    """
    check_destination(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(out.parent)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        check_destination(out, force)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def manifest(
    result: Result | Comparison | PSAResult | Tornado | Sensitivity,
    inputs: dict[str, str | Path],
    command: list[str],
    wall_time: float | None,
    shown: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """What makes a results folder reproducible.

    Parameters
    ----------
    result : Result or Comparison
    inputs : dict
        Role (``"scenario"``, ``"baseline"``, ``"strategy"``) to file path.
    command : list of str
        The command line.
    wall_time : float
        Seconds the simulation took.
    shown : dict, optional
        Input files read from a working copy, by path: the name and SHA-256
        of the file the user has (the what-if page's downloads), recorded
        in place of the copy's path and hash.
    """
    shown = shown or {}

    def named(path: Path) -> tuple[str, str]:
        return shown.get(str(path)) or (str(path), file_hash(path))

    if result.kind == "calibration":
        scenarios = {"scenario": result.scenario, "calibrated": result.fitted}
        engine, seed, replications = "expected", result.seed, result.des_replications
    elif isinstance(result, PSAResult | Tornado | Sensitivity):
        scenarios = {"baseline": result.base, "strategy": result.strategy}
        engine, seed, replications = result.engine, result.seed, 1
    else:
        arms = result.arms
        scenarios = {role: arm.scenario for role, arm in arms.items()}
        first = next(iter(arms.values()))
        engine, seed, replications = first.engine, first.seed, first.replications
    extra = (
        {"goodness_of_fit": {"chi2": result.chi2, "dof": result.dof, "rmse_percent": result.rmse_percent}}
        if result.kind == "calibration"
        else {}
    )
    scen = {
        role: {
            "file": named(Path(inputs[role]))[0] if role in inputs else "",
            "input_hash": sc.input_hash(),
            "resolved": sc.to_dict(),
            **_sources(inputs.get(role)),
        }
        for role, sc in scenarios.items()
    }
    files: dict[str, str] = {}
    for p in inputs.values():
        path = Path(p)
        name, digest = named(path)
        files[name] = digest
        data = path.read_text(encoding="utf-8")
        # Files a scenario extends are inputs too.
        if path.suffix == ".toml" and "extends" in data:
            for parent in extends_chain(path):
                name, digest = named(parent)
                files[name] = digest
    combined = hashlib.sha256(
        json.dumps({k: v["input_hash"] for k, v in scen.items()}, sort_keys=True).encode()
    ).hexdigest()
    return {
        "trappesim_version": version(),
        "kind": kind_of(result),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "engine": engine,
        "seed": seed,
        "replications": replications,
        **({"draws": result.draws} if isinstance(result, PSAResult) else {}),
        **(
            {"perspective": result.perspective}
            if isinstance(result, Comparison | PSAResult | Tornado | Sensitivity)
            else {}
        ),
        **extra,
        **({"precision": precision_record(result)} if isinstance(result, Result | Comparison) else {}),
        "wall_time_seconds": round(wall_time, 3) if wall_time is not None else None,  # None: not timed
        "input_hash": combined,
        "input_files_sha256": files,
        # What the inputs are warned about (the command line says it before the run): kept with the
        # figures they concern. A calibration's fitted scenario is its result, not an input.
        "warnings": warnings_of(
            {role: sc for role, sc in scenarios.items() if role != "calibrated"},
            {role: named(Path(inputs[role]))[0] for role in scenarios if role in inputs},
        ),
        "scenarios": scen,
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": _scipy_version(),
            "pandas": pd.__version__,
            **_versions("simpy"),
            **_versions("matplotlib", "pydantic", "openpyxl", "babel", "jinja2", "SALib"),
            "platform": platform.platform(),
        },
    }


def _sources(path: str | Path | None) -> dict[str, Any]:
    """For the reports: the comment beside each number in a scenario file (its source and
    confidence), and the keys the file sets (any other value is the model's default)."""
    if not str(path or "").endswith(".toml"):
        return {"notes": {}}
    return {"notes": scenario_notes(path), "written": written_keys(path)}


def precision_record(result: Result | Comparison) -> dict[str, Any]:
    """How precise the means are: where they come from, the target and what was reached.

    ``means``: ``exact`` (the analytic engine, which solves the model; the
    replications give the range of outcomes), ``replications`` (means over
    them) or ``expected`` (the analytic engine alone). ``reached``: the 95 %
    half-width of each headline mean as a share of its value. ``agreement``:
    where the means are exact, the simulation's own means against them.
    """
    res = result.base if isinstance(result, Comparison) else result
    n = res.replications
    out: dict[str, Any] = {
        "means": result.mean_from,
        "target": res.precision,
        "replications": n,
        "reached": {tg.name: _finite(tg.reached(n)) for tg in result.precision_targets()},
    }
    if result.mean_from == "exact":
        out["agreement"] = [
            {k: (_finite(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in result.agreement.to_dict("records")
        ]
    return out


def _finite(x: float) -> float | None:
    """A number for strict JSON: nan and infinities become null."""
    x = float(x)
    return x if np.isfinite(x) else None


def _scipy_version() -> str:
    import scipy

    return scipy.__version__


def _versions(*packages: str) -> dict[str, str]:
    """Installed versions of the libraries the outputs depend on."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _v

    out = {}
    for name in packages:
        try:
            out[name] = _v(name)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[name] = "not installed"
    return out


def kind_of(result: Result | Comparison | PSAResult | Tornado | Sensitivity) -> str:
    """What a results folder holds: ``run``, ``compare``, ``psa``, ``tornado``, ``sensitivity`` or ``calibration``."""
    return result.kind


def _csv(df: pd.DataFrame, path: Path) -> None:
    """Write a table with each number at the stated precision of its kind (docs/reference/results-folder.md).

    A column's kind comes from its name; in a table of metrics (a ``metric``
    column) from each row's metric, and in a tornado or sensitivity table the
    outcome's columns take the outcome's kind. ``arrays.npz`` keeps every digit.
    """
    # Columns whose numbers are in the unit of a table's ``outcome`` (tornado, sensitivity).
    in_outcome = (
        "outcome_low",
        "outcome_high",
        "swing",
        "outcome_central",
        "mu_star",
        "mu",
        "sigma",
        "mu_star_conf",
    )
    if df.index.name == "metric":  # summaries are indexed by metric; the file has it as a column
        df = df.reset_index()
    out = df.copy()
    outcome = str(df["outcome"].iloc[0]) if "outcome" in df and len(df) else None
    for col in df.columns:
        values = df[col]
        if not pd.api.types.is_float_dtype(values):
            continue
        if "metric" in df.columns:
            kinds = [L.measure_kind(str(m)) for m in df["metric"]]
        elif col in ("low", "high") and "swing" in df.columns:
            # A tornado's parameter values: the report rounds them to four significant digits, and a
            # value kept at six would be rounded twice (572849.6 as 572850, then 572.900, not 572.800).
            kinds = ["parameter"] * len(df)
        elif outcome is not None and col in in_outcome:
            kinds = [L.measure_kind(outcome)] * len(df)
        else:
            kinds = [L.measure_kind(str(col))] * len(df)
        out[col] = [L.plain_number(v, k) for v, k in zip(values, kinds)]
    out.to_csv(path, index=False, lineterminator="\n")


ARRAYS = "arrays.npz"
"""Measures per replication, year and step (or PSA outcomes per draw), for remaking reports."""


def _write_tables(result, tmp: Path) -> None:
    """CSV tables, and the arrays behind them (so reports can be remade without a rerun)."""
    if isinstance(result, Sensitivity):
        _csv(result.table.assign(method=result.method, outcome=result.outcome), tmp / "sensitivity.csv")
        return
    if result.kind == "calibration":
        _csv(result.fit, tmp / "fit.csv")
        _csv(result.table, tmp / "parameters.csv")
        return
    if isinstance(result, Tornado):
        _csv(result.table.assign(outcome=result.outcome, outcome_central=result.central), tmp / "tornado.csv")
        return
    if isinstance(result, PSAResult):
        _csv(result.table, tmp / "psa_draws.csv")
        _csv(result.summary, tmp / "psa_summary.csv")
        _csv(result.breakeven, tmp / "psa_breakeven.csv")
        arrays = {f"psa:{k}": v for k, v in result.arrays.items()}
        arrays.update({f"parameter:{c}": result.parameters[c].to_numpy() for c in result.parameters})
        np.savez_compressed(tmp / ARRAYS, **arrays)
        return
    arms = result.arms
    if isinstance(result, Comparison):
        _csv(result.summary, tmp / "comparison.csv")
        _csv(result.yearly, tmp / "comparison_yearly.csv")
    _csv(
        pd.concat([a.yearly.assign(arm=k) for k, a in arms.items()], ignore_index=True),
        tmp / "yearly.csv",
    )
    _csv(
        pd.concat([a.summary.reset_index().assign(arm=k) for k, a in arms.items()], ignore_index=True),
        tmp / "summary.csv",
    )
    arrays = {f"{role}:{m}": v for role, arm in arms.items() for m, v in arm.measures.items()}
    # The analytic engine's means, where they are exact (the tables' means are these).
    arrays.update(
        {
            f"exact:{role}:{m}": v
            for role, arm in arms.items()
            if arm.exact is not None
            for m, v in arm.exact.items()
        }
    )
    np.savez_compressed(tmp / ARRAYS, **arrays)


def write_results(
    result: Result | Comparison | PSAResult | Tornado | Sensitivity,
    out: Path,
    inputs: dict[str, str | Path],
    command: list[str],
    wall_time: float | None,
    force: bool = False,
    lang: str | None = None,
    shown: dict[str, tuple[str, str]] | None = None,
) -> Path:
    """Write a complete results folder (CSV, arrays, charts, reports, manifest) atomically.

    Parameters
    ----------
    lang : {"da", "en"}, optional
        Language of charts and reports; default the scenario's (Danish unless it says otherwise).
    shown : dict, optional
        Input files under another name and hash in the provenance (see :func:`manifest`).

    Returns
    -------
    Path
        The folder written.
    """
    start = time.perf_counter()
    with atomic_folder(out, force) as tmp:
        _write_tables(result, tmp)
        meta = manifest(result, inputs, command, wall_time, shown)
        from sim.outputs.writers import write_reports  # Matplotlib, openpyxl: only to write

        write_reports(result, tmp, meta, lang)
        meta["write_seconds"] = round(time.perf_counter() - start, 3)
        _write_manifest(tmp, meta)
    return out


def save_results(
    result: Result | Comparison | PSAResult | Tornado | Sensitivity,
    folder: str | Path,
    files: dict[str, str | Path] | None = None,
    lang: str | None = None,
    force: bool = False,
) -> Path:
    """Write a results folder from Python, as the command line does: tables, charts, ``report.html``,
    ``report.xlsx`` and ``manifest.json``.

    Parameters
    ----------
    result : Result, Comparison, PSAResult, Tornado or Sensitivity
        What :func:`sim.simulate`, :func:`sim.compare`, :func:`sim.psa`, ... returned.
    folder : path
        The folder to write; an existing one is never replaced unless ``force`` (and then only
        a results folder).
    files : dict, optional
        The scenario files the result came from, by role (``"scenario"``, or ``"baseline"`` and
        ``"strategy"``): the manifest then records their hashes and the reports their comments
        as sources.
    lang : {"da", "en"}, optional
        The charts' and reports' language (default: the scenario's).

    Returns
    -------
    Path
        The folder written.

    Examples
    --------
    >>> import tempfile
    >>> import sim
    >>> cmp = sim.compare("scenarios/municipality-template.toml",
    ...                   "scenarios/municipality-early-detection.toml", engine="expected")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = sim.save_results(cmp, Path(tmp) / "my-comparison", lang="en")
    ...     sorted(p.name for p in out.glob("report.*"))
    ['report.html', 'report.xlsx']
    """
    from sim.errors import OptionError

    if not isinstance(result, Result | Comparison | PSAResult | Tornado | Sensitivity):
        raise OptionError(f"save_results writes a result of sim.simulate, compare, psa, tornado or "
                          f"global sensitivity, not {L.a_or_an(type(result).__name__)}")  # fmt: skip
    return write_results(
        result, Path(folder), dict(files or {}), ["python", "sim.save_results"], None, force=force, lang=lang
    )


def _write_manifest(folder: Path, meta: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a results folder (:class:`ResultsFolderError` if there is none)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsFolderError(f"{folder}: no such folder")
    try:
        meta = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsFolderError(f"{folder}: no manifest.json; not a trappesim results folder") from None
    except (OSError, ValueError) as err:
        raise ResultsFolderError(f"{folder}/manifest.json: cannot be read ({err})") from None
    if not isinstance(meta, dict) or "trappesim_version" not in meta:
        raise ResultsFolderError(f"{folder}/manifest.json: not written by trappesim")
    return meta


def load_results(folder: str | Path) -> Result | Comparison | PSAResult | Tornado | Sensitivity:
    """Rebuild what a results folder holds, without simulating anything.

    The scenarios come from the manifest (resolved), the numbers from
    ``arrays.npz`` (runs, comparisons, PSA) or the CSV table (tornado,
    sensitivity); derived tables and charts are then the same as when the
    folder was written.
    """
    folder = Path(folder)
    meta = read_manifest(folder)
    kind = meta.get("kind")
    if kind == "calibration":
        raise ResultsFolderError(f"{folder}: a calibration folder; its chart is remade by calibrating again")
    if kind is None:
        raise ResultsFolderError(
            f"{folder}: written by trappesim {meta['trappesim_version']}, before results folders kept "
            "what reports are made from; run the scenario again"
        )
    try:
        scen = {
            role: Scenario.from_dict(v["resolved"], file=f"{folder}/manifest.json [{role}]")
            for role, v in meta["scenarios"].items()
        }
    except (KeyError, TypeError, ScenarioError) as err:
        raise ResultsFolderError(f"{folder}/manifest.json: the scenarios cannot be read ({err})") from None
    engine, seed = meta["engine"], meta["seed"]
    # Folders written before perspectives were recorded counted the municipality's money.
    perspective = meta.get("perspective", "kommune")
    try:
        if kind == "tornado":
            table = pd.read_csv(folder / "tornado.csv")
            central = float(table["outcome_central"].iloc[0]) if len(table) else float("nan")
            outcome = str(table["outcome"].iloc[0]) if len(table) else "npv"
            table = table.drop(columns=["outcome", "outcome_central"])
            return Tornado(
                scen["baseline"], scen["strategy"], outcome, central, table, engine, seed, perspective
            )
        if kind == "sensitivity":
            table = pd.read_csv(folder / "sensitivity.csv")
            method, outcome = str(table["method"].iloc[0]), str(table["outcome"].iloc[0])
            table = table.drop(columns=["method", "outcome"])
            return Sensitivity(
                scen["baseline"], scen["strategy"], method, outcome, table, engine, seed, perspective
            )
        with np.load(folder / ARRAYS) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, KeyError, ValueError, IndexError) as err:
        raise ResultsFolderError(f"{folder}: incomplete results folder ({err})") from None
    if kind == "psa":
        params = pd.DataFrame(
            {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith("parameter:")}
        )
        outcomes = {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith("psa:")}
        return PSAResult(
            scen["baseline"],
            scen["strategy"],
            engine,
            seed,
            params,
            outcomes,
            perspective,
        )
    results: dict[str, Result] = {}
    precision = meta.get("precision", {}).get("target")
    for role, scenario in scen.items():
        measures = {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{role}:")}
        exact = {k.split(":", 2)[2]: v for k, v in arrays.items() if k.startswith(f"exact:{role}:")} or None
        st = compile_staircase(scenario)
        results[role] = Result(
            scenario, st, engine, seed, int(meta["replications"]), measures, exact, precision
        )
    if kind == "run":
        return results["scenario"]
    b, s = results["baseline"], results["strategy"]
    return Comparison(
        b, s, compare_arrays(b.measures, s.measures, b.staircase, s.staircase, perspective), perspective
    )


def remake_reports(
    folder: str | Path, lang: str | None = None, extra_folders: list[str | Path] = ()
) -> list[str]:
    """Remake the charts and reports of a results folder without simulating.

    Parameters
    ----------
    folder : path
        A folder written by ``run``, ``compare``, ``psa`` or ``tornado``.
    lang : {"da", "en"}, optional
        Language; default the scenario's.
    extra_folders : list of path
        ``psa``, ``tornado`` or ``sensitivity`` folders for the same
        baseline and strategy, to show in a comparison's reports.

    Returns
    -------
    list of str
        Files written, relative to ``folder``. Files are replaced only when
        all are made: a failure leaves the folder as it was.
    """
    folder = Path(folder)
    result = load_results(folder)
    meta = read_manifest(folder)
    extras = []
    for other in extra_folders:
        extra = load_results(other)
        if not isinstance(extra, PSAResult | Tornado | Sensitivity):
            raise ResultsFolderError(
                f"{other}: only psa, tornado and sensitivity folders can be added to a report"
            )
        if not isinstance(result, Comparison):
            raise ResultsFolderError(
                f"{folder}: uncertainty results can only be added to a comparison's report"
            )
        ours = {r: meta["scenarios"][r]["input_hash"] for r in ("baseline", "strategy")}
        theirs = _hashes(read_manifest(other))
        if ours != theirs:
            raise ResultsFolderError(
                f"{other}: made from other scenarios than {folder} (input hashes differ); "
                "run it on the same baseline and strategy files"
            )
        if extra.perspective != result.perspective:
            raise ResultsFolderError(
                f"{other}: counted from a {L.t('persp_' + extra.perspective, 'en')}, {folder} "
                f"from a {L.t('persp_' + result.perspective, 'en')}; "
                "run both with the same --perspective"
            )
        extras.append(extra)
    clear_leftovers(folder)
    tmp = folder / f".remake-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        from sim.outputs.writers import write_reports  # Matplotlib, openpyxl: only to write

        written = write_reports(result, tmp, meta, lang, extras)
        # The manifest says which language the reports are now in, and which folders they show.
        meta.pop("reports_with", None)
        if extra_folders:
            meta["reports_with"] = [
                {"folder": str(f), "kind": read_manifest(f).get("kind", "")} for f in extra_folders
            ]
        _write_manifest(tmp, meta)
        # Every writer's files replace the old ones only now that all are made.
        for made in sorted(tmp.iterdir()):
            target = folder / made.name
            if made.is_dir():
                old = folder / f".{made.name}-old-{os.getpid()}"
                if target.exists():
                    target.rename(old)
                made.rename(target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(made, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def _hashes(meta: dict[str, Any]) -> dict[str, str]:
    return {role: v["input_hash"] for role, v in meta.get("scenarios", {}).items()}
