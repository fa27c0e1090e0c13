"""Precision benchmark: what the analytic engine as a control variate saves, in one run.

Run from the repository root:

    python benchmarks/bench_precision.py            # about 2 minutes on 2 cores
    python benchmarks/bench_precision.py --quick    # fewer pilot replications

For each comparison it runs a pilot of replications, measures the spread of
the headline numbers per replication (placements avoided, NPV) and the time
per replication, and prints:

- the replications that plain means over replications would need for a 95 %
  Monte Carlo half-width of 2 % of the value (``n = (t sd / (0.02 mean))^2``),
  and the time that would take;
- what the default run takes instead: where the analytic engine solves the
  model, its means are exact (the control variate ``C = Y`` with known
  ``E[C]``), and the replications are only the first batch, for the range of
  outcomes; elsewhere the precision rule's own batches;
- the ratio of the two, measured in the same process.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from sim.run.estimates import MIN_REPLICATIONS, PRECISION, t_quantile  # noqa: E402
from sim.run.experiment import compare  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

SCENARIOS = ROOT / "scenarios"
CASES = {
    "municipal pair (45,000 children)": (
        "municipality-template.toml",
        "municipality-early-detection.toml",
        None,
    ),
    "municipal pair, 30,000 children": (
        "municipality-template.toml",
        "municipality-early-detection.toml",
        30_000,
    ),
    "foster shortage (places bind; no control)": (
        "municipality-foster-shortage.toml",
        "municipality-foster-recruitment.toml",
        None,
    ),
}


def smaller(scenario, children: int) -> dict:
    """An area of ``children`` children: new cases and the initial stock scale; costs do not."""
    f = children / scenario.population.children
    changes = {"population.children": children, "population.entries_per_year": scenario.entries_per_year * f}
    for step, stock in scenario.population.initial_stock.items():
        changes[f"population.initial_stock.{step}.children"] = round(stock.children * f)
    return changes


def pilot(base, plan, n: int, workers: int) -> tuple[dict[str, np.ndarray], float]:
    start = time.perf_counter()
    cmp = compare(base, plan, replications=n, seed=11, workers=workers)
    per_rep = (time.perf_counter() - start) / n
    keys = {"placements avoided": "total_placement_entries_avoided", "NPV": "total_npv"}
    return {k: cmp.arrays[v] for k, v in keys.items()}, per_rep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 pilot replications instead of 40")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    n_pilot = 20 if args.quick else 40
    print(
        f"Pilot: {n_pilot} replications per case, {args.workers} workers; target: 95 % half-width "
        f"<= {100 * PRECISION:g} % of the mean.\n"
    )
    for name, (b, s, children) in CASES.items():
        base, plan = load_scenario(SCENARIOS / b), load_scenario(SCENARIOS / s)
        if children:
            base = base.with_changes(smaller(base, children))
            plan = plan.with_changes(smaller(plan, children))
        values, per_rep = pilot(base, plan, n_pilot, args.workers)
        needed = 0
        for key, v in values.items():
            sd, mean = float(np.std(v, ddof=1)), float(np.mean(v))
            n = math.ceil((t_quantile(n_pilot) * sd / (PRECISION * abs(mean))) ** 2) if mean else math.inf
            needed = max(needed, n)
            print(
                f"  {name}: {key}: mean {mean:,.4g}, sd per replication {sd:,.4g} "
                f"-> plain means need {n:,} replications"
            )
        start = time.perf_counter()
        cmp = compare(base, plan, seed=11, workers=args.workers)
        took = time.perf_counter() - start
        plain = needed * per_rep
        reached = ", ".join(
            f"{tg.name} {100 * tg.reached(cmp.base.replications):.2g} %" for tg in cmp.precision_targets()
        )
        print(
            f"  {name}: default run: {cmp.base.replications} replications, means '{cmp.mean_from}', "
            f"precision reached {reached}, {took:.1f} s"
        )
        if cmp.mean_from == "exact":
            print(
                f"  {name}: plain means to 2 %: {needed:,} replications, about {plain:,.0f} s; "
                f"ratio default / plain = {took / plain:.3f} (min replications {MIN_REPLICATIONS})\n"
            )
        else:
            print(
                f"  {name}: no control applies (places bind); plain means to 2 %: {needed:,} replications, "
                f"about {plain:,.0f} s\n"
            )


if __name__ == "__main__":
    main()
