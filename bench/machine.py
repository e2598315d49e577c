"""Whether a benchmark's numbers can be trusted: what the machine did besides the run.

Every benchmark wraps each phase in `Monitor.phase(name)`. Around it this module reads /proc: the
load average, the machine's CPU time (/proc/stat) and every process's CPU time (/proc/<pid>/stat),
a short window before the phase and the phase itself, and sorts the CPU each process used into:

- run: the benchmark's own process tree (this process, the servers it started: `reflex run`, its
  server's workers, the clients), and the PostgreSQL backends serving a database this run created
  (`throwaway_database` registers it; a backend's process title names its database);
- shared services: processes the run uses but that serve everyone, so their CPU cannot be split by
  user: Redis (one process for all its clients) and PostgreSQL's own processes (postmaster,
  checkpointer, WAL writer…). Shown apart, never counted as "others": a busy Redis shows as a
  slower run, not here;
- kernel threads (children of kthreadd: softirq work of the run's loopback traffic lands there);
- others: everything else, e.g. another user's test run and its PostgreSQL backends. Counted as
  the machine's user + system time (irq, softirq and steal left out) minus the three above, so
  processes that started and ended between two readings are in it too; by command name for the
  processes seen, the rest as "(came and went)".

`--update-docs` refuses (`Monitor.refusal`) when others used more than `OTHERS_LIMIT` of a core in
any phase, naming the phase and the biggest users. Reading /proc takes a few milliseconds, only at
the edges of a phase, so it never falls inside a measurement. Linux only, like the machine the
numbers come from.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

OTHERS_LIMIT = 0.3  # cores others may use in a phase before its numbers are not to be quoted
BEFORE_SECONDS = 2.0  # the window read just before a phase
# A phase is read over at least this long: in a 30 ms phase one clock tick of anyone else's CPU
# would read as a third of a core and refuse a quiet machine.
MIN_PHASE_SECONDS = 1.0
TICKS = os.sysconf("SC_CLK_TCK")
# Processes that serve every user of the machine, the run included.
SHARED_SERVICES = frozenset({"redis-server", "postgres"})
# A PostgreSQL client backend's title names its peer: "127.0.0.1(5432)", "[::1](5432)" or "[local]".
_CLIENT_BACKEND = re.compile(r"\(\d+\)|\[local\]")
# The databases the runs in this process created: their backends are part of the run.
RUN_DATABASES: set[str] = set()


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    comm: str
    title: str  # the command line as the process shows it (PostgreSQL writes its state there)
    ticks: int  # user + system CPU time, in clock ticks
    reaped: int = 0  # the CPU time of its children that ended and it waited for (cutime + cstime)


@dataclass(frozen=True)
class Snapshot:
    at: float  # time.monotonic()
    load: float  # 1-minute load average
    busy: int  # the machine's user + nice + system ticks, all cores
    processes: dict[tuple[int, int], Proc]  # by (pid, start time): a reused pid is another process


def _read(path: str) -> str:
    with open(path, "rb") as file:
        return file.read().decode(errors="replace")


def read_processes() -> dict[tuple[int, int], Proc]:
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = _read(f"/proc/{name}/stat")
            title = _read(f"/proc/{name}/cmdline").replace("\0", " ").strip()
        except OSError:  # ended meanwhile
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        # after the name: state ppid … utime(12th) stime(13th) cutime cstime … starttime(20th)
        pid = int(name)
        found[(pid, int(fields[19]))] = Proc(pid, int(fields[1]), comm, title,
                                             int(fields[11]) + int(fields[12]),
                                             int(fields[13]) + int(fields[14]))
    return found


def snapshot() -> Snapshot:
    load = float(_read("/proc/loadavg").split()[0])
    fields = [int(value) for value in _read("/proc/stat").splitlines()[0].split()[1:]]
    return Snapshot(time.monotonic(), load, fields[0] + fields[1] + fields[2], read_processes())


def _postgres_database(proc: Proc) -> str | None:
    """The database a PostgreSQL client backend serves ('' for one we cannot tell), or None when
    the process is not a client backend (the postmaster, the checkpointer…)."""
    if proc.comm != "postgres" or not _CLIENT_BACKEND.search(proc.title):
        return None
    # "postgres: 15/main: USER DATABASE HOST(PORT) STATE", the cluster part being optional
    words = proc.title.split(": ")[-1].split()
    return words[1] if len(words) > 1 else ""


def classify(processes: dict[tuple[int, int], Proc], roots: Iterable[int],
             databases: Iterable[str], services: Iterable[str]) -> dict[tuple[int, int], str]:
    """'run', 'shared', 'kernel' or 'others' for each process (see the module's doc)."""
    parent = {proc.pid: proc.ppid for proc in processes.values()}
    roots, databases, services = set(roots), set(databases), set(services)

    def in_tree(pid: int) -> bool:
        seen = set()
        while pid > 1 and pid not in seen:
            if pid in roots:
                return True
            seen.add(pid)
            pid = parent.get(pid, 0)
        return False

    kinds = {}
    for key, proc in processes.items():
        database = _postgres_database(proc)
        if in_tree(proc.pid) or (database is not None and database in databases):
            kinds[key] = "run"
        elif proc.pid == 2 or proc.ppid == 2:
            kinds[key] = "kernel"
        elif proc.comm in services and database is None:
            kinds[key] = "shared"
        else:
            kinds[key] = "others"
    return kinds


@dataclass(frozen=True)
class Usage:
    """What the machine did between two snapshots; CPU in seconds (divide by `seconds` for cores)."""

    seconds: float
    load: float  # 1-minute load average at the end
    run: float
    shared: float
    kernel: float
    others: float
    offenders: dict[str, float] = field(default_factory=dict)  # others' CPU by command name

    def cores(self, seconds_of_cpu: float) -> float:
        return seconds_of_cpu / self.seconds if self.seconds > 0 else 0.0

    @property
    def others_cores(self) -> float:
        return self.cores(self.others)

    def top(self, count: int = 3) -> str:
        ranked = sorted(self.offenders.items(), key=lambda item: -item[1])[:count]
        return ", ".join(f"{name} {self.cores(used):.2f}" for name, used in ranked
                         if self.cores(used) >= 0.005)  # what would print as 0.00 says nothing

    def line(self) -> str:
        top = self.top()
        return (f"load {self.load:.2f}; cores used by the run {self.cores(self.run):.2f}, shared "
                f"services {self.cores(self.shared):.2f}, kernel threads "
                f"{self.cores(self.kernel):.2f}, others {self.others_cores:.2f}"
                + (f" ({top})" if top else ""))


def usage(before: Snapshot, after: Snapshot, roots: Iterable[int], databases: Iterable[str],
          services: Iterable[str]) -> Usage:
    """Sort the CPU used between two snapshots. A process seen only in `after` started in between:
    all its time counts. One that ended in between is not seen at all: when a run process waited
    for it, its time is in that parent's `reaped` and so the run's; otherwise it is in the
    machine's total and so in "others", the only group that is counted by difference."""
    kinds = classify(after.processes, roots, databases, services)
    used: Counter[str] = Counter()
    offenders: Counter[str] = Counter()
    for key, proc in after.processes.items():
        earlier = before.processes.get(key)
        ticks = proc.ticks - (earlier.ticks if earlier else 0)
        if kinds[key] == "run":
            # Children a run process started and waited for within the phase (Lighthouse's
            # Chromium, a client process) are the run's, though never seen in a snapshot.
            ticks += proc.reaped - (earlier.reaped if earlier else 0)
        used[kinds[key]] += ticks
        if kinds[key] == "others":
            offenders[proc.comm] += ticks
    # A run process that ended in between was waited for by its parent, whose `reaped` now holds
    # its whole life: take away what it had used before the phase.
    earlier_kinds = classify(before.processes, roots, databases, services)
    for key, proc in before.processes.items():
        if key not in after.processes and earlier_kinds[key] == "run":
            used["run"] -= proc.ticks + proc.reaped
    others = max(after.busy - before.busy - used["run"] - used["shared"] - used["kernel"],
                 used["others"])
    if others > used["others"]:
        offenders["(came and went)"] += others - used["others"]
    return Usage(seconds=after.at - before.at, load=after.load, run=used["run"] / TICKS,
                 shared=used["shared"] / TICKS, kernel=used["kernel"] / TICKS,
                 others=others / TICKS,
                 offenders={name: ticks / TICKS for name, ticks in offenders.items()})


@dataclass(frozen=True)
class Phase:
    name: str
    before: Usage
    during: Usage


class Monitor:
    """The machine's state around each phase of one benchmark run."""

    def __init__(self, roots: Iterable[int] | None = None,
                 services: Iterable[str] = SHARED_SERVICES,
                 before_seconds: float = BEFORE_SECONDS,
                 min_phase_seconds: float = MIN_PHASE_SECONDS) -> None:
        self.roots = set(roots) if roots is not None else {os.getpid()}
        self.services = frozenset(services)
        self.before_seconds = before_seconds
        self.min_phase_seconds = min_phase_seconds
        self.phases: list[Phase] = []

    def _usage(self, before: Snapshot, after: Snapshot) -> Usage:
        return usage(before, after, self.roots, RUN_DATABASES, self.services)

    def _record(self, name: str, first: Snapshot, start: Snapshot, end: Snapshot) -> None:
        self.phases.append(Phase(name, self._usage(first, start), self._usage(start, end)))

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Read the machine for a short window before the phase, then over the phase."""
        first = snapshot()
        time.sleep(self.before_seconds)
        start = snapshot()
        yield
        time.sleep(self._rest_of_window(start))
        self._record(name, first, start, snapshot())

    @asynccontextmanager
    async def async_phase(self, name: str) -> AsyncIterator[None]:
        """`phase` for a run whose clients keep working meanwhile: the event loop is never held
        (the snapshots are read in a thread)."""
        first = await asyncio.to_thread(snapshot)
        await asyncio.sleep(self.before_seconds)
        start = await asyncio.to_thread(snapshot)
        yield
        await asyncio.sleep(self._rest_of_window(start))
        self._record(name, first, start, await asyncio.to_thread(snapshot))

    def _rest_of_window(self, start: Snapshot) -> float:
        """How much longer to read the machine so a short phase is read over the minimum window."""
        return max(0.0, start.at + self.min_phase_seconds - time.monotonic())

    def refusal(self) -> str | None:
        """Why the numbers must not go into the docs, or None."""
        busy = [phase for phase in self.phases
                if max(phase.before.others_cores, phase.during.others_cores) > OTHERS_LIMIT]
        if not busy:
            return None
        lines = [f"refusing to update the docs: other processes used more than {OTHERS_LIMIT} "
                 f"of a core in {len(busy)} of {len(self.phases)} phases; re-run on a quiet "
                 "machine."]
        for phase in busy:
            worst = max(phase.before, phase.during, key=lambda u: u.others_cores)
            lines.append(f"  {phase.name}: others {worst.others_cores:.2f} cores "
                         f"({worst.top(5) or 'not seen by name'})")
        return "\n".join(lines)

    def report(self) -> str:
        """The lines printed (and written) under a benchmark's table."""
        if not self.phases:
            return ""
        lines = [f"Machine state ({os.cpu_count()} CPUs; CPU in cores; others = processes not "
                 f"part of this run, limit {OTHERS_LIMIT} for the docs):", ""]
        for phase in self.phases:
            lines.append(f"- {phase.name}: before: {phase.before.line()}; during "
                         f"({phase.during.seconds:.0f} s): {phase.during.line()}")
        return "\n".join(lines)
