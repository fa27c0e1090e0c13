"""Simulation runs in the background: started by the page, followed, cancelled.

A run is :func:`sim.compare` with the discrete-event engine, in a thread of
the server, its replications on the machine's worker processes. Progress
comes from ``compare``'s ``progress`` callback, which also stops a cancelled
run: it raises :class:`Cancelled`, and the workers are killed as on Ctrl-C.
At most :data:`MAX_RUNNING` runs go at once; finished runs are kept for the
page to show (the newest :data:`KEEP`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.errors import UserError

MAX_RUNNING = 1
"""Simulations at once: each uses every core, so a second would only slow the first."""

KEEP = 20
"""Finished runs kept for the page."""


class Cancelled(Exception):
    """Raised inside a run's progress callback when the page cancels it."""


class Busy(UserError):
    """A simulation is already running."""


@dataclass
class Job:
    """One background simulation."""

    id: str
    key: tuple
    """What it simulates (the page's state): a finished run is shown only beside the same state."""
    state: str = "running"  # running, done, cancelled, failed
    done: int = 0
    planned: int = 0
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    result: Any = None
    error: str = ""
    cancel_asked: threading.Event = field(default_factory=threading.Event)

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def report(self, done: int, planned: int) -> None:
        """``compare``'s progress callback: count, or stop if cancelled."""
        if self.cancel_asked.is_set():
            raise Cancelled
        self.done, self.planned = done, planned


class Jobs:
    """The server's background simulations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._ids = itertools.count(1)

    def start(self, key: tuple, run: Callable[[Callable[[int, int], None]], Any]) -> Job:
        """Start ``run(progress)`` in a thread; :class:`Busy` if the most simulations are running."""
        with self._lock:
            if sum(j.state == "running" for j in self._jobs.values()) >= MAX_RUNNING:
                raise Busy("a simulation is already running: wait for it, or cancel it")
            job = Job(f"run{next(self._ids)}", key)
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].state == "running":
                    break
                self._jobs.pop(oldest)
        threading.Thread(target=self._run, args=(job, run), daemon=True, name=job.id).start()
        return job

    def _run(self, job: Job, run: Callable[[Callable[[int, int], None]], Any]) -> None:
        try:
            job.result = run(job.report)
            job.state = "done"
        except Cancelled:
            job.state = "cancelled"
        except UserError as err:
            job.state, job.error = "failed", str(err)
        except BaseException as err:  # a bug: the page says so, the server goes on
            job.state, job.error = "failed", f"{type(err).__name__}: {err}"
        finally:
            job.ended = time.monotonic()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def latest(self, key: tuple) -> Job | None:
        """The newest run of a state, if one is kept."""
        with self._lock:
            found = [j for j in self._jobs.values() if j.key == key]
        return found[-1] if found else None

    def running(self) -> list[Job]:
        """The runs still going."""
        with self._lock:
            return [j for j in self._jobs.values() if j.state == "running"]

    def cancel(self, job_id: str) -> Job | None:
        """Ask a run to stop; it stops after the replication it is waiting for."""
        job = self.get(job_id)
        if job is not None and job.state == "running":
            job.cancel_asked.set()
        return job

    def cancel_all(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel_asked.set()
