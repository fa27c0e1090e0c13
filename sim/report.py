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
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
import simpy

from sim import plots
from sim.experiment import Comparison, Result
from sim.uncertainty import PSAResult, Sensitivity, Tornado


def FLOAT_FORMAT(x: float) -> str:  # noqa: N802 (pandas calls it like a format string)
    """Shortest exact decimal, never in 1e+10 notation (which spreadsheets mangle)."""
    return np.format_float_positional(x, unique=True, trim="-")


class OutputExistsError(FileExistsError):
    """The results folder exists and ``force`` was not given."""


def version() -> str:
    """The installed trappesim version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _v

    try:
        return _v("trappesim")
    except PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


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


@contextmanager
def atomic_folder(out: Path, force: bool) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` only if the block succeeds."""
    check_destination(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
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
    wall_time: float,
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
    """
    if isinstance(result, PSAResult | Tornado | Sensitivity):
        scenarios = {"baseline": result.base, "strategy": result.strategy}
        engine, seed, replications = result.engine, result.seed, 1
    else:
        arms = (
            {"baseline": result.base, "strategy": result.strategy}
            if isinstance(result, Comparison)
            else {"scenario": result}
        )
        scenarios = {role: arm.scenario for role, arm in arms.items()}
        first = next(iter(arms.values()))
        engine, seed, replications = first.engine, first.seed, first.replications
    scen = {
        role: {"file": str(inputs.get(role, "")), "input_hash": sc.input_hash(), "resolved": sc.to_dict()}
        for role, sc in scenarios.items()
    }
    files: dict[str, str] = {}
    for p in inputs.values():
        path = Path(p)
        files[str(path)] = file_hash(path)
        data = path.read_text(encoding="utf-8")
        # Files a scenario extends are inputs too.
        if "extends" in data:
            for parent in _extends_chain(path):
                files[str(parent)] = file_hash(parent)
    combined = hashlib.sha256(
        json.dumps({k: v["input_hash"] for k, v in scen.items()}, sort_keys=True).encode()
    ).hexdigest()
    return {
        "trappesim_version": version(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "engine": engine,
        "seed": seed,
        "replications": replications,
        **({"draws": result.draws} if isinstance(result, PSAResult) else {}),
        "wall_time_seconds": round(wall_time, 3),
        "input_hash": combined,
        "input_files_sha256": files,
        "scenarios": scen,
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pandas": pd.__version__,
            "simpy": simpy.__version__,
            "platform": platform.platform(),
        },
    }


def _extends_chain(path: Path) -> list[Path]:
    import tomllib

    out: list[Path] = []
    cur = path
    while True:
        with cur.open("rb") as fh:
            parent = tomllib.load(fh).get("extends")
        if not isinstance(parent, str):
            return out
        cur = cur.parent / parent
        if cur in out or not cur.is_file():
            return out
        out.append(cur)


def _csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def charts(result: Result | Comparison) -> dict[str, Callable[[], Any]]:
    """The charts for a result, by file stem (made lazily)."""
    out: dict[str, Callable[[], Any]] = {"staircase": lambda: plots.staircase(result)}
    if isinstance(result, Comparison):
        out["placements_avoided"] = lambda: plots.placements_avoided(result)
        out["payback"] = lambda: plots.payback(result)
    if plots.has_capacity(result):
        out["waiting_list"] = lambda: plots.waiting_list(result)
        out["utilisation"] = lambda: plots.utilisation(result)
    return out


def write_results(
    result: Result | Comparison | PSAResult | Tornado | Sensitivity,
    out: Path,
    inputs: dict[str, str | Path],
    command: list[str],
    wall_time: float,
    force: bool = False,
) -> Path:
    """Write a complete results folder (CSV, charts, manifest) atomically.

    Returns
    -------
    Path
        The folder written.
    """
    start = time.perf_counter()
    with atomic_folder(out, force) as tmp:
        if isinstance(result, Sensitivity):
            _csv(result.table.assign(method=result.method, outcome=result.outcome), tmp / "sensitivity.csv")
            meta = manifest(result, inputs, command, wall_time)
            (tmp / "manifest.json").write_text(
                json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            return out
        if isinstance(result, Tornado):
            _csv(
                result.table.assign(outcome=result.outcome, outcome_central=result.central),
                tmp / "tornado.csv",
            )
            (tmp / "charts").mkdir()
            fig = plots.tornado(result)
            fig.savefig(tmp / "charts" / "tornado.png", dpi=150)
            fig.savefig(tmp / "charts" / "tornado.svg", metadata={"Date": None})
            meta = manifest(result, inputs, command, wall_time)
            (tmp / "manifest.json").write_text(
                json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            return out
        if isinstance(result, PSAResult):
            _csv(result.table, tmp / "psa_draws.csv")
            _csv(result.summary, tmp / "psa_summary.csv")
            _csv(result.breakeven, tmp / "psa_breakeven.csv")
            (tmp / "charts").mkdir()
            for stem, make in (("breakeven", plots.breakeven), ("npv_distribution", plots.npv_distribution)):
                fig = make(result)
                fig.savefig(tmp / "charts" / f"{stem}.png", dpi=150)
                fig.savefig(tmp / "charts" / f"{stem}.svg", metadata={"Date": None})
            meta = manifest(result, inputs, command, wall_time)
            (tmp / "manifest.json").write_text(
                json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            return out
        if isinstance(result, Comparison):
            arms = {"baseline": result.base, "strategy": result.strategy}
            _csv(result.summary, tmp / "comparison.csv")
            _csv(result.yearly, tmp / "comparison_yearly.csv")
        else:
            arms = {"scenario": result}
        _csv(
            pd.concat([a.yearly.assign(arm=k) for k, a in arms.items()], ignore_index=True),
            tmp / "yearly.csv",
        )
        _csv(
            pd.concat([a.summary.assign(arm=k) for k, a in arms.items()], ignore_index=True),
            tmp / "summary.csv",
        )
        (tmp / "charts").mkdir()
        for stem, make in charts(result).items():
            fig = make()
            fig.savefig(tmp / "charts" / f"{stem}.png", dpi=150)
            fig.savefig(tmp / "charts" / f"{stem}.svg", metadata={"Date": None})
        meta = manifest(result, inputs, command, wall_time)
        meta["write_seconds"] = round(time.perf_counter() - start, 3)
        (tmp / "manifest.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return out
