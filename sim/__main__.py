"""``python -m sim`` is the ``trappesim`` command; :func:`main` is its entry point.

This module imports nothing heavy itself: the command line and the libraries
under it (NumPy, pandas, SciPy, Matplotlib: seconds) are imported inside
:func:`main`, where Ctrl-C during start-up ends the program with one line
instead of a traceback.
"""

import signal
import sys

INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""


def main() -> int:
    """Run the ``trappesim`` command; returns its exit code."""
    try:
        try:
            from sim.cli import main as cli

            return cli()
        finally:
            # Only leaving is left to do: a second Ctrl-C now ends the program
            # quietly (the shell reports 130) instead of printing a traceback.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
    except KeyboardInterrupt:
        print("trappesim: interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
