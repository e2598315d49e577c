"""A look inside a running server process for bench/tab_memory.py, which puts this folder on the
app's PYTHONPATH (Python imports `sitecustomize` at start-up in every process, the server's workers
included) and names a folder in ACADEMY_MEMPROBE_DIR.

A thread watches that folder. For each `<name>.request` file that appears, each process answers
once, in `<pid>-<name>.json`: its resident memory, glibc's heap (mallinfo2), what tracemalloc traces,
and its objects counted by type after a full collection; then `<pid>-<name>.done`. A request that
says `start` starts tracemalloc first, one that says `trim` gives glibc's free memory back to the
system first (malloc_trim); once tracing, each answer also writes the snapshot to
`<pid>-<name>.snap`. Nothing here runs unless ACADEMY_MEMPROBE_DIR is set.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

FRAMES = 12  # of each allocation's traceback: enough to reach past Reflex's helpers


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _malloc() -> dict[str, int]:
    """glibc's view of the C heap: bytes in use and free but kept, outside of Python's own
    arenas' content (which are in use from glibc's side)."""
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    mallinfo2.restype = _Mallinfo2
    info = mallinfo2()
    return {"heap": info.arena, "mmapped": info.hblkhd, "in_use": info.uordblks,
            "free": info.fordblks}


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _answer(folder: Path, name: str, command: str) -> None:
    if command == "start" and not tracemalloc.is_tracing():
        tracemalloc.start(FRAMES)
    gc.collect()
    if command == "trim":  # what of the resident memory is glibc's free memory, given back
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    counts = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}"
                                 for o in gc.get_objects())
    traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
    pid = os.getpid()
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(str(folder / f"{pid}-{name}.snap"))
    (folder / f"{pid}-{name}.json").write_text(json.dumps({
        "rss_kib": _rss_kib(), "malloc": _malloc(), "traced": traced,
        "objects": dict(counts), "pymalloc_blocks": sys.getallocatedblocks()}))
    (folder / f"{pid}-{name}.done").write_text("")


def _watch(folder: Path) -> None:
    answered: set[str] = set()
    while True:
        for request in sorted(folder.glob("*.request"), key=lambda path: path.stat().st_mtime):
            name = request.name.removesuffix(".request")
            if name not in answered:
                answered.add(name)
                try:
                    _answer(folder, name, request.read_text().strip())
                except Exception as exc:  # the probe must never take the server down
                    (folder / f"{os.getpid()}-{name}.error").write_text(repr(exc))
        time.sleep(0.2)


def _start() -> None:
    if folder := os.environ.get("ACADEMY_MEMPROBE_DIR"):
        threading.Thread(target=_watch, args=(Path(folder),), daemon=True,
                         name="memprobe").start()


_start()
# A worker forked from a probed process has lost the thread: start one of its own.
os.register_at_fork(after_in_child=_start)
