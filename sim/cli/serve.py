"""``trappesim serve``: the what-if page, a local web server for the negotiation room."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import EXIT_OK

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
LIVE_WORKERS_MAX = 8
"""Most worker processes for lever moves (one per core up to this): more would only hold memory."""


def live_workers() -> int:
    """Worker processes for the page's lever moves: one per core this process may use, at most
    :data:`LIVE_WORKERS_MAX`; none on one core (the server computes them itself)."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    # Each lever move on a core of its own (a room moves many levers at once); each worker holds
    # the whole model (about 150 MB).
    return min(cores, LIVE_WORKERS_MAX) if cores > 1 else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``serve`` command to the parser."""
    p = sub.add_parser(
        "serve",
        help="open the what-if page: move the levers, see placements avoided, NPV and payback change",
        description=(
            "Start a local web page for a baseline and a strategy: levers for the effect, the programme's "
            "cost and timing, places, discounting, horizon and payer; figures and charts from the expected "
            "engine at every change, the simulation with intervals on request. Without files the page lists "
            "the pairs in the folder."
        ),
    )
    p.add_argument("baseline", type=Path, nargs="?", help="baseline scenario file (TOML)")
    p.add_argument("strategy", type=Path, nargs="?", help="strategy scenario file (TOML) that extends it")
    p.add_argument(
        "--folder",
        type=Path,
        default=None,
        help="the folder whose scenario files the page may read (default: ./scenarios if it exists, else .)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: only this machine; another address warns)",
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    p.add_argument("--no-browser", action="store_true", help="do not open the page in the browser")
    p.add_argument(
        "--workers", type=int, default=None, help="processes for 'Run the simulation' (default: all cores)"
    )
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import socket
    import threading
    import webbrowser

    from sim.errors import OptionError
    from sim.run.experiment import check_pair
    from sim.scenario import load_scenario
    from sim.serve.library import Library

    if (args.baseline is None) != (args.strategy is None):
        raise OptionError(
            "serve takes two files, a baseline and a strategy, or none (the page lists the pairs)"
        )
    folder = args.folder
    if folder is None:
        folder = Path("scenarios") if Path("scenarios").is_dir() else Path(".")
    if not folder.is_dir():
        raise OptionError(f"--folder {folder}: not a folder")
    given = [p for p in (args.baseline, args.strategy) if p is not None]
    pair = None
    if given:
        base, strategy = (load_scenario(p) for p in given)  # a bad file: one line, exit 2, before serving
        check_pair(base, strategy)
        if strategy.intervention is None:
            raise OptionError(f"{args.strategy}: has no [intervention]: the page moves a strategy's levers")
    library = Library(folder, given)
    if given:
        names = {p: n for n, p in library.files().items()}
        pair = (names[args.baseline.resolve()], names[args.strategy.resolve()])
    if args.host not in LOCAL_HOSTS:
        print(
            f"trappesim: serve: warning: listening on {args.host}: anyone who can reach this machine on port "
            f"{args.port} can use the page and read the scenario files it serves",
            file=sys.stderr,
        )
    # Bind first, so that a port in use is one line (exit 2), not a server's traceback.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as err:
        sock.close()
        raise OptionError(
            f"cannot listen on {args.host}:{args.port} ({err.strerror}); choose another --port"
        ) from None
    port = sock.getsockname()[1]
    import gc

    import uvicorn

    from sim.serve.app import make_app

    app = make_app(library, pair, workers=args.workers, live=live_workers())
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
    print(f"trappesim: serve: the what-if page is at {url} (Ctrl-C stops it)", file=sys.stderr)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    if not args.no_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    # What the server holds from now on is not garbage: kept out of the collector's full passes
    # (they would walk all of it in the middle of a burst of moves).
    gc.freeze()
    try:
        server.run(sockets=[sock])
    finally:
        app.state.page.close()
    return EXIT_OK
