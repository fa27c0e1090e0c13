"""``trappesim report``: remake charts, the workbook and the HTML report from a results folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import EXIT_OK
from sim.cli.options import add_lang


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` command to the parser."""
    p = sub.add_parser(
        "report", help="remake charts, report.xlsx and report.html from a results folder (no simulation)"
    )
    p.add_argument(
        "folder",
        type=Path,
        help="a results folder written by run or compare (charts and reports), or by psa or tornado (charts)",
    )
    p.add_argument(
        "--with",
        dest="extras",
        type=Path,
        action="append",
        default=[],
        metavar="FOLDER",
        help="a psa, tornado or sensitivity folder for the same scenarios, shown in a comparison's report "
        "(repeatable)",
    )
    add_lang(p)
    p.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from sim.outputs.results import remake_reports

    written = remake_reports(args.folder, args.lang, args.extras)
    if not written:  # a sensitivity folder: its table is all it has
        print(
            f"trappesim: report: {args.folder}/ has no charts or reports to remake; add it to a "
            f"comparison's report: trappesim report COMPARISON_FOLDER --with {args.folder}"
        )
        return EXIT_OK
    from sim.outputs import language as L
    from sim.outputs.results import read_manifest

    said = L.t("cli_remade", read_manifest(args.folder).get("language", "en"), folder=args.folder)
    print(f"trappesim: report: {said}")
    for name in written:
        if not name.endswith(".svg"):
            print(f"  {name.removesuffix('.png') if name.startswith('charts/') else name}")
    return EXIT_OK
