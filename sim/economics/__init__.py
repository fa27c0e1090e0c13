"""Money: costs by step and payer, prices, discounting, and the comparison of two arms."""

from sim.economics.comparison import (
    check_perspective,
    compare_arrays,
    discounting_label,
    money_label,
    payback_index,
    programme_costs,
    programme_costs_by_payer,
    step_costs,
    step_costs_by_payer,
)

__all__ = [
    "check_perspective",
    "compare_arrays",
    "discounting_label",
    "money_label",
    "payback_index",
    "programme_costs",
    "programme_costs_by_payer",
    "step_costs",
    "step_costs_by_payer",
]
