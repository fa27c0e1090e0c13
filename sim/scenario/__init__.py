"""Scenario files: what a file may hold, reading it, and checking it.

- :mod:`~sim.scenario.schema`: every table and key (pydantic models), and
  :class:`Scenario` itself;
- :mod:`~sim.scenario.files`: reading TOML, ``extends``, notes, saving;
- :mod:`~sim.scenario.validation`: unknown keys and pydantic's errors, as
  messages naming the file, the key and what is allowed;
- :mod:`~sim.scenario.checks`: checks across keys (steps exist, shares sum
  to one, places and reviews fit);
- :mod:`~sim.scenario.distributions`: numbers given as distributions;
- :mod:`~sim.scenario.plausibility`: warnings for numbers that are allowed
  but unlikely, and hard limits.
"""

from __future__ import annotations

from sim.errors import ScenarioError
from sim.scenario.checks import capped_steps, stock_above_places
from sim.scenario.files import (
    ScenarioLike,
    as_scenario,
    extends_chain,
    load_scenario,
    save_scenario,
    scenario_notes,
    written_keys,
)
from sim.scenario.schema import (
    CLOSED,
    FM_DISCOUNTING,
    PAYERS,
    PERSPECTIVES,
    Adult,
    AdultOutcome,
    Capacity,
    Casework,
    Exponential,
    Intervention,
    Lognormal,
    Mixture,
    Population,
    Review,
    Scenario,
    Step,
    Weibull,
)

__all__ = [
    "CLOSED",
    "FM_DISCOUNTING",
    "PAYERS",
    "PERSPECTIVES",
    "Adult",
    "AdultOutcome",
    "Capacity",
    "Casework",
    "Exponential",
    "Intervention",
    "Lognormal",
    "Mixture",
    "Population",
    "Review",
    "ScenarioLike",
    "Scenario",
    "ScenarioError",
    "Step",
    "Weibull",
    "as_scenario",
    "capped_steps",
    "extends_chain",
    "load_scenario",
    "save_scenario",
    "scenario_notes",
    "stock_above_places",
    "written_keys",
]
