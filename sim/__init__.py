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
import sys
import types

# Not typing.TYPE_CHECKING: every module imported here lengthens the start-up
# during which Ctrl-C can only end in Python's traceback.
TYPE_CHECKING = False

_FROM = {
    "Comparison": "sim.experiment",
    "Result": "sim.experiment",
    "compare": "sim.experiment",
    "expected": "sim.experiment",
    "simulate": "sim.experiment",
    "key_figures": "sim.report",
    "load_results": "sim.results",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.scenario",
    "load_scenario": "sim.scenario",
    "save_scenario": "sim.scenario",
    "PSAResult": "sim.uncertainty",
    "Tornado": "sim.uncertainty",
    "break_even": "sim.uncertainty",
    "global_sensitivity": "sim.uncertainty",
    "psa": "sim.uncertainty",
    "tornado": "sim.uncertainty",
}
"""Names ``import sim`` offers, and the module each comes from."""

__all__ = [
    "Comparison",
    "PSAResult",
    "Result",
    "Scenario",
    "ScenarioError",
    "Tornado",
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
    "save_scenario",
    "simulate",
    "tornado",
]

if TYPE_CHECKING:  # what type checkers and editors see
    from typing import Any

    from sim import calibrate, plots
    from sim.experiment import Comparison, Result, compare, expected, simulate
    from sim.report import key_figures
    from sim.results import load_results
    from sim.scenario import Scenario, ScenarioError, load_scenario, save_scenario
    from sim.uncertainty import PSAResult, Tornado, break_even, global_sensitivity, psa, tornado


def _submodules() -> list[str]:
    import pkgutil

    return [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]


def __getattr__(name: str) -> Any:
    if name in _FROM:
        value = getattr(importlib.import_module(_FROM[name]), name)
    elif name in _submodules():
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # What the package offers, as when it imported everything at once; not its helpers.
    return sorted({*(n for n in globals() if n.startswith("__")), *__all__, *_FROM, *_submodules()})


class _Package(types.ModuleType):
    """The package, keeping its functions when a submodule of the same name is imported.

    Importing ``sim.expected`` (the analytic engine) sets the package's
    attribute ``expected`` to that module; ``sim.expected`` must stay the
    function, as it was when this package imported everything at once.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FROM and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
