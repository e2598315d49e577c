"""Run a command so that the CPU of every process it starts counts as the run's.

`python -m bench.reaper COMMAND...` runs COMMAND as a Linux child subreaper: a process that its
command's descendants leave behind when their parent exits is handed to this one rather than to
the machine's init. Chromium does that: when Lighthouse closes the browser, its renderer, GPU and
crash-reporter processes are orphaned and init reaps them, so their time was never in anyone's
children's time, and bench/machine.py counted it as another process's ("came and went", a third
of a core on every Lighthouse phase of a quiet machine). Here, once COMMAND ends, what it left is
stopped and waited for, so its whole tree's time is this process's children's time, which the
benchmark that waits for this process counts as its run. Exits with COMMAND's status.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
GRACE_SECONDS = 2.0  # for what is left to exit on SIGTERM before SIGKILL


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def children() -> list[int]:
    """The processes whose parent is this one now (orphans handed over included)."""
    me, found = os.getpid(), []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                # "pid (comm) state ppid ...": comm may hold spaces and parentheses
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[1]) == me:
            found.append(int(entry.name))
    return found


def reap_left_behind() -> None:
    """Stop what the command left running and wait for all of it."""
    for pid in children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # none left
            return
        if pid:
            continue
        if time.monotonic() > deadline:
            for left in children():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(left, signal.SIGKILL)
        time.sleep(0.05)


def main(command: list[str]) -> int:
    if not command:
        raise SystemExit("usage: python -m bench.reaper COMMAND [ARG...]")
    become_subreaper()
    status = subprocess.call(command)
    reap_left_behind()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
