"""The ``trappesim`` command: the parser and its commands."""

from sim.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
