"""Where a connected tab's memory goes in a backend worker: what to cut for more learners per worker.

    .venv/bin/python -m bench.tab_memory [--tabs 300] [--oplock] [--no-trace] [--bare] [--first-load]
        [--deflate] [--server granian|uvicorn]

The learning benchmark's academy (bench/learning.py) in a throwaway database, and Academy as one
backend worker on Redis with bench/memprobe on its PYTHONPATH (a thread that reports from inside the
process when asked). Warm-up tabs first (the caches, pools and lazy imports every worker fills once),
then tracemalloc starts in the worker, `--tabs` more learners' tabs log in and hydrate on
/dashboard as in the learning benchmark's capacity phase, and the worker reports once they have
settled and again once they have closed. Printed per tab: resident memory, Python's live
allocations (tracemalloc), glibc's heap, objects by type, and the allocation sites that grew most.
tracemalloc costs memory and time of its own: `--no-trace` for resident memory as production has it
(traced on a busy machine, hydrates can outlast Reflex's 10 s state lock and the tabs fail).
`--bare` measures the bare Reflex app's tabs (bench/bare_push, one state) the same way: the floor
that Reflex, Socket.IO and the server set before any state of Academy's. `--server granian|uvicorn`
picks the server (Academy's default is Uvicorn, rxconfig.py): what the WebSocket server itself
costs per tab. `--deflate`: the tabs offer permessage-deflate, as every browser does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.common import (
    ROOT,
    add_server_option,
    bare_reflex,
    migrate,
    throwaway_database,
    use_server,
    workers_env,
)
from bench.learning import (
    REDIS_ACADEMY,
    REDIS_BARE,
    build_data_set,
    connected,
    in_batches,
    raise_open_file_limit,
    worker_pid,
)
from tests.wsclient import HYDRATE_AND_LOAD, ReflexTab, open_page, wait_for_var

WARM_UP = 50
# Longer than oplock's lease (half of Reflex's 10 s lock expiry): the leased states of the last
# tabs are written back to Redis and dropped before the worker reports.
SETTLE_SECONDS = 8.0
PROBE = ROOT / "bench" / "memprobe"
FRAMES_SHOWN = 10  # of each of the largest allocation sites' tracebacks


class Probe:
    """Asks the worker's memprobe thread for a report and waits for it."""

    def __init__(self, folder: Path, pid: int) -> None:
        self.folder, self.pid = folder, pid

    async def ask(self, name: str, command: str = "report") -> dict:
        (self.folder / f"{name}.request").write_text(command)
        done, error = (self.folder / f"{self.pid}-{name}.{ext}" for ext in ("done", "error"))
        deadline = time.monotonic() + 600
        while not done.exists():
            if error.exists():
                raise RuntimeError(f"the probe failed: {error.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker did not answer {name}")
            await asyncio.sleep(0.5)
        return json.loads((self.folder / f"{self.pid}-{name}.json").read_text())

    def snapshot(self, name: str) -> tracemalloc.Snapshot | None:
        path = self.folder / f"{self.pid}-{name}.snap"
        if not path.exists():
            return None
        return tracemalloc.Snapshot.load(str(path)).filter_traces(
            [tracemalloc.Filter(False, str(PROBE / "*")), tracemalloc.Filter(False, tracemalloc.__file__)])


async def first_load_hashes() -> list[str]:
    """What a browser's first hydrate of a page carries: the hashes of the state snapshot the
    frontend was compiled with, so the server sends only the vars that differ from it (the
    benchmark clients and every reconnect send none, and get the whole snapshot)."""
    from reflex.state import State, _resolve_delta, state_snapshot_hashes
    from reflex.utils.prerequisites import get_and_validate_app

    get_and_validate_app()  # every page's state registered, as in the server
    return state_snapshot_hashes(
        await _resolve_delta(State(_reflex_internal_init=True).dict(initial=True)))


async def on_dashboard(url: str, sessions: list[str], largest: list[int] | None = None,
                       hashes: list[str] | None = None, deflate: bool = False) -> list[ReflexTab]:
    """A logged-in learner's tab per login session, hydrated on /dashboard; with no sessions'
    names (the bare app), as many visitors' tabs hydrated on its one page. `largest` gets the
    length of the largest message each tab received (its JSON): the server's WebSocket keeps a
    write buffer that large for as long as the tab stays."""
    from academy_app.state.dashboard import DashboardState

    async def one(login_token: str) -> ReflexTab:
        if not login_token:
            tab = ReflexTab(url, deflate=deflate)
            await tab.connect()
            replies = await tab.open("/")
        else:
            tab = ReflexTab(url, login_token=login_token, deflate=deflate)
            await tab.connect()
            if hashes:
                tab.path = "/dashboard"
                replies = await tab.send(HYDRATE_AND_LOAD, {"vars": {}, "hashes": hashes})
                key = DashboardState.get_full_name()
                await wait_for_var(tab, replies, lambda message: (message.get("delta") or {})
                                   .get(key, {}).get("loading_rx_state_") is False)
            else:
                replies = await open_page(tab, "/dashboard", DashboardState)
            if not ReflexTab.var(replies, "user_name"):
                raise RuntimeError("the dashboard did not know the learner")
        if largest is not None:
            largest.append(max(len(json.dumps(message)) for message in replies))
        return tab

    return connected(await in_batches(sessions, one, batch=50), "tabs")


def kib(value: float) -> str:
    return f"{value / 1024:7.1f} KiB"


def show(before: dict, after: dict, tabs: int, title: str) -> None:
    print(f"\n{title}, per tab ({tabs} tabs):")
    print(f"  resident memory       {kib((after['rss_kib'] - before['rss_kib']) * 1024 / tabs)}")
    if after["traced"]:
        print(f"  traced (Python, live) {kib((after['traced'] - before['traced']) / tabs)}")
    for key in ("heap", "in_use", "free", "mmapped"):
        if key in after["malloc"]:
            print(f"  glibc {key:<15} {kib((after['malloc'][key] - before['malloc'][key]) / tabs)}")
    print(f"  pymalloc blocks       {(after['pymalloc_blocks'] - before['pymalloc_blocks']) / tabs:9.1f}")
    grown = sorted(((count - before["objects"].get(kind, 0)) / tabs, kind)
                   for kind, count in after["objects"].items())
    print("  objects by type (gc-tracked), per tab:")
    for per_tab, kind in reversed(grown[-30:]):
        if per_tab >= 0.5:
            print(f"    {per_tab:8.1f}  {kind}")


def show_sites(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, tabs: int) -> None:
    print("\nAllocation sites that grew most, per tab (tracemalloc, live at the end):")
    for stat in after.compare_to(before, "lineno")[:40]:
        frame = stat.traceback[0]
        print(f"  {kib(stat.size_diff / tabs)} {stat.count_diff / tabs:7.1f} blocks  "
              f"{frame.filename.removeprefix(str(ROOT) + '/')}:{frame.lineno}")
    print("\nThe largest by whole traceback, per tab:")
    for stat in after.compare_to(before, "traceback")[:12]:
        print(f"\n  {kib(stat.size_diff / tabs)} {stat.count_diff / tabs:7.1f} blocks")
        for line in stat.traceback.format(limit=FRAMES_SHOWN, most_recent_first=True):
            print(f"    {line}")


async def measure(url: str, folder: Path, sessions: list[str], tabs: int, trace: bool,
                  first_load: bool, deflate: bool) -> None:
    hashes = await first_load_hashes() if first_load else None
    warm = await on_dashboard(url, sessions[:WARM_UP], hashes=hashes, deflate=deflate)
    probe = Probe(folder, worker_pid(url))
    await asyncio.sleep(SETTLE_SECONDS)
    await probe.ask("warm", "trim")  # what the warm-up left free is not the tabs'
    base = await probe.ask("base", "start" if trace else "report")
    began = time.perf_counter()
    largest: list[int] = []
    held = await on_dashboard(url, sessions[WARM_UP:WARM_UP + tabs], largest, hashes, deflate)
    print(f"{len(held)} tabs hydrated in {time.perf_counter() - began:.1f} s; the largest message "
          f"each received: {kib(sum(largest) / len(largest)).strip()} on average", flush=True)
    await asyncio.sleep(SETTLE_SECONDS)
    after = await probe.ask("held")
    trimmed = await probe.ask("held-trimmed", "trim")
    await in_batches(held, ReflexTab.close, batch=100)
    await asyncio.sleep(SETTLE_SECONDS)
    closed = await probe.ask("closed")
    await in_batches(warm, ReflexTab.close, batch=100)
    show(base, after, tabs, "While held")
    print(f"  resident memory once glibc's free memory is given back (malloc_trim): "
          f"{kib((trimmed['rss_kib'] - base['rss_kib']) * 1024 / tabs).strip()}")
    show(base, closed, tabs, "Left behind after they closed")
    if trace and (first := probe.snapshot("base")) and (held_snap := probe.snapshot("held")):
        show_sites(first, held_snap, tabs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tabs", type=int, default=300)
    parser.add_argument("--oplock", action="store_true", help="REFLEX_OPLOCK_ENABLED, as production")
    parser.add_argument("--no-trace", action="store_true",
                        help="no tracemalloc: resident memory as production has it")
    parser.add_argument("--bare", action="store_true",
                        help="the bare Reflex app's tabs instead of Academy's: the framework's floor")
    parser.add_argument("--first-load", action="store_true",
                        help="hydrate as a browser's first load of a page does (with the compiled "
                             "snapshot's hashes), not as a reconnect or the benchmarks' clients")
    parser.add_argument("--deflate", action="store_true",
                        help="the tabs offer permessage-deflate, as browsers do (the benchmarks' "
                             "clients do not): a server that accepts it keeps a zlib stream each")
    add_server_option(parser)
    args = parser.parse_args()
    use_server(args.server)
    from tests.appserver import running_app

    raise_open_file_limit()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "probe"
        folder.mkdir()
        probed = {"PYTHONPATH": os.pathsep.join(filter(None, [str(PROBE),
                                                               os.environ.get("PYTHONPATH")])),
                  "ACADEMY_MEMPROBE_DIR": str(folder), **workers_env(1),
                  "REFLEX_OPLOCK_ENABLED": "true" if args.oplock else "false"}
        if args.bare:
            os.environ.update(probed)  # the bare app's server inherits this process's environment
            with bare_reflex(Path(tmp), REDIS_BARE) as url:
                asyncio.run(measure(url, folder, [""] * (WARM_UP + args.tabs), args.tabs,
                                    not args.no_trace, first_load=False, deflate=args.deflate))
            return
        with throwaway_database() as database_url:
            migrate(database_url)
            data = build_data_set(database_url, capacity_sessions=WARM_UP + args.tabs,
                                  seats_wanted=1)
            with running_app(Path(tmp), redis_url=REDIS_ACADEMY, backend_only=True,
                             database_url=database_url, extra_env=probed) as app:
                asyncio.run(measure(app.url, folder, data.sessions, args.tabs,
                                    not args.no_trace, args.first_load, args.deflate))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
