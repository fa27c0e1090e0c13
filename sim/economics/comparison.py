"""Costs, discounting, and the budget answer: NPV, ROI, payback.

All money is in the scenario's price year, discounted to its start year with
stepped real rates (Finansministeriet by default). Functions here work on the
arrays the engines produce (``[replication, year, step]``) and know nothing
of how they were simulated.

Definitions (per replication, then summarised over replications):

- step cost = child-years x cost per child-year + entries x one-off cost;
- programme cost = fixed cost per year + one-off cost in the first year +
  cost per child reached (entries onto the reached steps while it runs) +
  caseworkers + extra places;
- savings on a step = baseline step cost - strategy step cost (negative
  where the strategy puts more children on a step, e.g. early help);
- net savings = sum of savings over steps - extra programme cost;
- NPV = sum of discounted net savings over the horizon;
- ROI = NPV / discounted extra programme cost (kroner back, net, per krone
  invested);
- payback year = first year from which cumulative discounted net savings
  stay at or above zero to the end of the horizon (none if they never do).
"""

from __future__ import annotations

import numpy as np

from sim.errors import OptionError
from sim.model.staircase import Staircase
from sim.scenario import PAYERS, PERSPECTIVES, Scenario


def discounting_label(scenario: Scenario) -> str:
    """The discount rates in words, e.g. ``"3.5 % years 0-35, 2.5 % years 36-70, 1.5 % from year 71"``.

    Plain English with plain spaces, for CSV unit columns (the reports say it in
    their language: :func:`sim.outputs.language.discounting`).
    """
    periods = sorted(scenario.discounting.periods, key=lambda p: p.from_year)
    parts = []
    for p, nxt in zip(periods, [*periods[1:], None], strict=True):
        span = f"years {p.from_year}-{nxt.from_year - 1}" if nxt else f"from year {p.from_year}"
        parts.append(f"{round(100 * p.rate, 1) + 0.0:.1f} % {span}")  # + 0.0: no "-0.0"
    return ", ".join(parts)


def money_label(scenario: Scenario) -> str:
    """What every money figure is: currency, price year, discounting."""
    return (
        f"{scenario.currency}, {scenario.price_year} prices, discounted to {scenario.discount_year} "
        f"(real {discounting_label(scenario)}{'; ' + scenario.discounting.source if scenario.discounting.source else ''})"
    )


def step_costs(measures: dict[str, np.ndarray], st: Staircase) -> np.ndarray:
    """Nominal cost per year and step, ``[..., year, step]``, in price-year DKK."""
    entries = measures["new_cases"] + measures["moves_in"]
    return measures["child_years"] * st.cost_per_year + entries * st.entry_cost


def programme_costs(measures: dict[str, np.ndarray], st: Staircase) -> np.ndarray:
    """Nominal programme cost per year, ``[..., year]``."""
    entries = measures["new_cases"] + measures["moves_in"]
    reached = (entries * st.reached).sum(axis=-1) * st.active
    return st.programme_cost + st.cost_per_child_reached * reached


def check_perspective(perspective: str) -> None:
    """Refuse a perspective that is not a payer or ``society`` (ValueError)."""
    if perspective not in PERSPECTIVES:
        raise OptionError(f"perspective must be one of {', '.join(PERSPECTIVES)}, not {perspective!r}")


def programme_costs_by_payer(measures: dict[str, np.ndarray], st: Staircase) -> np.ndarray:
    """Nominal programme cost per year and payer, ``[..., year, payer]``.

    Caseworkers are paid as ``casework.payers`` says; everything else the
    programme costs as ``intervention.payers`` says. Sums to :func:`programme_costs`.
    """
    total = programme_costs(measures, st)
    casework = np.broadcast_to(st.casework_cost, total.shape)
    return (total - casework)[..., None] * st.programme_payers + casework[..., None] * st.casework_payers


def step_costs_by_payer(measures: dict[str, np.ndarray], st: Staircase) -> np.ndarray:
    """Nominal step costs per year and payer, ``[..., year, payer]`` (summed over steps)."""
    return step_costs(measures, st) @ st.step_payers


def payback_index(cum_discounted_net: np.ndarray) -> np.ndarray:
    """Index of the first year from which the cumulative net stays >= 0.

    Parameters
    ----------
    cum_discounted_net : numpy.ndarray
        ``[replication, year]`` cumulative discounted net savings.

    Returns
    -------
    numpy.ndarray
        Float array of year indices, ``nan`` where it never pays back.
    """
    ok = cum_discounted_net >= -1e-6 * np.maximum(1.0, np.abs(cum_discounted_net).max())
    stays = np.flip(np.logical_and.accumulate(np.flip(ok, axis=-1), axis=-1), axis=-1)
    first = np.argmax(stays, axis=-1).astype(float)
    first[~stays.any(axis=-1)] = np.nan
    return first


def compare_arrays(
    base: dict[str, np.ndarray],
    strat: dict[str, np.ndarray],
    st_base: Staircase,
    st_strat: Staircase,
    perspective: str = "kommune",
) -> dict[str, np.ndarray]:
    """Per-replication comparison of a strategy with its baseline.

    Parameters
    ----------
    base, strat : dict
        Measures ``[replication, year, step]`` of each arm (same seeds).
    st_base, st_strat : Staircase
        The compiled arms.
    perspective : {"kommune", "region", "stat", "society"}
        Whose money the headline numbers (investment, savings, NPV, ROI,
        payback) count: one payer's, or everyone's. Per-payer NPVs are
        always given too (``total_npv_<payer>``).

    Returns
    -------
    dict of str to numpy.ndarray
        Yearly arrays ``[replication, year]`` (and ``savings_by_step``
        ``[replication, year, step]``) and per-replication totals.
    """
    D = st_base.discount
    pl_b, pl_s = st_base.placement, st_strat.placement
    out: dict[str, np.ndarray] = {}
    out["placement_entries_avoided"] = (base["placement_entries"] * pl_b).sum(-1) - (
        strat["placement_entries"] * pl_s
    ).sum(-1)
    out["placement_child_years_avoided"] = (base["child_years"] * pl_b).sum(-1) - (
        strat["child_years"] * pl_s
    ).sum(-1)
    out["placed_at_year_end_avoided"] = (base["stock_end"] * pl_b).sum(-1) - (strat["stock_end"] * pl_s).sum(
        -1
    )
    # Waiting lists (all capped steps together).
    out["waiting_years_avoided"] = base["waiting_years"].sum(-1) - strat["waiting_years"].sum(-1)
    out["overflows_avoided"] = base["overflows"].sum(-1) - strat["overflows"].sum(-1)
    check_perspective(perspective)

    def share(st: Staircase) -> np.ndarray:  # each step's share of its cost borne by the perspective
        return (
            np.ones(st.n_steps) if perspective == "society" else st.step_payers[:, PAYERS.index(perspective)]
        )

    out["savings_by_step"] = step_costs(base, st_base) * share(st_base) - step_costs(strat, st_strat) * share(
        st_strat
    )
    out["investment_by_payer"] = programme_costs_by_payer(strat, st_strat) - programme_costs_by_payer(
        base, st_base
    )
    out["savings_by_payer"] = step_costs_by_payer(base, st_base) - step_costs_by_payer(strat, st_strat)
    for i, payer in enumerate(PAYERS):
        net = out["savings_by_payer"][..., i] - out["investment_by_payer"][..., i]
        out[f"total_npv_{payer}"] = (net * D).sum(-1)
        out[f"total_investment_pv_{payer}"] = (out["investment_by_payer"][..., i] * D).sum(-1)
    if perspective == "society":
        out["investment"] = out["investment_by_payer"].sum(-1)
        out["gross_savings"] = out["savings_by_payer"].sum(-1)
    else:
        out["investment"] = out["investment_by_payer"][..., PAYERS.index(perspective)]
        out["gross_savings"] = out["savings_by_payer"][..., PAYERS.index(perspective)]
    out["total_npv_society"] = sum(out[f"total_npv_{p}"] for p in PAYERS)
    # Adult life after the staircase: a projection, kept apart from the budget
    # lines. Already discounted (each child's years of adult life).
    adult = base["adult_cost_pv"].sum(-1) - strat["adult_cost_pv"].sum(-1)  # [..., year of leaving]
    share = 1.0 if perspective == "society" else float(st_base.adult_payers[PAYERS.index(perspective)])
    out["adult_savings_pv"] = adult * share
    out["total_adult_savings_pv"] = out["adult_savings_pv"].sum(-1)
    out["total_placed_leavers_avoided"] = ((base["adult_leavers"] - strat["adult_leavers"]) * pl_b).sum(
        (-1, -2)
    )
    # Adult outcomes: the change in persons above the reference share, among
    # children who left within the horizon (a projection, like the costs).
    # Both arms share one [adult] table (sim.run.experiment.check_pair): the same outcomes.
    for key, excess in zip(st_base.adult_outcomes, st_base.adult_excess):
        out[f"total_adult_{key}_change"] = ((strat["adult_leavers"] - base["adult_leavers"]) * excess).sum(
            (-1, -2)
        )
    out["net_savings"] = out["gross_savings"] - out["investment"]
    out["cum_net_savings_discounted"] = np.cumsum(out["net_savings"] * D, axis=-1)
    # Totals per replication.
    inv_pv = (out["investment"] * D).sum(-1)
    out["total_placement_entries_avoided"] = out["placement_entries_avoided"].sum(-1)
    out["total_placement_child_years_avoided"] = out["placement_child_years_avoided"].sum(-1)
    out["total_placed_at_end_avoided"] = out["placed_at_year_end_avoided"][..., -1]
    out["total_waiting_years_avoided"] = out["waiting_years_avoided"].sum(-1)
    out["total_overflows_avoided"] = out["overflows_avoided"].sum(-1)
    out["total_investment_pv"] = inv_pv
    out["total_gross_savings_pv"] = (out["gross_savings"] * D).sum(-1)
    out["total_npv"] = out["cum_net_savings_discounted"][..., -1]
    out["total_npv_with_adult"] = out["total_npv"] + out["total_adult_savings_pv"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["total_roi"] = np.where(inv_pv > 0, out["total_npv"] / inv_pv, np.nan)
    out["total_payback_year"] = payback_years(
        out["cum_net_savings_discounted"], inv_pv, strategy_start(st_strat), st_base.start_year
    )
    return out


def strategy_start(st_strat: Staircase) -> int:
    """Index of the first year the strategy acts (0 if it never does): payback is counted from there."""
    return int(np.argmax(st_strat.active)) if st_strat.active.any() else 0


def payback_years(
    cum_discounted_net: np.ndarray, investment_pv: np.ndarray, first: int, start_year: int
) -> np.ndarray:
    """Calendar year of payback per replication or draw (``nan``: none within the horizon).

    Parameters
    ----------
    cum_discounted_net : numpy.ndarray
        ``[replication, year]`` cumulative discounted net savings.
    investment_pv : numpy.ndarray
        ``[replication]`` present value of the investment.
    first : int
        Index of the strategy's first year (:func:`strategy_start`).
    start_year : int
        The calendar year of index 0.
    """
    # Payback is counted from the strategy's first year: before it both arms
    # are the same, and a zero balance there is no payback.
    pay = payback_index(cum_discounted_net[..., first:]) + first
    # A payer who invests nothing pays back from the start if it only gains
    # (the region saving on foster care it helps pay for); with no gain
    # either there is nothing to pay back.
    pay[(investment_pv <= 0) & ~(cum_discounted_net[..., -1] > 0)] = np.nan
    return pay + start_year
