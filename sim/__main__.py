"""``python -m sim`` is the ``trappesim`` command; :func:`main` is its entry point.

This module imports nothing heavy itself: the command line and the libraries
under it (NumPy, pandas, SciPy, Matplotlib: seconds) are imported inside
:func:`main`, where Ctrl-C during start-up ends the program with one line
instead of a traceback.
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import time

INTERRUPTED, TERMINATED, PIPE_CLOSED = 130, 143, 141
"""Exit codes after Ctrl-C, SIGTERM and a closed pipe (128 + the signal's number), as shells report them."""
BUG = 1
"""Exit code of a bug (a user's mistake is 2: :mod:`sim.cli.main`)."""
WORKER_LOST = 3
"""Exit code when the machine stopped a worker process (killed from outside, out of memory)."""


_interrupted = False
"""Whether Ctrl-C came: inside a library's import it can surface as another error (NumPy: ImportError)."""


_deferring = False
"""Whether :func:`_unraisable` is running: an interruption raised there would be lost again."""


def _on_sigint(signum: int, frame: object) -> None:
    global _interrupted
    _interrupted = True
    if _deferring:  # a second Ctrl-C while the first is being passed on: that one will do
        return
    raise KeyboardInterrupt


def _unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """``sys.unraisablehook``: Ctrl-C that came where Python cannot raise it is passed on, not lost.

    Python runs some code where an exception cannot propagate (a weakref
    callback, such as the import system's, or ``__del__``); Ctrl-C arriving
    there would be printed as "Exception ignored in ..." with a traceback, and
    the command would go on. Instead the signal is delivered again once this
    hook has returned: the handler then raises where the program can act on it,
    and the command stops as after any Ctrl-C. Other unraisable exceptions go
    to the hook that was there before.
    """
    global _deferring
    if not issubclass(unraisable.exc_type, KeyboardInterrupt):
        _previous_unraisablehook(unraisable)
        return
    signum = getattr(unraisable.exc_type, "signum", signal.SIGINT)  # SIGTERM: sim.cli.main.Terminated
    _deferring = True
    try:
        # Not signal.raise_signal here: its handler would run at once, inside
        # this hook, and Python would report the hook's failure instead.
        _thread.start_new_thread(_deliver, (signum,))
    finally:
        _deferring = False  # no call after this: the signal is handled after the hook returns


def _deliver(signum: int) -> None:
    """In a thread of its own: deliver ``signum`` to the main thread once :func:`_unraisable` has returned."""
    while _deferring:
        time.sleep(0.001)
    _thread.interrupt_main(signum)


_previous_unraisablehook = sys.unraisablehook


def main() -> int:
    """Run the ``trappesim`` command; returns its exit code.

    After Ctrl-C or SIGTERM the process ends at once: the command has killed
    its workers and removed what it had half written, and taking the
    libraries down in order would only add a second or more.
    """
    global _previous_unraisablehook
    signal.signal(signal.SIGINT, _on_sigint)
    _previous_unraisablehook, sys.unraisablehook = sys.unraisablehook, _unraisable
    try:
        try:
            from sim.cli import main as cli

            code = cli()
        finally:
            # Only leaving is left to do: a second Ctrl-C now ends the program
            # quietly (the shell reports 130) instead of printing a traceback.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            sys.unraisablehook = _previous_unraisablehook
    except KeyboardInterrupt:
        print("trappesim: interrupted", file=sys.stderr)
        code = INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``trappesim ... | head``): not an error of ours to
        # report. Python would complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = PIPE_CLOSED
    except Exception as err:
        from concurrent.futures.process import BrokenProcessPool  # not at start-up: --version stays quick

        if _interrupted:
            print("trappesim: interrupted", file=sys.stderr)
            code = INTERRUPTED
        elif isinstance(err, BrokenProcessPool):
            # Not a bug: something outside stopped a worker (kill, the out-of-memory killer). The
            # results folder is written only when all is done, so nothing half-written is left.
            print(
                "trappesim: a worker process stopped before it finished (stopped from outside, or the "
                "machine ran out of memory); nothing was written. Run again, with fewer --workers if "
                "memory is short",
                file=sys.stderr,
            )
            code = WORKER_LOST
        else:
            code = _bug()
    if code in (INTERRUPTED, TERMINATED):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _bug() -> int:
    """Not a mistake of the user's (those are one line and exit 2): a bug. Show where it is, and say
    so, so that it is reported rather than worked around."""
    import traceback

    traceback.print_exc()
    print(
        "trappesim: this is a bug in Trappesim, not a mistake in your files or options; "
        "please report it with the lines above",
        file=sys.stderr,
    )
    return BUG


if __name__ == "__main__":
    sys.exit(main())
