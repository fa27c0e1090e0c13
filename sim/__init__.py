"""Trappesim: simulate the indsatstrappe and the economics of early intervention.

>>> import sim
>>> base = sim.load_scenario("scenarios/denmark-baseline.toml")        # doctest: +SKIP
>>> plan = sim.load_scenario("scenarios/denmark-early-detection.toml")  # doctest: +SKIP
>>> cmp = sim.compare(base, plan, replications=10, seed=1)              # doctest: +SKIP
>>> cmp.summary                                                          # doctest: +SKIP
"""

from sim import plots
from sim.experiment import Comparison, Result, compare, expected, simulate
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = [
    "Comparison",
    "Result",
    "Scenario",
    "ScenarioError",
    "compare",
    "expected",
    "load_scenario",
    "plots",
    "simulate",
]
