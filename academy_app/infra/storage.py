"""Files the app writes for later: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# The largest file anyone may upload (a receipt, a course cover); api/upload_size.py caps the
# request body just above it, before Reflex reads any of it.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a private temporary file, flush it to disk, then rename: a reader, or a second
    writer of the same file (a task run twice), never sees half a file, and a crash right after
    the caller commits "file ready" cannot leave an empty one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                           suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(partial, 0o644)  # mkstemp makes it 0600; the web process may run as another user
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
