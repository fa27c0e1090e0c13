"""Where the work runs: this process, local worker processes, or a Dask cluster.

:func:`map_tasks` runs a list of tasks and returns their results in task
order, wherever they ran. Local workers never outlive the program that
started them:

- each worker asks the kernel to kill it when its parent dies (Linux
  ``prctl(PR_SET_PDEATHSIG)``), and on every system a thread in the worker
  exits it when its parent is gone, so ``kill -9`` of the program leaves no
  worker behind;
- when the program is interrupted (Ctrl-C, or SIGTERM turned into an
  exception by the command line), the workers are killed at once instead of
  finishing the replications they are running.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, TimeoutError
from contextlib import contextmanager
from typing import Any

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from sim.errors import OptionError

Workers = Any
"""Where the work runs: ``1`` (this process), ``n`` local processes, ``None``
(all cores), :class:`LocalWorkers` (local processes kept for several runs), a
Dask scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``."""

PARENT_CHECK_SECONDS = 0.5
"""How often a worker looks for its parent, where the kernel cannot be asked to tell it."""

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from <malloc.h>
_HELD = {signal.SIGINT, signal.SIGTERM}


def resolve_workers(workers: int | LocalWorkers | None, n_tasks: int) -> int:
    """The number of local processes to use.

    Parameters
    ----------
    workers : int, None or LocalWorkers
        Processes asked for; ``None`` means all cores; kept workers, as many as they are.
    n_tasks : int
        Tasks to run: never more processes than tasks (kept workers are already there).

    Raises
    ------
    ValueError
        ``workers`` below 1.
    """
    if isinstance(workers, LocalWorkers):
        return workers.n
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 1:
        raise OptionError("workers must be at least 1")
    return min(workers, n_tasks)


Progress = Any
"""Progress of a run: ``True`` for a bar on the terminal (never in pipes or logs), ``False`` for
none, or a callable ``report(done, total)`` called after each task (a web page's progress; it may
raise to stop the run, which then ends as on Ctrl-C)."""


def progress_bar(total: int, progress: Progress) -> tqdm | _Reporting:
    """A progress bar only for a person watching: silent in pipes, logs and CI.

    With a callable ``progress``, the bar also tells it each task done.
    """
    bar = tqdm(
        total=total,
        disable=not (progress is True and sys.stderr.isatty()),
        file=sys.stderr,
        unit="run",
        leave=False,
    )
    return _Reporting(bar, progress, total) if callable(progress) else bar


class _Reporting:
    """A progress bar that also calls ``report(done, total)`` after each task."""

    def __init__(self, bar: tqdm, report: Callable[[int, int], None], total: int) -> None:
        self.bar, self.report, self.total, self.done = bar, report, total, 0

    def __enter__(self) -> _Reporting:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)

    def update(self) -> None:
        self.bar.update()
        self.done += 1
        self.report(self.done, self.total)

    def poll(self) -> None:
        """Tell the callable again (while a task runs): it may raise to stop the run."""
        self.report(self.done, self.total)


def is_dask(workers: Workers) -> bool:
    """Whether ``workers`` names a Dask cluster (an address or a ``distributed.Client``)."""
    return isinstance(workers, str) or (hasattr(workers, "map") and hasattr(workers, "gather"))


def map_tasks(
    fn: Callable[[Any], Any], tasks: Sequence[Any], workers: Workers = 1, progress: Progress = False
) -> list:
    """Run ``fn`` on every task; the results come back in task order.

    Parameters
    ----------
    fn : callable
        A module-level function (it is sent to other processes by pickling).
    tasks : sequence
        One argument of ``fn`` per task.
    workers : int, None, LocalWorkers, str or distributed.Client
        See :data:`Workers`.
    progress : bool or callable
        Show a progress bar on the terminal (never in pipes or logs), or
        call ``progress(done, total)`` after each task (:data:`Progress`).

    Returns
    -------
    list
        ``[fn(t) for t in tasks]``.

    Notes
    -----
    An exception in the caller while the workers run (``KeyboardInterrupt``
    from Ctrl-C, say) kills the workers at once and is raised again: no
    replication is waited for.
    """
    if is_dask(workers):
        return _dask_map(fn, tasks, workers, progress)
    n = resolve_workers(workers, len(tasks))
    with progress_bar(len(tasks), progress) as bar:
        if n <= 1:
            # One process, one thread: the engines' matrices are small, and BLAS
            # threads only fight other work for the cores (measured: a 40-draw
            # PSA took 6.8 s instead of 1.2 s beside another busy process).
            out = []
            with threadpool_limits(1):
                for t in tasks:
                    out.append(fn(t))
                    bar.update()
            return out
        # Tasks go out in chunks: one process round trip per chunk, not per task.
        chunk = max(1, len(tasks) // (8 * n))
        kept = workers if isinstance(workers, LocalWorkers) else None
        pool = kept._started() if kept is not None else _start_pool(n)
        try:
            out = []
            if callable(progress):
                # Asked again every quarter second while a task runs, so that a run the
                # caller cancels (its callable raises) stops at once, not after the task.
                for future in [pool.submit(fn, t) for t in tasks]:
                    while True:
                        try:
                            out.append(future.result(timeout=0.25))
                            break
                        except TimeoutError:
                            bar.poll()
                    bar.update()
            else:
                for r in pool.map(fn, tasks, chunksize=chunk):
                    out.append(r)
                    bar.update()
        except BaseException:
            # Ctrl-C, SIGTERM or a failure: the running replications are thrown
            # away; waiting for them is what made Ctrl-C take minutes.
            _kill(pool)
            if kept is not None:
                kept._pool = None  # started again on next use
            raise
        if kept is None:
            pool.shutdown()
        return out


def _start_pool(n: int) -> ProcessPoolExecutor:
    """``n`` local worker processes, every one started before this returns."""
    context = multiprocessing.get_context()
    # Under fork and spawn a worker's parent is this process; under forkserver
    # (Python 3.14's default on Linux) the fork server stands between them.
    direct = context.get_start_method() in ("fork", "spawn")
    pool = ProcessPoolExecutor(
        max_workers=n, mp_context=context, initializer=start_worker, initargs=(os.getpid(), direct)
    )
    try:
        with _signals_held():
            for _ in range(n):  # a task each starts every worker now, while Ctrl-C is held
                pool.submit(int)
    except BaseException:
        _kill(pool)
        raise
    return pool


class LocalWorkers:
    """Worker processes on this machine, started once and kept for several runs.

    With ``workers=n`` each run (a :func:`~sim.compare`, a
    :func:`~sim.psa`, a batch of replications) starts ``n`` processes and
    ends them when it is done, and each new process pays again for its first
    memory: measured, 0.2-0.3 s a process for a national DES draw of about
    1.6 s, when two start at once. Kept workers pay it once:

    >>> with sim.LocalWorkers(2) as workers:  # doctest: +SKIP
    ...     draws = sim.psa(base, plan, engine="des", draws=100, workers=workers)
    ...     cmp = sim.compare(base, plan, workers=workers)

    The numbers are the same as on any other number of workers. The
    processes start at the first run and end with the block (or at
    :meth:`close`), on Ctrl-C or any failure in a run (the next run starts
    new ones), and with the program. They are copies of this process as it
    was when they started: code changed since (a notebook's autoreload) does
    not reach them before the next block. One run at a time: a failure in
    one run ends the processes another would be using.

    Parameters
    ----------
    n : int or None
        Processes; ``None`` means all cores.
    """

    def __init__(self, n: int | None = None) -> None:
        self.n = resolve_workers(n, n_tasks=1 << 30)  # never fewer than asked: runs to come are unknown
        self._pool: ProcessPoolExecutor | None = None

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None or getattr(self._pool, "_broken", False):
            if self._pool is not None:  # a worker died (killed from outside): start them all again
                _kill(self._pool)
            self._pool = _start_pool(self.n)
        return self._pool

    def close(self) -> None:
        """End the processes (a run on them is over by then: a run returns when its tasks are done)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()

    def __enter__(self) -> LocalWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalWorkers({self.n}, {'running' if self._pool is not None else 'not started'})"


@contextmanager
def kept_for(workers: Workers, most_tasks: int) -> Iterator[Workers]:
    """``workers`` for several runs in a row: local processes asked for by number start once
    for all of them (:class:`LocalWorkers`, never more than ``most_tasks``); this process,
    kept workers and Dask clusters are used as they are."""
    n = 1 if is_dask(workers) or isinstance(workers, LocalWorkers) else resolve_workers(workers, most_tasks)
    if n <= 1:
        yield workers
        return
    with LocalWorkers(n) as kept:
        yield kept


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while workers are being started.

    A worker is born with the signal mask of the thread that starts it, so it
    cannot be interrupted before :func:`start_worker` ignores Ctrl-C (it would
    print a traceback of its own). The parent gets a held signal the moment
    the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _kill(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's worker processes now and drop the tasks that have not started."""
    # _processes and _executor_manager_thread are private, but the only handle on
    # the workers: the public shutdown() waits for every running task to end.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    for p in processes:
        try:
            p.kill()
        except (OSError, ValueError, AttributeError):  # already gone, or never started
            pass
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:
        # It notices the dead workers, reaps them and ends; never wait long for it.
        manager.join(timeout=1.0)


def start_worker(parent: int, direct: bool = True) -> None:
    """Set up a local worker process (a pool's initializer; the what-if page's workers too).

    Parameters
    ----------
    parent, direct
        The process id of the program that starts the worker, and whether it
        is the worker's parent (not when a fork server stands between them).
    """
    # Ctrl-C is the parent's to handle: workers would each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the command line's SIGTERM handler; being killed
    # by the parent must simply end it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    # Each worker is one core's work: BLAS threads on top of the processes
    # fight over the cores (measured: 2 workers slower than 1 on the PSA).
    threadpool_limits(1)
    die_with_parent(parent, direct=direct)


def keep_freed_memory(mapped_from: int = 4 << 20, kept: int = 16 << 20) -> bool:
    """Have the C library keep freed memory for reuse instead of returning it to the system (glibc).

    By default glibc gives arrays from about 128 kB up their own pages and
    hands freed memory at the heap's top back at once, so a process that
    makes and drops the same few arrays again and again (the analytic
    engine, a state of the what-if page after another) faults in fresh,
    zeroed pages for each: measured, 1.5-2 ms of a 10 ms state. With these
    thresholds arrays below ``mapped_from`` bytes come from the heap and up
    to ``kept`` bytes of free memory stay with the process.

    Returns
    -------
    bool
        Whether the C library took the settings (False off glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - a C library without mallopt
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, mapped_from)) and bool(mallopt(_M_TRIM_THRESHOLD, kept))


def die_with_parent(parent: int = 0, ask_kernel: bool = True, direct: bool = True) -> None:
    """End this process when its parent dies, however the parent dies.

    On Linux the kernel sends SIGKILL when the parent ends
    (``PR_SET_PDEATHSIG``); everywhere, a daemon thread checks every
    :data:`PARENT_CHECK_SECONDS` that the parent is still there.

    Parameters
    ----------
    parent : int
        The process id of the program this process works for (0: only watch
        the parent). If it is the parent (``direct``) but no longer is by
        now, it died before the kernel could be asked, and this process
        exits at once.
    ask_kernel : bool
        Ask the kernel too, where it can be asked (Linux); ``False`` leaves
        only the watching thread, as on other systems.
    direct : bool
        Whether ``parent`` is this process's parent. Not under a fork
        server, which outlives the program as long as its workers hold the
        program's end of a pipe; then the thread watches the program itself.
    """
    if ask_kernel and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(
                _PR_SET_PDEATHSIG,
                ctypes.c_ulong(signal.SIGKILL),
                ctypes.c_ulong(0),
                ctypes.c_ulong(0),
                ctypes.c_ulong(0),
            )
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl: the thread still watches
            pass
    ppid = os.getppid()
    if parent and direct and ppid != parent:
        # Orphaned before prctl ran (the kernel only signals deaths that come after).
        os._exit(1)
    program = parent if parent and not direct else 0
    threading.Thread(
        target=_watch_parent, args=(ppid, program), daemon=True, name="trappesim-parent-watch"
    ).start()


def _watch_parent(ppid: int, program: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != ppid or (program and not _running(program)):  # re-parented, or the program ended
            os._exit(1)


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not). POSIX only: ``os.kill(pid, 0)`` ends a process on Windows."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):  # no /proc (macOS): it answered the signal
        return True


def _dask_map(
    fn: Callable[[Any], Any], tasks: Sequence[Any], workers: Any, progress: Progress = False
) -> list:
    """Run tasks on a Dask cluster; results come back in task order."""
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the install
        raise OptionError(
            "a Dask scheduler needs the 'distributed' extra: pip install 'trappesim[distributed]'"
        ) from None
    client = Client(workers) if isinstance(workers, str) else workers
    futures = []
    try:
        # pure=False: tasks that look alike are still separate replications.
        futures = client.map(fn, tasks, pure=False)
        with progress_bar(len(tasks), progress) as bar:
            for _ in as_completed(futures):
                bar.update()
        return client.gather(futures)
    except BaseException:
        # Ctrl-C or a failure: the cluster's workers stop what they run for us.
        if futures:
            client.cancel(futures)
        raise
    finally:
        if isinstance(workers, str):
            client.close()
