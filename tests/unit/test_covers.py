"""Course covers (services/covers.py, infra/images.py): real pictures made here with Pillow, checked,
turned upright, redrawn at 16:9 without their metadata, named by their content, set only by the
course's staff, and a refused file changes nothing."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from academy_app.api.routes import routes
from academy_app.models import AuditEntry, Course, Role
from academy_app.services import catalog, covers
from academy_app.services.catalog import CatalogQuery
from academy_app.services.errors import Invalid, PermissionDenied
from academy_app.settings import get_settings
from tests.factories import make_course, make_user

RED, BLUE = (220, 30, 30), (30, 30, 220)
EXIF_ORIENTATION, EXIF_MAKE = 0x0112, 0x010F


def two_halves(size: tuple[int, int], fmt: str, **save: object) -> bytes:
    """A picture whose left half is red and right half blue."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    output = io.BytesIO()
    image.save(output, format=fmt, **save)
    return output.getvalue()


def rotated_photo() -> bytes:
    """A JPEG stored sideways, as phones save them: 800 by 400 pixels with EXIF orientation 6
    (show it turned 90° clockwise), so it is really a portrait, red above blue. It also names the
    camera, which must not survive."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    exif[EXIF_MAKE] = "Phonecam"
    return two_halves((800, 400), "JPEG", exif=exif.tobytes(), quality=95)


def stored(key: str, size: covers.CoverSize) -> Image.Image:
    path = covers.file_for(covers.cover_url(key, size).rsplit("/", 1)[1])
    assert path is not None, (key, size)
    return Image.open(path)


def cover_files() -> list[str]:
    folder = get_settings().media_root / "covers"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def committed_cover_key(engine: Engine, course_id: int) -> str:
    """What any other request reads now. A driver connection of its own: on SQLite, a session
    would open with BEGIN IMMEDIATE (db.make_engine) and wait for the test's open transaction."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT cover_key FROM courses WHERE id = {int(course_id)}")
        return cursor.fetchone()[0]
    finally:
        connection.close()


@pytest.fixture
def course(db, instructor) -> Course:
    return make_course(db, instructor, title="Photography Basics", slug="photography")


def test_a_sideways_phone_photo_is_turned_upright_cropped_and_stripped(db, instructor, course):
    covers.set_cover(db, instructor, course.id, rotated_photo())
    db.commit()
    assert course.cover_key
    for size in covers.SIZES:
        picture = stored(course.cover_key, size)
        assert (picture.format, picture.size) == ("WEBP", (size.width, size.height))
        # Upright, the portrait is red above blue; the 16:9 crop is its middle band.
        rgb = picture.convert("RGB")
        top, bottom = rgb.getpixel((size.width // 2, 2)), rgb.getpixel((size.width // 2,
                                                                       size.height - 3))
        assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0], (top, bottom)
        assert not picture.getexif() and "exif" not in picture.info and "icc_profile" not in \
            picture.info
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "course.cover")).one()
    assert json.loads(entry.after) == {"cover_key": course.cover_key}


def test_a_png_becomes_the_cover_cards_and_the_catalog_name(db, instructor, course):
    covers.set_cover(db, instructor, course.id, two_halves((1600, 900), "PNG"))
    db.commit()
    [card] = catalog.search_courses(db, CatalogQuery()).items
    assert card.cover_key == course.cover_key
    assert covers.cover_url(card.cover_key, covers.CARD) == f"/covers/{course.cover_key}-480x270.webp"
    assert stored(course.cover_key, covers.CARD).size == (480, 270)


def test_the_same_picture_twice_names_the_same_files(db, instructor, course):
    photo = rotated_photo()
    covers.set_cover(db, instructor, course.id, photo)
    first = course.cover_key
    covers.set_cover(db, instructor, course.id, photo)
    db.commit()
    assert course.cover_key == first
    assert len(cover_files()) == len(covers.SIZES)
    assert len(db.exec(select(AuditEntry).where(AuditEntry.action == "course.cover")).all()) == 1


@pytest.mark.parametrize(("data", "message"), [
    (b"Dear instructor, this is a text file named cover.jpg\n", "not a JPEG, PNG or WebP"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "could not be read"),  # a JPEG's first bytes, then junk
    (b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), "larger than 5 MB"),
    (b"", "Choose a picture"),
])
def test_a_file_that_is_not_a_usable_picture_is_refused_and_changes_nothing(db, instructor,
                                                                           course, data, message):
    with pytest.raises(Invalid, match=message) as refused:
        covers.set_cover(db, instructor, course.id, data)
    assert list(refused.value.errors) == ["cover"]
    db.rollback()
    db.refresh(course)
    assert course.cover_key == "" and cover_files() == []


def test_a_truncated_photo_is_refused(db, instructor, course):
    photo = two_halves((1200, 800), "JPEG")
    with pytest.raises(Invalid, match="could not be read"):
        covers.set_cover(db, instructor, course.id, photo[:len(photo) // 2])
    assert cover_files() == []


def test_a_decompression_bomb_is_refused_from_its_header(db, instructor, course):
    # 50 megapixels of one colour: a few KB of PNG that would unpack to 150 MB of RGB.
    bomb = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(bomb, format="PNG")
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(Invalid, match="10,000 × 5,000 pixels: use one of at most 40 megapixels"):
        covers.set_cover(db, instructor, course.id, bomb.getvalue())
    assert cover_files() == []


def test_only_the_courses_instructor_or_an_admin_sets_or_removes_its_cover(db, instructor, course,
                                                                           student):
    photo = rotated_photo()
    for outsider in (student, make_user(db, Role.INSTRUCTOR, name="Other Instructor")):
        with pytest.raises(PermissionDenied):
            covers.set_cover(db, outsider, course.id, photo)
        with pytest.raises(PermissionDenied):
            covers.remove_cover(db, outsider, course.id)
    assert cover_files() == []  # refused before a byte was drawn
    admin = make_user(db, Role.ADMIN, name="Ada Admin")
    covers.set_cover(db, admin, course.id, photo)
    db.commit()
    assert course.cover_key
    covers.remove_cover(db, instructor, course.id)
    db.commit()
    assert course.cover_key == ""


def test_a_replaced_cover_shows_until_the_new_one_is_committed(db, engine, instructor, course):
    covers.set_cover(db, instructor, course.id, rotated_photo())
    db.commit()
    old = course.cover_key
    covers.set_cover(db, instructor, course.id, two_halves((1600, 900), "PNG"))
    db.flush()  # the new key is written, not committed
    assert committed_cover_key(engine, course.id) == old
    db.rollback()
    db.refresh(course)
    assert course.cover_key == old
    assert stored(old, covers.PAGE).size == (1200, 675)  # its files are still there


def test_cover_files_are_served_for_good_and_nothing_else_is(db, instructor, course):
    covers.set_cover(db, instructor, course.id, two_halves((1600, 900), "PNG"))
    db.commit()
    client = TestClient(Starlette(routes=routes.routes))
    response = client.get(covers.cover_url(course.cover_key, covers.CARD))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(response.content)).size == (480, 270)
    for name in ("..%2Fsecret%2Fcredential-issuer-key", f"{course.cover_key}-480x270.png",
                 "0" * 32 + "-480x270.webp"):
        assert client.get(f"/covers/{name}").status_code == 404
