"""The ``trappesim`` command: the parser (:mod:`~sim.cli.main`), shared options and one module per command."""

from sim.cli.main import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]
