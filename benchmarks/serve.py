"""The what-if page's speed: one lever change at a time, and 50 at once.

    python benchmarks/serve.py

Starts the page on a free port of 127.0.0.1 for the national pair, then
prints the 50th and 95th percentiles of (a) the server's own time per lever
change (its ``Server-Timing`` header), (b) the time a client waits for one
change at a time, (c) the time each of 50 changes to states never seen
before, sent at once, waits, and (d) the same 50 sent again (the page keeps
states it has computed); then, on Linux, the CPU each state of (c) cost the
server's process, its worker processes and the clients (the scheduler's own
counts, all threads). The issue's targets: (a) <= 100 ms at the 95th
percentile, (c) <= 200 ms. The page runs as ``trappesim serve`` runs it: in
a process of its own (the clients here stand for browsers, which are other
processes), with a worker process per core for the figures when there are
several cores.
"""

from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import os
import signal
import socket
import time
import urllib.parse
import urllib.request
from pathlib import Path

import uvicorn

from sim.cli.serve import live_workers
from sim.serve.app import make_app
from sim.serve.library import Library

ROOT = Path(__file__).resolve().parent.parent
PAIR = ("denmark-baseline.toml", "denmark-early-detection.toml")
LIVE = live_workers()  # as `trappesim serve` starts it


def _cpu_ns(pid: int) -> int:
    """CPU time of a process, all its threads, in nanoseconds (Linux: the scheduler's own count)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return total


def _family(pid: int) -> list[int]:
    """The server's process and its worker processes."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return [pid, *children]


def _percentiles(values: list[float]) -> str:
    v = sorted(values)
    return f"p50 {v[len(v) // 2]:6.1f} ms   p95 {v[max(0, int(0.95 * len(v)) - 1)]:6.1f} ms"


def _serve(port: int) -> None:
    """The page on ``port``, until the process is stopped (as `trappesim serve` runs it)."""
    app = make_app(Library(ROOT / "scenarios"), PAIR, live=LIVE)
    gc.freeze()  # as `trappesim serve` does before it serves
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    except KeyboardInterrupt:  # uvicorn stops, then raises the SIGINT it caught again
        pass
    finally:  # the workers too
        app.state.page.close()


def main() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # A process of its own: in this one its event loop would share the interpreter with 50 client threads.
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,))
    server.start()
    url = f"http://127.0.0.1:{port}/whatif"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
            break
        except OSError:
            if time.monotonic() > deadline or not server.is_alive():
                raise SystemExit("the page did not start") from None
            time.sleep(0.2)

    def change(effect: float) -> tuple[float, float]:
        data = urllib.parse.urlencode({"base": PAIR[0], "strategy": PAIR[1], "effect": str(effect)}).encode()
        start = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST")) as r:
            r.read()
            at_server = float(r.headers["Server-Timing"].split("dur=")[1])
        return (time.perf_counter() - start) * 1e3, at_server

    def burst(effects: list[float]) -> list[float]:
        with concurrent.futures.ThreadPoolExecutor(len(effects)) as pool:
            return [c for c, _ in pool.map(change, effects)]

    change(100)  # warm: the baseline's arm is computed once
    one = [change(10 + i) for i in range(100)]  # states never seen before, one at a time
    family = _family(server.pid) if Path("/proc/self/task").is_dir() else []
    cpu = [_cpu_ns(p) for p in family] + [time.process_time_ns()]
    new = burst([50.5 + i for i in range(50)])  # 50 states never seen before, at once
    cpu = [(b - a) / 50 / 1e6 for a, b in zip(cpu, [_cpu_ns(p) for p in family] + [time.process_time_ns()])]
    seen = burst([50.5 + i for i in range(50)])  # the same 50 again: kept by the page
    print(f"what-if page, national pair, lever changes (effect size), {LIVE or 'no'} worker processes:")
    print(f"  at the server, one at a time   {_percentiles([s for _, s in one])}   (target p95 <= 100 ms)")
    print(f"  at the client, one at a time   {_percentiles([c for c, _ in one])}")
    print(f"  at the client, 50 at once      {_percentiles(new)}   (target p95 <= 200 ms)")
    print(f"  the same 50 again, at once     {_percentiles(seen)}   (states the page keeps)")
    if family:
        print(
            f"  CPU per state of the 50 new:   server {cpu[0]:.1f} ms, its workers {sum(cpu[1:-1]):.1f} ms, "
            f"the clients {cpu[-1]:.1f} ms"
        )
    os.kill(server.pid, signal.SIGINT)  # as Ctrl-C stops `trappesim serve`
    server.join(20)


if __name__ == "__main__":
    main()
