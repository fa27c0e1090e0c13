"""Trappesim: simulate the indsatstrappe and the economics of early intervention.

>>> import sim
>>> base = sim.load_scenario("scenarios/denmark-baseline.toml")        # doctest: +SKIP
>>> plan = sim.load_scenario("scenarios/denmark-early-detection.toml")  # doctest: +SKIP
>>> cmp = sim.compare(base, plan, replications=10, seed=1)              # doctest: +SKIP
>>> cmp.summary                                                          # doctest: +SKIP
"""

from sim import calibrate, plots
from sim.experiment import Comparison, Result, compare, expected, simulate
from sim.report import key_figures
from sim.results import load_results
from sim.scenario import Scenario, ScenarioError, load_scenario, save_scenario
from sim.uncertainty import PSAResult, Tornado, break_even, global_sensitivity, psa, tornado

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
