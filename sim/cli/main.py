"""The ``trappesim`` command: its parser, the commands in order, signals, and what an error means.

Each command is a module of this package with ``register(sub)``, which adds
its parser and sets ``handler``: the function that runs it. A new command is
one module, added to :data:`COMMANDS`.

Building the parser imports no NumPy, pandas, SciPy, Matplotlib or pydantic
(``--version`` and ``--help`` take a tenth of a second, not seconds): each
command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from sim.cli import breakeven, calibrate, check, psa, report, run, schema, sensitivity, serve, tornado
from sim.cli.common import EXIT_INTERRUPTED, EXIT_TERMINATED, fail
from sim.cli.options import Parser
from sim.errors import EngineNotApplicable, UserError
from sim.version import version

COMMANDS = (run, psa, tornado, sensitivity, breakeven, calibrate, report, check, schema, serve)
"""The commands, in the order ``--help`` lists them (``run`` adds ``run`` and ``compare``)."""


class _Version(argparse._VersionAction):
    """``--version``, looking the version up only when asked (importlib.metadata takes tens of ms)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        self.version = f"trappesim {version()}"
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with every command (also used to document the CLI)."""
    parser = Parser(
        prog="trappesim",
        description="Simulate the indsatstrappe: placements avoided by a preventive strategy, and what it costs.",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs: workers killed, no folder left."""

    signum = signal.SIGTERM
    """The signal, delivered again if it came where Python could not raise it (:mod:`sim.__main__`)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while the command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``trappesim`` command; returns the exit code."""
    args = None
    try:
        with _sigterm_raises():
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as done:  # --help, --version, or a mistake argparse found (one line)
                return int(done.code or 0)
            return _guarded(args)
    except KeyboardInterrupt as err:
        # Ctrl-C or SIGTERM: the workers are gone and half-written folders removed.
        how = "stopped (SIGTERM)" if isinstance(err, Terminated) else "interrupted (Ctrl-C)"
        written = getattr(args, "written", None)
        done = f" after writing {written}/ in full" if written else "; nothing was written"
        print(f"trappesim: {how}{done}.", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(err, Terminated) else EXIT_INTERRUPTED


def _guarded(args: argparse.Namespace) -> int:
    """Run a command, turning the user's mistakes into one line and exit code 2.

    Only :class:`~sim.errors.UserError` is the user's to fix. Any other
    exception is a bug in Trappesim and is left to show its traceback
    (exit code 1), so that it is reported, not taken for a typo.
    """
    from sim.errors import PrecisionWarning
    from sim.scenario.plausibility import PlausibilityWarning

    # The library's plausibility warnings (load_scenario, with_changes, compare) where the commands
    # call it: they print the same findings in their own words (plausible).
    warnings.filterwarnings("ignore", category=PlausibilityWarning, module=r"sim\.cli(\..*)?$")
    # A precision not reached: said under the key figures (legend_not_reached).
    warnings.filterwarnings("ignore", category=PrecisionWarning)
    try:
        return args.handler(args)
    except EngineNotApplicable as err:
        roles = ("scenario", "baseline", "strategy")
        given = [str(getattr(args, r)) for r in roles if getattr(args, r, None) is not None]
        return fail(f"{', '.join(given)}: {err}")
    except UserError as err:
        return fail(str(err))
