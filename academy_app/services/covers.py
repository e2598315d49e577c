"""Course covers: the picture an instructor uploads, checked, redrawn at two sizes and kept for good.

A cover is drawn at 16:9 in two sizes (the course page and link previews; the cards) as WebP files
named by a key taken from the uploaded bytes: a file at an address never changes, so browsers and
proxies keep it for a year (api/files.py). The files are written before the course row names them
and the row is changed in the caller's transaction: until it commits, everyone still sees the old
cover, and a refused or failed upload changes nothing. Old files stay on disk (another course may
have uploaded the same picture; they are small).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from academy_app.infra import images, storage
from academy_app.models import Course, User, utcnow
from academy_app.services import audit
from academy_app.services.authoring import course_for_editing
from academy_app.services.errors import Invalid
from academy_app.settings import get_settings

MAX_BYTES = storage.MAX_UPLOAD_BYTES
# Part of every key: a change to how covers are drawn must give new addresses, never new bytes
# at an old one that browsers keep for a year.
DRAWING = "cover-v1"
_NAME = re.compile(r"[0-9a-f]{32}-[0-9]+x[0-9]+\.webp")


@dataclass(frozen=True)
class CoverSize:
    width: int
    height: int


PAGE = CoverSize(1200, 675)  # the course page and og:image (the size link previews ask for)
CARD = CoverSize(480, 270)  # course cards: sharp at their widest, 400 px
SIZES = (PAGE, CARD)


def cover_url(key: str, size: CoverSize) -> str:
    """The address of a cover's file at one size ("" for no cover)."""
    return f"/covers/{key}-{size.width}x{size.height}.webp" if key else ""


def file_for(name: str) -> Path | None:
    """A stored cover file by its name; None for anything that is not one."""
    if not _NAME.fullmatch(name or ""):
        return None
    path = _folder() / name
    return path if path.is_file() else None


def set_cover(session: Session, actor: User | None, course_id: int, data: bytes) -> Course:
    """Make the uploaded picture the course's cover. Raises Invalid(cover=…) for a file that is
    not a usable JPEG, PNG or WebP, before anything is written."""
    course = course_for_editing(session, actor, course_id)  # the instructor or an admin
    if not isinstance(data, bytes) or not data:
        raise Invalid({"cover": "Choose a picture to upload"})
    if len(data) > MAX_BYTES:
        raise Invalid({"cover": f"The picture is larger than {MAX_BYTES // (1024 * 1024)} MB"})
    try:
        picture = images.read_picture(data, needed=PAGE.width)
        drawn = {size: images.cropped(picture, size.width, size.height) for size in SIZES}
    except images.ImageRefused as exc:
        raise Invalid({"cover": str(exc)}) from exc
    key = hashlib.sha256(DRAWING.encode() + data).hexdigest()[:32]
    for size, encoded in drawn.items():
        path = _folder() / f"{key}-{size.width}x{size.height}.webp"
        if not path.is_file():  # the same bytes as any earlier upload of this picture
            storage.write_atomically(path, encoded)
    if course.cover_key != key:
        audit.record(session, actor, "course.cover", course, {"cover_key": course.cover_key},
                     {"cover_key": key})
        course.cover_key, course.updated_at = key, utcnow()
        session.add(course)
    return course


def remove_cover(session: Session, actor: User | None, course_id: int) -> Course:
    """The course goes back to its plain cover (the files stay: see the module's docstring)."""
    course = course_for_editing(session, actor, course_id)
    if course.cover_key:
        audit.record(session, actor, "course.cover", course, {"cover_key": course.cover_key},
                     {"cover_key": ""})
        course.cover_key, course.updated_at = "", utcnow()
        session.add(course)
    return course


def _folder() -> Path:
    return get_settings().media_root / "covers"
