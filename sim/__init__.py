"""Trappesim: simulate the indsatstrappe and the economics of early intervention.

>>> import sim
>>> base = sim.load_scenario("scenarios/denmark-baseline.toml")        # doctest: +SKIP
>>> plan = sim.load_scenario("scenarios/denmark-early-detection.toml")  # doctest: +SKIP
>>> cmp = sim.compare(base, plan, replications=10, seed=1)              # doctest: +SKIP
>>> cmp.summary                                                          # doctest: +SKIP

The names below are imported when first used (PEP 562), so that ``import
sim`` and the start of the ``trappesim`` command take milliseconds, not the
seconds NumPy, pandas, SciPy and Matplotlib take: Ctrl-C while the command
starts can then be answered with one line instead of a traceback.
"""

from __future__ import annotations

import importlib

# Not typing.TYPE_CHECKING: every module imported here lengthens the start-up
# during which Ctrl-C can only end in Python's traceback.
TYPE_CHECKING = False

_FROM = {
    "Comparison": "sim.run.experiment",
    "LocalWorkers": "sim.run.workers",
    "Result": "sim.run.experiment",
    "compare": "sim.run.experiment",
    "expected": "sim.run.experiment",
    "simulate": "sim.run.experiment",
    "key_figures": "sim.outputs.report",
    "load_results": "sim.outputs.results",
    "save_results": "sim.outputs.results",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.errors",
    "TrappesimError": "sim.errors",
    "UserError": "sim.errors",
    "PrecisionWarning": "sim.errors",
    "load_scenario": "sim.scenario",
    "save_scenario": "sim.scenario",
    "BreakEven": "sim.analysis.uncertainty",
    "PSAResult": "sim.analysis.uncertainty",
    "Sensitivity": "sim.analysis.uncertainty",
    "Tornado": "sim.analysis.uncertainty",
    "break_even": "sim.analysis.uncertainty",
    "global_sensitivity": "sim.analysis.uncertainty",
    "psa": "sim.analysis.uncertainty",
    "tornado": "sim.analysis.uncertainty",
}
"""Names ``import sim`` offers, and the module each comes from."""

_MODULES = {
    "calibrate": "sim.analysis.calibrate",
    "errors": "sim.errors",
    "plots": "sim.outputs.plots",
    "scenario": "sim.scenario",
}
"""Modules ``import sim`` offers by a short name: ``sim.plots.payback(cmp)``."""

_MOVED = {
    "des": "sim.engines.des",
    "distributions": "sim.scenario.distributions",
    "estimates": "sim.run.estimates",
    "experiment": "sim.run.experiment",
    "invariants": "sim.engines.invariants",
    "language": "sim.outputs.language",
    "plausibility": "sim.scenario.plausibility",
    "report": "sim.outputs.report",
    "results": "sim.outputs.results",
    "spells": "sim.engines.spells",
    "staircase": "sim.model.staircase",
    "uncertainty": "sim.analysis.uncertainty",
    "workbook": "sim.outputs.workbook",
    "workers": "sim.run.workers",
}
"""Modules of version 0.1 that moved into subpackages: ``sim.des`` still works, with a warning."""

__all__ = [
    "BreakEven",
    "Comparison",
    "LocalWorkers",
    "PSAResult",
    "PrecisionWarning",
    "Result",
    "Scenario",
    "ScenarioError",
    "Sensitivity",
    "Tornado",
    "TrappesimError",
    "UserError",
    "break_even",
    "calibrate",
    "compare",
    "expected",
    "global_sensitivity",
    "key_figures",
    "load_results",
    "load_scenario",
    "plots",
    "psa",
    "save_results",
    "save_scenario",
    "simulate",
    "tornado",
]

if TYPE_CHECKING:  # what type checkers and editors see
    from typing import Any

    from sim.analysis import calibrate
    from sim.analysis.uncertainty import (
        BreakEven,
        PSAResult,
        Sensitivity,
        Tornado,
        break_even,
        global_sensitivity,
        psa,
        tornado,
    )
    from sim.errors import PrecisionWarning, ScenarioError, TrappesimError, UserError
    from sim.outputs import plots
    from sim.outputs.report import key_figures
    from sim.outputs.results import load_results, save_results
    from sim.run.experiment import Comparison, Result, compare, expected, simulate
    from sim.run.workers import LocalWorkers
    from sim.scenario import Scenario, load_scenario, save_scenario


def _submodules() -> list[str]:
    import pkgutil

    return [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]


def __getattr__(name: str) -> Any:
    if name in _FROM:
        value = getattr(importlib.import_module(_FROM[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _MOVED:
        import warnings

        warnings.warn(f"sim.{name} has moved to {_MOVED[name]}", DeprecationWarning, stacklevel=2)
        return importlib.import_module(_MOVED[name])
    elif name in _submodules():
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # What the package offers, as when it imported everything at once; not its helpers.
    return sorted(
        {*(n for n in globals() if n.startswith("__")), *__all__, *_FROM, *_MODULES, *_submodules()}
    )
