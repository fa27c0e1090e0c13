"""Options shared by the commands, and the checks argparse makes of them before anything runs.

The parser is built without NumPy, pandas, SciPy or pydantic (``--help`` in a
tenth of a second): the defaults and choices it shows are plain data here,
copies of the constants of modules too heavy to import for them (tests check
that each copy agrees with its source).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from sim.cli.common import EXIT_USAGE

DEFAULT_SEED = 20240101
"""As :data:`sim.run.experiment.DEFAULT_SEED`."""
PRECISION, MIN_REPLICATIONS, MAX_REPLICATIONS = 0.02, 10, 100
"""As :data:`sim.run.estimates.PRECISION`, ``MIN_REPLICATIONS`` and ``MAX_REPLICATIONS``."""
PERSPECTIVES = ("kommune", "region", "stat", "society")
"""As :data:`sim.scenario.PERSPECTIVES`."""
LANGUAGES = ("da", "en")
"""As :data:`sim.outputs.language.LANGUAGES`."""


class Parser(argparse.ArgumentParser):
    """argparse, with a user's mistake in one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"trappesim: error: {message}; see {self.prog} --help\n")


def whole(least: int, why: str = "") -> Callable[[str], int]:
    """An argparse ``type``: a whole number of at least ``least``, checked before anything runs."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < least:
            # The reason is for a number that is too small, not for one that is no whole number.
            because = why if value is not None else ""
            raise argparse.ArgumentTypeError(
                f"must be a whole number of at least {least}, not {text}{because}"
            )
        return value

    return parse


def share(text: str) -> float:
    """An argparse ``type``: a share strictly between 0 and 1, such as 0.02."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, such as 0.02 (2 %), not {text}")
    return value


SHARE = share
SEED = whole(0, " (a random seed cannot be negative)")
AT_LEAST_1 = whole(1)
AT_LEAST_0 = whole(0)


def add_two_files(p: argparse.ArgumentParser) -> None:
    p.add_argument("baseline", type=Path, help="baseline scenario file (TOML)")
    p.add_argument(
        "strategy", type=Path, help="strategy scenario file (TOML), usually extending the baseline"
    )


def add_seed_engine(p: argparse.ArgumentParser, default_engine: str, engine_help: str) -> None:
    p.add_argument(
        "--seed", "-s", type=SEED, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    choices = ("des", "expected") if default_engine == "des" else ("expected", "des")
    p.add_argument("--engine", choices=choices, default=default_engine, help=engine_help)


def add_where(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers", "-w", type=AT_LEAST_1, default=None, help="worker processes (default: all cores)"
    )
    p.add_argument(
        "--scheduler", help="run on a Dask cluster: its scheduler address, e.g. tcp://10.0.0.5:8786"
    )


def add_output(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--out", "-o", type=Path, help=f"results folder (default: results/<names>-{what}<date>-<time>)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing results folder")
    add_lang(p)


def add_perspective(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--perspective",
        choices=PERSPECTIVES,
        default="kommune",
        help=(
            "whose money the budget numbers count (default kommune; society: the public sector as a whole, "
            "kommune + region + stat)"
        ),
    )


def add_strict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="treat warnings about implausible numbers as errors (exit 2, nothing written)",
    )


def add_analysis(p: argparse.ArgumentParser, engine_help: str, what: str) -> None:
    """The options every analysis of a pair's uncertain numbers takes (psa, tornado, sensitivity):
    seed and engine (analytic by default), where it runs, whose money, its folder, ``--strict``."""
    add_seed_engine(p, "expected", engine_help)
    add_where(p)
    add_perspective(p)
    add_output(p, what)
    add_strict(p)


def add_lang(p: argparse.ArgumentParser, what: str = "charts, workbook, report and printed summary") -> None:
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        help=f"language of the {what}: da or en (default: the scenario's, Danish unless it says)",
    )


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--replications",
        "-r",
        type=AT_LEAST_1,
        default=None,
        help="a fixed number of replications of the discrete-event model (default: as many as --precision needs)",
    )
    p.add_argument(
        "--precision",
        type=SHARE,
        default=PRECISION,
        help=f"run until the 95 %% interval of the mean placements (avoided) and cost (NPV) is within this share "
        f"of their value (default {PRECISION}); where the analytic engine solves the model, means are exact",
    )
    p.add_argument(
        "--max-replications",
        type=whole(MIN_REPLICATIONS),
        default=MAX_REPLICATIONS,
        help=f"the most replications --precision may run (default {MAX_REPLICATIONS})",
    )
    add_seed_engine(p, "des", "discrete-event simulation or analytic expected values (default des)")
    add_where(p)
    add_output(p, "")
    add_strict(p)
