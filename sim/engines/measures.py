"""The engines' contract: the measures every engine returns, per year and step.

The discrete-event engine (through :mod:`sim.engines.spells`) and the analytic
engine (:mod:`sim.engines.expected`) both return these arrays, ``[year, step]``
(``[replication, year, step]`` over replications); :mod:`sim.engines.invariants`
checks them and :mod:`sim.economics` turns them into money. A new measure is
added here, then in both engines, and the tests of both hold them equal where
both apply.
"""

from __future__ import annotations

MEASURES = (
    "stock_end",
    "child_years",
    "new_cases",
    "moves_in",
    "moves_up",
    "moves_down",
    "closed",
    "aged_out",
    "placement_entries",
    "reviews",
    "waiting_end",
    "waiting_years",
    "waits_started",
    "overflows",
    "wait_mean",
    "wait_p90",
    "adult_leavers",
    "adult_cost_pv",
)
"""Measures per year and step, shared by both engines (see :mod:`sim.engines.spells`).

``adult_leavers`` and ``adult_cost_pv`` are the children who left the
staircase in the year by the highest step they reached, and the present
value of their adult-life costs (``scenario.adult``). The DES reads them
from each child's spells; the analytic engine follows the highest step (and
the band it was first reached in) as part of the state.

The waiting measures are indexed by the full step children wait for (the
time itself is spent, and costed, on the step they wait on); ``wait_mean``
and ``wait_p90`` are over waits that ended in the year (``nan`` if none).
"""

ADDITIVE = tuple(m for m in MEASURES if m not in ("wait_mean", "wait_p90"))
"""Measures that add up over years, steps and replications."""
