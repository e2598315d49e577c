"""bench/machine.py: whose CPU a benchmark's machine-state report counts as "others"."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from bench import machine
from bench.machine import Monitor, Proc, Snapshot, classify, usage

# A process that names itself (so /proc shows the name) and keeps one core busy until killed.
SPIN = ("import sys\nopen('/proc/self/comm', 'w').write(sys.argv[1])\nwhile True:\n    pass\n")
# The run: a process that starts a busy child of its own, then waits.
RUN = ("import subprocess, sys, time\n"
       f"subprocess.Popen([sys.executable, '-c', {SPIN!r}, 'bench-runchild'])\n"
       "open('/proc/self/comm', 'w').write('bench-runroot')\n"
       "time.sleep(600)\n")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.args[-1] == "bench-runroot":  # its busy child first, found through /proc
            for proc in machine.read_processes().values():
                if proc.ppid == process.pid:
                    subprocess.run(["kill", "-9", str(proc.pid)], check=False)
        process.kill()
        process.wait()


def cpu_of(name: str) -> float:
    """CPU seconds the processes called `name` have used so far."""
    return sum(proc.ticks for proc in machine.read_processes().values()
               if proc.comm == name) / machine.TICKS


def test_a_busy_process_outside_the_run_is_counted_and_the_runs_children_are_not(
        processes: list[subprocess.Popen]) -> None:
    processes.append(subprocess.Popen([sys.executable, "-c", RUN, "bench-runroot"]))
    processes.append(subprocess.Popen([sys.executable, "-c", SPIN, "bench-spinner"]))
    time.sleep(0.5)  # both have named themselves and the run's child is spinning
    monitor = Monitor(roots=[processes[0].pid], before_seconds=0.2)
    with monitor.phase("spinning"):
        # Until both spinners got 0.3 s of CPU: on a busy shared machine that takes a while.
        started = {name: cpu_of(name) for name in ("bench-spinner", "bench-runchild")}
        deadline = time.monotonic() + 60
        while (min(cpu_of(name) - used for name, used in started.items()) < 0.3
               and time.monotonic() < deadline):
            time.sleep(0.1)
    during = monitor.phases[0].during
    assert during.offenders.get("bench-spinner", 0) >= 0.3
    assert "bench-runchild" not in during.offenders
    assert "bench-runroot" not in during.offenders
    assert during.run >= 0.3  # the run's busy child
    assert during.others >= during.offenders["bench-spinner"]
    assert "bench-spinner" in during.top(len(during.offenders))
    assert monitor.refusal() is not None  # named there only if among the biggest right now


def proc(pid: int, ppid: int, comm: str, ticks: int, title: str = "") -> Proc:
    return Proc(pid, ppid, comm, title or comm, ticks)


def snap(at: float, busy: int, *procs: Proc) -> Snapshot:
    return Snapshot(at, 1.0, busy, {(p.pid, 1): p for p in procs})


PG_OURS = "postgres: 15/main: postgres academy_bench_1 127.0.0.1(40100) idle"
PG_THEIRS = "postgres: 15/main: postgres academy_test_9 127.0.0.1(40200) SELECT"


def test_each_process_is_sorted_by_what_it_serves() -> None:
    procs = {(p.pid, 1): p for p in [
        proc(100, 1, "python", 0), proc(101, 100, "reflex", 0), proc(102, 101, "granian", 0),
        proc(200, 1, "pytest", 0), proc(201, 200, "python", 0),
        proc(300, 1, "postgres", 0, "/usr/lib/postgresql/15/bin/postgres -D /x"),
        proc(301, 300, "postgres", 0, "postgres: 15/main: checkpointer"),
        proc(302, 300, "postgres", 0, PG_OURS), proc(303, 300, "postgres", 0, PG_THEIRS),
        proc(400, 1, "redis-server", 0), proc(2, 0, "kthreadd", 0),
        proc(500, 2, "ksoftirqd/0", 0)]}
    kinds = classify(procs, roots=[100], databases=["academy_bench_1"],
                     services=machine.SHARED_SERVICES)
    by_pid = {key[0]: kind for key, kind in kinds.items()}
    assert by_pid == {100: "run", 101: "run", 102: "run", 200: "others", 201: "others",
                      300: "shared", 301: "shared", 302: "run", 303: "others", 400: "shared",
                      2: "kernel", 500: "kernel"}
    # A benchmark without servers of its own counts Redis and PostgreSQL as anyone else.
    alone = classify(procs, roots=[100], databases=[], services=())
    assert {key[0]: kind for key, kind in alone.items() if kind == "others"}.keys() == {
        200, 201, 300, 301, 302, 303, 400}


def test_cpu_of_processes_that_came_and_went_is_counted_as_others() -> None:
    tick = machine.TICKS
    before = snap(0.0, 1000, proc(100, 1, "python", 50), proc(200, 1, "pytest", 10))
    # In 2 s: the run used 1 s, pytest 0.5 s, a new "celery" 0.2 s, and 0.3 s went to processes
    # no snapshot saw.
    after = snap(2.0, 1000 + 2 * tick, proc(100, 1, "python", 50 + tick),
                 proc(200, 1, "pytest", 10 + tick // 2), proc(300, 1, "celery", tick // 5))
    used = usage(before, after, roots=[100], databases=[], services=())
    assert used.run == pytest.approx(1.0)
    assert used.others == pytest.approx(1.0, abs=0.02)
    assert used.offenders["pytest"] == pytest.approx(0.5, abs=0.02)
    assert used.offenders["celery"] == pytest.approx(0.2, abs=0.02)
    assert used.offenders["(came and went)"] == pytest.approx(0.3, abs=0.03)
    assert used.others_cores == pytest.approx(0.5, abs=0.01)


def test_children_the_run_started_and_waited_for_are_the_runs() -> None:
    """Lighthouse starts a Chromium per page and waits for it: never seen in a snapshot, its CPU
    is in its parent's `reaped`, not "others"."""
    tick = machine.TICKS
    node_before = Proc(101, 100, "node", "node", 20, reaped=5)
    chromium_before = Proc(102, 101, "chromium", "chromium", 30)
    before = snap(0.0, 1000, proc(100, 1, "python", 50), node_before, chromium_before)
    # In 2 s: a Chromium that started and ended used 1 s; the one alive before used 0.5 s more
    # and ended too; node itself 0.25 s. Both Chromiums were waited for by node.
    reaped = node_before.reaped + tick + (30 + tick // 2)
    after = snap(2.0, 1000 + tick + tick // 2 + tick // 4, proc(100, 1, "python", 50),
                 Proc(101, 100, "node", "node", 20 + tick // 4, reaped=reaped))
    used = usage(before, after, roots=[100], databases=[], services=())
    assert used.run == pytest.approx(1.75, abs=0.02)
    assert used.others == pytest.approx(0.0, abs=0.02)
    assert "(came and went)" not in used.offenders


def test_a_real_child_that_came_and_went_is_the_runs() -> None:
    monitor = Monitor(before_seconds=0.1)
    with monitor.phase("child"):
        subprocess.run([sys.executable, "-c", "sum(range(30_000_000))"], check=True)
    assert monitor.phases[0].during.run >= 0.3  # the child's second of CPU is the run's


def test_a_quiet_machine_is_not_refused() -> None:
    quiet = usage(snap(0.0, 0, proc(100, 1, "python", 0)),
                  snap(10.0, 1, proc(100, 1, "python", 1)), roots=[100], databases=[],
                  services=())
    monitor = Monitor(roots=[100])
    monitor.phases.append(machine.Phase("quiet", quiet, quiet))
    assert monitor.refusal() is None


def test_a_busy_machine_is_refused_naming_the_phase_and_who() -> None:
    tick = machine.TICKS
    busy = usage(snap(0.0, 0, proc(200, 1, "pytest", 0)),
                 snap(2.0, tick, proc(200, 1, "pytest", tick)), roots=[100], databases=[],
                 services=())
    monitor = Monitor(roots=[100])
    monitor.phases.append(machine.Phase("200 learners", busy, busy))
    refusal = monitor.refusal()
    assert refusal is not None
    assert "200 learners: others 0.50 cores (pytest 0.50)" in refusal


def test_a_short_phase_is_read_over_the_minimum_window() -> None:
    # A phase of a few milliseconds would otherwise turn one tick of a passing process into a
    # third of a core.
    monitor = Monitor(before_seconds=0.0, min_phase_seconds=0.3)
    with monitor.phase("instant"):
        pass
    assert monitor.phases[0].during.seconds >= 0.3


# A parent that starts a child burning half a second of CPU and, once the child has ended (its
# output closed), exits without waiting for it, as Chromium's browser leaves its helpers: the
# child is orphaned, its time not yet in anyone's children's time.
LEAVES_A_CHILD = (
    "import os, sys\n"
    "burn = 'import time\\nend = time.process_time() + 0.5\\nwhile time.process_time() < end: pass'\n"
    "done, out = os.pipe()\n"
    "os.posix_spawn(sys.executable, [sys.executable, '-c', burn], os.environ,\n"
    "               file_actions=[(os.POSIX_SPAWN_DUP2, out, 1)])\n"
    "os.close(out)\n"
    "os.read(done, 1)  # b'' once the child has ended; it is never waited for\n"
)


def children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


@pytest.mark.parametrize(("through_reaper", "counted"), [(False, False), (True, True)])
def test_what_a_command_leaves_behind_is_the_runs_cpu_only_through_the_reaper(
        through_reaper: bool, counted: bool) -> None:
    # Without bench/reaper.py the orphan is init's to reap and its time is nobody's child time:
    # the monitor then counted Lighthouse's Chromium as another process's ("came and went").
    command = [sys.executable, "-c", LEAVES_A_CHILD]
    if through_reaper:
        command = [sys.executable, "-m", "bench.reaper", *command]
    before = children_cpu()
    subprocess.run(command, check=True)
    assert (children_cpu() - before >= 0.45) is counted


def test_the_reaper_exits_with_its_commands_status() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.reaper", "sh", "-c", "exit 3"], check=False)
    assert run.returncode == 3
