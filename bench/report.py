"""Writing a benchmark's table into docs/benchmarks.md, between its own markers, with the machine's
state under it; refused when the machine was not quiet (bench/machine.py)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from bench.machine import Monitor

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def refuse_if_busy(monitor: Monitor) -> None:
    """Stop (exit status 1, saying why and by whom) when others used too much of the machine:
    the table was printed, but it does not go into the docs."""
    refusal = monitor.refusal()
    if refusal:
        raise SystemExit(refusal)


def replace_block(path: Path, start: str, end: str, block: str) -> None:
    """Replace the text between the `start` and `end` markers (kept) in `path`."""
    text = path.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    path.write_text(pattern.sub(lambda _: f"{start}\n{block}\n{end}", text))


def update_docs(name: str, text: str, monitor: Monitor) -> None:
    """Replace the block between `<!-- name:start -->` and `<!-- name:end -->` (or append one) with
    the table and the machine's state; nothing is written when the machine was busy."""
    refuse_if_busy(monitor)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = (f"Measured {time.strftime('%Y-%m-%d')} with "
             f"`.venv/bin/python -m bench.{name} --update-docs` ({os.cpu_count()} CPUs):\n\n"
             f"{text}\n\n{monitor.report()}")
    current = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if start not in current:
        DOCS.write_text(current.rstrip() + f"\n\n## {name}\n\n{start}\n{end}\n")
    replace_block(DOCS, start, end, block)
    print(f"\nwritten to {DOCS.relative_to(DOCS.parent.parent)}")


def publish(name: str, text: str, monitor: Monitor, *, write: bool) -> None:
    """Print a benchmark's table with the machine's state under it; with `write`, into the docs
    too (refused on a busy machine)."""
    print(f"\n{text}\n\n{monitor.report()}")
    if write:
        update_docs(name, text, monitor)
