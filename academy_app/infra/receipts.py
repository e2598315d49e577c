"""Payment receipts on disk, outside the web root. The type is read from the bytes, not the name."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from academy_app.infra.storage import MAX_UPLOAD_BYTES
from academy_app.settings import get_settings

MAX_RECEIPT_BYTES = MAX_UPLOAD_BYTES
# Magic numbers: what a file really is, whatever its name or the browser's label say.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"%PDF-", "application/pdf", "pdf"),
)


@dataclass(frozen=True)
class ReceiptKind:
    content_type: str
    extension: str


def sniff(data: bytes) -> ReceiptKind | None:
    for signature, content_type, extension in _SIGNATURES:
        if data.startswith(signature):
            return ReceiptKind(content_type, extension)
    return None


def receipts_dir() -> Path:
    folder = get_settings().media_root / "receipts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store(data: bytes, kind: ReceiptKind) -> str:
    """Write the receipt under a random name and return that name."""
    name = f"{secrets.token_hex(16)}.{kind.extension}"
    (receipts_dir() / name).write_bytes(data)
    return name


def path_of(name: str) -> Path | None:
    """The file for a stored name; None for anything that is not one of our plain names."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = receipts_dir() / name
    return path if path.is_file() else None


def remove(name: str) -> None:
    if path := path_of(name):
        path.unlink(missing_ok=True)
