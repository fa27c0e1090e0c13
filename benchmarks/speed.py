"""Every row of the speed table in one run: the engines, the PSA, the first command, start-up, the suite.

Run from the repository root (a quiet machine gives the figures the docs quote):

    python benchmarks/speed.py              # every row (about 10 minutes: the suite is one row)
    python benchmarks/speed.py --no-suite   # without the test suite's row
    python benchmarks/speed.py --quick      # smaller runs, no suite: a smoke test of this script

It prints a Markdown table, the one in ``docs/explanation/speed.md``: what was
measured, the figure, the target and whether it is met. Ratios are against the
naive SimPy reference (one generator process per child, the same model and the
same random numbers) measured in the same process, so they hold on any machine;
absolute times are this machine's. ``bench_engine.py`` and ``bench_psa.py``
print the same rows in more detail.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from bench_engine import FACTORS, _national, cpu_of, same_spells, scaled, with_capacity  # noqa: E402
from bench_psa import uncertain_pair  # noqa: E402

from sim.analysis.uncertainty import global_sensitivity, psa  # noqa: E402
from sim.engines.des import simulate_des, simulate_naive  # noqa: E402
from sim.engines.expected import expected_measures  # noqa: E402
from sim.model.staircase import compile_staircase  # noqa: E402
from sim.run.workers import LocalWorkers  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "denmark-baseline.toml"
STRATEGY = ROOT / "scenarios" / "denmark-early-detection.toml"
ROWS: list[tuple[str, str, str, str]] = []
QUICK = False
"""Smaller runs: the targets are for the full sizes, so none is judged."""


def row(what: str, figure: str, target: str, met: bool) -> None:
    """Add a row to the table and show it at once (the full run takes minutes)."""
    verdict = "n/a (--quick)" if QUICK else "yes" if met else "**no**"
    ROWS.append((what, figure, target, verdict))
    print(f"  {what}: {figure} (target {target}): {verdict}", flush=True)


def wall(cmd: list[str], repeat: int, **kwargs) -> float:
    """The best wall time of a command run ``repeat`` times as a whole process."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, **kwargs)
        best = min(best, time.perf_counter() - t)
    return best


def des_rows(small: int, large: int, repeat: int) -> None:
    for capacity, ratio_target, large_target in ((False, 0.05, 1.5), (True, 0.10, 6.0)):
        scenario = scaled(small)
        st = compile_staircase(with_capacity(scenario, *FACTORS[small]) if capacity else scenario)
        t_ref, _, ref = cpu_of(lambda st=st: simulate_naive(st, seed=1), repeat)
        t_eng, _, eng = cpu_of(lambda st=st: simulate_des(st, seed=1), repeat)
        if not same_spells(ref, eng):
            raise SystemExit(
                "the engine's spells differ from the naive reference's: the timings mean nothing"
            )
        kind = "capacity binding" if capacity else "no capacity"
        r = t_eng / t_ref
        row(
            f"DES, {eng.n_children:,} children, {kind}: engine / naive SimPy reference",
            f"{t_eng:.2f} s / {t_ref:.2f} s = {r:.3f}",
            f"<= {ratio_target}",
            r <= ratio_target,
        )
        nat = _national(large, capacity)
        if capacity:
            growth = nat["seconds"] / t_eng
            row(
                f"DES, {nat['children']:,} children, capacity binding ({nat['waited']:.0%} wait), one core",
                f"{nat['seconds']:.1f} s ({growth:.1f}x the {eng.n_children:,} run), {nat['peak_mb']:.0f} MB",
                f"<= {large_target} s, growth <= 11x",
                nat["seconds"] <= large_target and growth <= 11,
            )
        else:
            row(
                f"DES, {nat['children']:,} children, no capacity, one core",
                f"{nat['seconds']:.2f} s, {nat['peak_mb']:.0f} MB",
                f"<= {large_target} s, <= 400 MB",
                nat["seconds"] <= large_target and nat["peak_mb"] <= 400,
            )


def expected_row() -> None:
    st = compile_staircase(load_scenario(BASELINE))
    t, _, _ = cpu_of(lambda: expected_measures(st), 30)
    row("expected engine, national baseline", f"{t * 1e3:.1f} ms", "<= 5 ms", t <= 0.005)


def psa_row(draws: int) -> None:
    base, plan = uncertain_pair()
    psa(base, plan, draws=min(draws, 20), engine="expected", workers=2)  # warm: imports, caches
    t = time.perf_counter()
    psa(base, plan, draws=draws, engine="expected", workers=2)
    t = time.perf_counter() - t
    target = 10 * draws / 1000
    row(
        f"PSA, {draws:,} draws of the national pair, expected engine, 2 cores",
        f"{t:.1f} s",
        f"<= {target:g} s",
        t <= target,
    )


def sobol_row(n: int) -> None:
    base, plan = uncertain_pair()
    global_sensitivity(base, plan, n=4, engine="expected", workers=2)  # warm: imports, SALib, caches
    t = time.perf_counter()
    table = global_sensitivity(base, plan, n=n, engine="expected", workers=2)
    t = time.perf_counter() - t
    runs = n * (2 * len(table) + 2)  # Saltelli's sample: N (2k + 2) runs of both arms
    row(
        f"Sobol indices, N = {n:,} ({runs:,} runs of both arms of the national pair), expected engine, 2 cores",
        f"{t:.0f} s",
        "about a minute (<= 60 s)",
        t <= 60,
    )


def workers_row(draws: int) -> None:
    base, plan = uncertain_pair()
    # Both sides are timed after a run of their own: the first DES run in a process pays for its
    # imports and first memory, here in this process and, for two workers, in each new process
    # (0.2-0.3 s a process when both start at once). sim.LocalWorkers keeps the workers for the
    # next run, as this row times them; started for the run (workers=2) is printed below it.
    psa(base, plan, draws=1, engine="des", workers=1)
    times, tables = {}, {}

    def timed(key: str, workers: object) -> None:
        t = time.perf_counter()
        tables[key] = psa(base, plan, draws=draws, engine="des", workers=workers).table
        times[key] = time.perf_counter() - t

    timed("one", 1)
    with LocalWorkers(2) as kept:
        psa(base, plan, draws=draws, engine="des", workers=kept)  # each process's first draws
        timed("kept", kept)
    timed("started", 2)
    if not (tables["one"].equals(tables["kept"]) and tables["one"].equals(tables["started"])):
        raise SystemExit("the DES gave other numbers on 2 workers than on 1: the timings mean nothing")
    s = times["one"] / times["kept"]
    row(
        f"DES on 2 workers against 1 (PSA on the DES, {draws} draws of the national pair, identical "
        "results; the workers kept from a run before, as sim.LocalWorkers keeps them)",
        f"{times['one']:.1f} s / {times['kept']:.1f} s = {s:.2f}x",
        ">= 1.9x",
        s >= 1.9,
    )
    print(
        f"    started for the run (workers=2), each process's first memory included: {times['started']:.1f} s, "
        f"{times['one'] / times['started']:.2f}x",
        flush=True,
    )
    # What this machine gives two processes at all: NumPy work on arrays of the DES's size (memory-bound,
    # as the DES is) and plain Python (cache-resident). The DES cannot scale better than the first.
    for name, work in (
        ("NumPy on arrays of a national run's size", _numpy_work),
        ("plain Python", _python_work),
    ):
        t1 = time.perf_counter()
        for i in range(4):
            work(i)
        t1 = time.perf_counter() - t1
        with multiprocessing.get_context("fork").Pool(2) as pool:
            t2 = time.perf_counter()
            pool.map(work, range(4), chunksize=1)
            t2 = time.perf_counter() - t2
        print(f"    reference, this machine: {name} on 2 processes against 1: {t1 / t2:.2f}x", flush=True)


def _numpy_work(seed: int) -> float:
    """Gathers, sorts and logarithms on arrays of a million children (about 160 MB): memory-bound."""
    rng = np.random.default_rng(seed)
    a = rng.random((1_000_000, 20))
    idx = rng.integers(0, 1_000_000, 1_000_000)
    total = 0.0
    for k in range(20):
        total += float(np.log(a[idx, k]).sum() + np.sort(a[:, k])[::1000].sum())
    return total


def _python_work(seed: int) -> int:
    """A loop of integer arithmetic: no memory traffic."""
    s = seed
    for i in range(3_000_000):
        s = (s + i * i) % 1_000_003
    return s


def command_rows() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sim", "compare", str(BASELINE), str(STRATEGY), "-o", f"{tmp}/out"]
        t = wall(cmd, 1)
    row("first README command, after the install, 2 cores", f"{t:.0f} s", "<= 30 s", t <= 30)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    v = wall([sys.executable, "-m", "sim", "--version"], 5, env=env)
    h = wall([sys.executable, "-m", "sim", "--help"], 5, env=env)
    row(
        "`trappesim --version` / `trappesim --help`",
        f"{v:.2f} s / {h:.2f} s",
        "<= 0.3 s / <= 0.5 s",
        v <= 0.3 and h <= 0.5,
    )


def suite_row() -> None:
    t = wall([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], 1, cwd=ROOT)
    row("test suite, 2 cores", f"{t / 60:.1f} min", "<= 4 min wall", t <= 240)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="smaller runs and no suite: checks this script works"
    )
    ap.add_argument("--no-suite", action="store_true", help="leave out the test suite's row")
    args = ap.parse_args()
    global QUICK
    quick = QUICK = args.quick
    print(f"Measuring on {os.cpu_count()} cores ...", flush=True)
    des_rows(20_000 if quick else 100_000, 200_000 if quick else 1_000_000, 1 if quick else 2)
    expected_row()
    psa_row(100 if quick else 1000)
    sobol_row(64 if quick else 1024)
    workers_row(2 if quick else 4)
    if not quick:
        command_rows()
    if not (quick or args.no_suite):
        suite_row()
    print("\n| what | measured | target | met |\n|---|---|---|---|")
    for what, figure, target, verdict in ROWS:
        print(f"| {what} | {figure} | {target} | {verdict} |")


if __name__ == "__main__":
    main()
