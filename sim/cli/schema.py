"""``trappesim schema``: the scenario file's JSON Schema, for editors that complete and check keys."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli.common import EXIT_OK
from sim.errors import OutputExistsError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``schema`` command to the parser."""
    p = sub.add_parser("schema", help="print the scenario file's JSON Schema (for editors such as VS Code)")
    p.add_argument("--out", "-o", type=Path, help="write it to this file instead of printing it")
    p.add_argument("--force", action="store_true", help="replace the file --out names if it exists")
    p.set_defaults(handler=_schema)


def schema_text() -> str:
    """The JSON Schema as the file ``scenarios/trappesim.schema.json`` holds it."""
    from sim.scenario.jsonschema import json_schema

    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def _schema(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    if args.out.exists() and not args.force:
        raise OutputExistsError(f"{args.out}: exists; add --force to replace it")
    args.out.write_text(text, encoding="utf-8")
    print(f"trappesim: schema: written to {args.out}", file=sys.stderr)
    return EXIT_OK
