"""Same outputs: every shipped scenario and pair gives byte-identical CSVs in two trees.

Run from the repository root:

    python benchmarks/same_outputs.py --against v0.1.0     # this tree against a git revision
    python benchmarks/same_outputs.py --digest out.json    # only write this tree's digest

A refactoring that claims "no change in behaviour" shows it here: the script
runs ``trappesim run`` on every file in ``scenarios/``, ``trappesim compare``
on every shipped pair and a short ``psa`` and ``tornado`` on the uncertain
pair, with one seed and a few replications, in this tree and in a clean
checkout of the revision (``git worktree``), and compares the SHA-256 of
every CSV the two write. It prints the files that differ and exits 1 if any
does. Manifests are left out: they carry the version, the time and the
input hash, which a change to a comment in a scenario file alters.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = "20261127"
REPLICATIONS = "2"

PAIRS = [
    ("denmark-baseline", "denmark-early-detection"),
    ("denmark-baseline", "denmark-baseline-aftercare"),
    ("municipality-template", "municipality-early-detection"),
    ("municipality-foster-shortage", "municipality-foster-recruitment"),
    ("municipality-lifetime", "municipality-early-detection-lifetime"),
    ("municipality-uncertain", "municipality-early-detection-uncertain"),
]
"""Shipped pairs: a baseline and a strategy that extends it."""


def jobs(scenarios: Path) -> list[tuple[str, list[str]]]:
    """The commands to run, each with the name of the folder it writes."""
    out: list[tuple[str, list[str]]] = []
    fixed = ["--seed", SEED, "--replications", REPLICATIONS]
    for path in sorted(scenarios.glob("*.toml")):
        out.append((f"run-{path.stem}", ["run", str(path), *fixed]))
        out.append((f"expected-{path.stem}", ["run", str(path), "--engine", "expected"]))
    for base, strategy in PAIRS:
        files = [str(scenarios / f"{base}.toml"), str(scenarios / f"{strategy}.toml")]
        out.append((f"compare-{strategy}", ["compare", *files, *fixed]))
    unc = [str(scenarios / f"{n}.toml") for n in PAIRS[-1]]
    out.append(("psa", ["psa", *unc, "--draws", "40", "--seed", SEED]))
    out.append(("tornado", ["tornado", *unc]))
    return out


def digest(tree: Path, workdir: Path) -> dict[str, str]:
    """Run every job with the code of ``tree``; SHA-256 of every CSV, by folder/file."""
    env = {**os.environ, "PYTHONPATH": str(tree), "MPLBACKEND": "Agg"}

    def one(job: tuple[str, list[str]]) -> dict[str, str]:
        name, args = job
        out = workdir / name
        cmd = [sys.executable, "-m", "sim", *args, "--out", str(out)]
        done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
        if done.returncode == 2 and name.startswith("expected-"):
            return {name: "refused (exit 2)"}  # the analytic engine does not apply: both trees must say so
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed in {tree}:\n{done.stderr}")
        return {
            f"{name}/{f.relative_to(out)}": hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(out.rglob("*.csv"))
        }

    found: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for part in pool.map(one, jobs(tree / "scenarios")):
            found.update(part)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="a git revision to compare this tree with")
    parser.add_argument("--digest", type=Path, help="write this tree's digest (JSON) here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        here = digest(ROOT, Path(tmp) / "here")
        if args.digest:
            args.digest.write_text(json.dumps(here, indent=1, sort_keys=True) + "\n")
        if not args.against:
            print(f"{len(here)} CSV files digested")
            return 0
        other = Path(tmp) / "other"
        subprocess.run(["git", "worktree", "add", "--detach", str(other), args.against], cwd=ROOT, check=True)
        try:
            there = digest(other, Path(tmp) / "there")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, check=True)
    differ = sorted(k for k in here.keys() | there.keys() if here.get(k) != there.get(k))
    for key in differ:
        what = "only here" if key not in there else "only there" if key not in here else "differs"
        print(f"{what}: {key}")
    print(f"{len(here)} CSV files here, {len(there)} in {args.against}: {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
