"""``trappesim check``: validate a scenario file and print it resolved."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli.common import EXIT_OK, notes, plausible
from sim.cli.options import add_strict


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``check`` command to the parser."""
    p = sub.add_parser("check", help="validate a scenario file and print it resolved (as TOML)")
    p.add_argument("scenario", type=Path, help="scenario file (TOML)")
    p.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    add_strict(p)
    p.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    import tomli_w

    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    notes({"scenario": args.scenario}, {"scenario": scenario})
    plausible(args, {"scenario": args.scenario}, {"scenario": scenario})
    data = scenario.to_dict()
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else tomli_w.dumps(data), end="")
    print(f"# {args.scenario}: valid. Input hash {scenario.input_hash()[:16]}.", file=sys.stderr)
    return EXIT_OK
