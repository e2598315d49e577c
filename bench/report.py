"""Writing a benchmark's table into docs/benchmarks.md, between its own markers."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def update_docs(name: str, text: str) -> None:
    """Replace the block between `<!-- name:start -->` and `<!-- name:end -->` (or append one)."""
    block = (f"<!-- {name}:start -->\nMeasured {time.strftime('%Y-%m-%d')} with "
             f"`.venv/bin/python -m bench.{name} --update-docs` ({os.cpu_count()} CPUs):\n\n"
             f"{text}\n<!-- {name}:end -->")
    current = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
    DOCS.write_text(pattern.sub(lambda _: block, current) if pattern.search(current)
                    else current.rstrip() + f"\n\n## {name}\n\n" + block + "\n")
    print(f"\nwritten to {DOCS.relative_to(DOCS.parent.parent)}")
