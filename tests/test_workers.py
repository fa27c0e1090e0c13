"""Worker processes: results in order, no orphans when the parent dies, Ctrl-C and SIGTERM stop at once.

The process tests run the real command on a scenario whose replications take
several seconds each, and stop it while its two workers are busy. Every wait
is bounded, and every process started is killed at the end, whatever happens.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import tomli_w
from conftest import INTERVENTION, gone, kill_all, toy_dict, wait_until

from sim.run.workers import LocalWorkers, map_tasks, resolve_workers

try:
    import psutil
except ImportError:  # pragma: no cover - psutil comes with the test tools, /proc is the fallback
    psutil = None

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="process checks read /proc or use POSIX signals"
)


def children(pid: int) -> set[int]:
    """Process ids of the children (and their children) of ``pid``."""
    if psutil is not None:
        try:
            return {c.pid for c in psutil.Process(pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()
    found: set[int] = set()
    parents = {pid}
    while parents:  # breadth first, through /proc/<pid>/status
        kids = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    status = (entry / "status").read_text()
                except OSError:
                    continue
                ppid = int(next(x for x in status.splitlines() if x.startswith("PPid:")).split()[1])
                if ppid in parents:
                    kids.add(int(entry.name))
        found |= kids
        parents = kids
    return found


# ---------------------------------------------------------------------------
# map_tasks in this process
# ---------------------------------------------------------------------------


def _square(x: int) -> int:
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_task_order(workers):
    assert map_tasks(_square, list(range(40)), workers) == [x * x for x in range(40)]


def test_resolve_workers():
    assert resolve_workers(4, 3) == 3  # never more processes than tasks
    assert resolve_workers(None, 1000) == (os.cpu_count() or 1)
    with pytest.raises(ValueError, match="at least 1"):
        resolve_workers(0, 5)


def _pid_of_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def _fail_on_3(x: int) -> int:
    if x == 3:
        raise RuntimeError("task 3 failed")
    return x


def test_kept_workers_run_several_maps_on_the_same_processes_and_end_with_the_block():
    with LocalWorkers(2) as workers:
        assert resolve_workers(workers, 1) == 2  # already there: not fewer for fewer tasks
        first = map_tasks(_pid_of_square, list(range(20)), workers)
        second = map_tasks(_pid_of_square, list(range(20)), workers)
        assert [r for _, r in first] == [r for _, r in second] == [x * x for x in range(20)]
        pids = set(workers._pool._processes)
        assert {p for p, _ in first + second} <= pids and len(pids) == 2
        assert os.getpid() not in pids
    assert wait_until(lambda: all(gone(p) for p in pids), timeout=10) is not None
    assert workers._pool is None


def test_a_failed_map_ends_the_kept_workers_and_the_next_starts_new_ones():
    with LocalWorkers(2) as workers:
        map_tasks(_square, [1, 2], workers)
        old = set(workers._pool._processes)
        with pytest.raises(RuntimeError, match="task 3 failed"):
            map_tasks(_fail_on_3, list(range(8)), workers)
        assert wait_until(lambda: all(gone(p) for p in old), timeout=5) is not None
        assert map_tasks(_square, list(range(8)), workers) == [x * x for x in range(8)]
        assert not set(workers._pool._processes) & old


def test_kept_workers_killed_from_outside_are_started_again():
    with LocalWorkers(2) as workers:
        map_tasks(_square, [1, 2], workers)
        old = set(workers._pool._processes)
        for p in old:
            os.kill(p, signal.SIGKILL)
        # The pool notices its dead workers; the next map starts two new ones.
        assert wait_until(lambda: workers._pool._broken, timeout=10) is not None
        assert map_tasks(_square, list(range(8)), workers) == [x * x for x in range(8)]
        assert not set(workers._pool._processes) & old


def test_the_same_numbers_on_kept_workers(toy):
    import sim

    plan = sim.Scenario.from_dict({**toy_dict(), "intervention": INTERVENTION})
    one = sim.compare(toy, plan, replications=3, seed=4, workers=1)
    with sim.LocalWorkers(2) as workers:
        kept = [sim.compare(toy, plan, replications=3, seed=4, workers=workers) for _ in range(2)]
    assert all(k.summary.equals(one.summary) for k in kept)


class _Stop(Exception):
    """Raised by a signal handler in the middle of map_tasks, as Ctrl-C would be."""


def _raise_stop(signum, frame):
    raise _Stop


def test_an_interrupted_map_kills_its_workers_at_once():
    """The workers sleep 30 s each; interrupted after 1 s, none of them is waited for."""
    before = children(os.getpid())
    seen: set[int] = set()
    sent: list[float] = []

    def interrupt() -> None:
        wait_until(lambda: len(children(os.getpid()) - before) >= 2, timeout=20)
        time.sleep(0.3)  # both workers are sleeping in their task now
        seen.update(children(os.getpid()) - before)
        sent.append(time.monotonic())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, _raise_stop)
    timer = threading.Thread(target=interrupt, daemon=True)
    try:
        timer.start()
        with pytest.raises(_Stop):
            map_tasks(time.sleep, [30] * 4, workers=2)
        stopped = time.monotonic() - sent[0]
        assert len(seen) == 2
        assert stopped < 2.0, f"map_tasks took {stopped:.1f} s to stop"
        assert wait_until(lambda: all(gone(p) for p in seen), timeout=2) is not None
    finally:
        timer.join(timeout=25)
        signal.signal(signal.SIGUSR1, previous)
        kill_all(seen)


# ---------------------------------------------------------------------------
# A worker whose parent dies
# ---------------------------------------------------------------------------

ORPHAN_SCRIPT = """
import os, sys, time
parent = os.getpid()
child = os.fork()
if child == 0:
    from sim.run.workers import die_with_parent
    die_with_parent(parent, ask_kernel=False)
    print("ready", os.getpid(), flush=True)
    time.sleep(60)
    os._exit(0)
time.sleep(60)
"""


def test_a_worker_notices_its_parent_died_without_the_kernel_telling_it():
    """The portable fallback (a thread watching the parent), as on systems without prctl."""
    proc = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    worker = None
    try:
        line = proc.stdout.readline()  # the script's child says it is ready
        assert line.startswith("ready"), line
        worker = int(line.split()[1])
        assert not gone(worker)
        proc.kill()
        proc.wait(timeout=10)
        assert wait_until(lambda: gone(worker), timeout=5) is not None, "the worker outlived its parent"
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if worker:
            kill_all({worker})


def test_a_worker_born_an_orphan_exits_at_once():
    """The parent died before the worker could ask to die with it: the worker leaves at once."""
    code = "import os\nfrom sim.run.workers import die_with_parent\ndie_with_parent({parent})\nprint('still here')"
    orphan = subprocess.run(
        [sys.executable, "-c", code.format(parent="os.getpid()")], capture_output=True, text=True, timeout=60
    )
    assert orphan.returncode == 1 and "still here" not in orphan.stdout
    child = subprocess.run(
        [sys.executable, "-c", code.format(parent="os.getppid()")], capture_output=True, text=True, timeout=60
    )
    assert child.returncode == 0 and "still here" in child.stdout


POOL_SCRIPT = """
import multiprocessing, os, sys, time
from sim.run.workers import map_tasks

if __name__ == "__main__":
    multiprocessing.set_start_method(sys.argv[1], force=True)
    map_tasks(time.sleep, [60] * 4, 2)
"""


@pytest.mark.parametrize(("method", "helpers"), [("spawn", 1), ("forkserver", 2)])
def test_workers_started_otherwise_than_by_fork_die_with_the_program(tmp_path, method, helpers):
    """Spawned workers, and those of a fork server (Python 3.14's default on Linux), which
    stands between them and the program and lives as long as they do."""
    script = tmp_path / "pool.py"
    script.write_text(POOL_SCRIPT, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), method], cwd=tmp_path, start_new_session=True)
    found: set[int] = set()
    try:
        # The resource tracker (and the fork server), then two workers.
        assert wait_until(lambda: len(children(proc.pid)) >= helpers + 2, timeout=60) is not None
        time.sleep(1.0)  # the workers are set up and sleeping in their tasks
        found = children(proc.pid)
        proc.kill()
        proc.wait(timeout=10)
        assert wait_until(lambda: all(gone(p) for p in found), timeout=5) is not None, [
            p for p in found if not gone(p)
        ]
    finally:
        stop(proc, found)


# ---------------------------------------------------------------------------
# The command, stopped while its workers are busy
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_pair(tmp_path_factory) -> tuple[Path, Path]:
    """A baseline and strategy whose replications take seconds each (30,000 new cases a year)."""
    folder = tmp_path_factory.mktemp("slow")
    d = toy_dict(horizon_years=20)
    d["population"]["children"] = 1_000_000
    d["population"]["entries_per_year"] = 30_000
    base, plan = folder / "base.toml", folder / "plan.toml"
    base.write_text(tomli_w.dumps(d), encoding="utf-8")
    plan.write_text(
        tomli_w.dumps({"extends": "base.toml", "name": "plan", "intervention": INTERVENTION}),
        encoding="utf-8",
    )
    return base, plan


def start_compare(slow_pair, out: Path) -> tuple[subprocess.Popen, set[int]]:
    """``python -m sim compare`` with 2 workers, returned once both workers are busy."""
    base, plan = slow_pair
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "compare", base, plan, "-r", "4", "-w", "2", "--out", out],
        cwd=out.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so the test can always clean up
    )
    found = wait_until(lambda: len(children(proc.pid)) >= 2, timeout=90)
    workers = children(proc.pid)
    if found is None:
        stop(proc, workers)
        pytest.fail(f"the workers did not start: {proc.communicate(timeout=10)}")
    time.sleep(0.5)  # into their first replication
    return proc, workers


def stop(proc: subprocess.Popen, workers: set[int]) -> None:
    """Kill whatever is left of a process and its workers."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    kill_all(workers)
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass


def test_kill_9_of_the_command_leaves_no_worker_running(slow_pair, tmp_path):
    out = tmp_path / "results"
    proc, workers = start_compare(slow_pair, out)
    try:
        assert len(workers) == 2 and not any(gone(w) for w in workers)
        proc.kill()  # SIGKILL: no clean-up can run in the parent
        proc.wait(timeout=10)
        took = wait_until(lambda: all(gone(w) for w in workers), timeout=5)
        assert took is not None, (
            f"workers still running 5 s after kill -9: {[w for w in workers if not gone(w)]}"
        )
    finally:
        stop(proc, workers)


@pytest.mark.parametrize(
    ("sig", "code", "words"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "SIGTERM")]
)
def test_ctrl_c_or_sigterm_stops_within_2_seconds_and_leaves_nothing(slow_pair, tmp_path, sig, code, words):
    out = tmp_path / "results"
    proc, workers = start_compare(slow_pair, out)
    try:
        sent = time.monotonic()
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("still running 10 s after the signal")
        took = time.monotonic() - sent
        assert proc.returncode == code, err
        assert took < 2.0, f"took {took:.1f} s to stop"
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert words in last and "nothing was written" in last
        assert wait_until(lambda: all(gone(w) for w in workers), timeout=2) is not None
        assert not out.exists() and list(tmp_path.iterdir()) == []  # no folder, no hidden .partial-*
    finally:
        stop(proc, workers)


FAULTS_SCRIPT = """
import resource, sys
import numpy as np
from sim.run.workers import keep_freed_memory

kept = keep_freed_memory() if sys.argv[1] == "kept" else None


def tables():  # arrays of 1 MB, made and dropped together, as the engine makes and drops its tables
    made = [np.ones(1 << 17) for _ in range(4)]
    return sum(a.sum() for a in made)


tables()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):
    tables()
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc settings")
def test_kept_freed_memory_is_reused_not_faulted_in_again():
    """The page's workers keep freed memory: an array made and dropped again needs no fresh pages."""
    run = {
        how: subprocess.run(
            [sys.executable, "-c", FAULTS_SCRIPT, how], capture_output=True, text=True, timeout=60, check=True
        ).stdout.split()
        for how in ("kept", "default")
    }
    assert run["kept"][0] == "True"
    # By default the freed arrays go back to the system and come back as fresh pages (about 1,000
    # a round); kept, the heap's pages serve again.
    assert int(run["default"][1]) > 100 * 200
    assert int(run["kept"][1]) < 100 * 10
