"""The what-if page's speed: one lever change at a time, and 50 at once.

    python benchmarks/serve.py

Starts the page on a free port of 127.0.0.1 for the national pair, then
prints the 50th and 95th percentiles of (a) the server's own time per lever
change (its ``Server-Timing`` header), (b) the time a client waits for one
change at a time, and (c) the time each of 50 changes sent at once waits.
The issue's targets: (a) <= 100 ms at the 95th percentile, (c) <= 200 ms.
"""

from __future__ import annotations

import concurrent.futures
import socket
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import uvicorn

from sim.serve.app import make_app
from sim.serve.library import Library

ROOT = Path(__file__).resolve().parent.parent
PAIR = ("denmark-baseline.toml", "denmark-early-detection.toml")


def _percentiles(values: list[float]) -> str:
    v = sorted(values)
    return f"p50 {v[len(v) // 2]:6.1f} ms   p95 {v[max(0, int(0.95 * len(v)) - 1)]:6.1f} ms"


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(make_app(Library(ROOT / "scenarios"), PAIR), log_level="warning", lifespan="off")
    )
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/whatif"

    def change(effect: int) -> tuple[float, float]:
        data = urllib.parse.urlencode({"base": PAIR[0], "strategy": PAIR[1], "effect": str(effect)}).encode()
        start = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST")) as r:
            r.read()
            at_server = float(r.headers["Server-Timing"].split("dur=")[1])
        return (time.perf_counter() - start) * 1e3, at_server

    change(100)  # warm: the baseline's arm is computed once
    one = [change(10 + i) for i in range(100)]
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        burst = list(pool.map(change, range(50, 100)))
    print("what-if page, national pair, lever changes (effect size):")
    print(f"  at the server, one at a time   {_percentiles([s for _, s in one])}   (target p95 <= 100 ms)")
    print(f"  at the client, one at a time   {_percentiles([c for c, _ in one])}")
    print(f"  at the client, 50 at once      {_percentiles([c for c, _ in burst])}   (target p95 <= 200 ms)")
    server.should_exit = True


if __name__ == "__main__":
    main()
