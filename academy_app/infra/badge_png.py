"""The badge image of an Open Badge, with its signed credential baked in (Open Badges 3.0 "Baked
Badge" for PNG): one `iTXt` chunk, keyword `openbadgecredential`, uncompressed, whose text is the
credential's JSON, placed before `IEND`. A wallet or verifier reads the credential out of the image;
its signature covers the credential, not the picture."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from academy_app.infra.pdf import FONTS

SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
SIZE = 400
INDIGO, WHITE, GOLD = (79, 70, 229), (255, 255, 255), (250, 204, 21)


@cache
def badge_image() -> bytes:
    """The picture: the same medal for every course (a title in any script would need every
    script's font in the image; the credential inside names the course)."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=INDIGO, outline=GOLD, width=12)
    draw.ellipse((44, 44, SIZE - 44, SIZE - 44), outline=WHITE, width=4)
    bold = str(FONTS / "DejaVuSans-Bold.ttf")
    for text, size, middle in (("ACADEMY", 44, 165), ("CERTIFIED", 30, 230)):
        draw.text((SIZE / 2, middle), text, font=ImageFont.truetype(bold, size), fill=WHITE,
                  anchor="mm")
    draw.line(((150, 285), (185, 320), (255, 255)), fill=GOLD, width=14, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def bake(png: bytes, credential_json: str) -> bytes:
    """The image with the credential in an iTXt chunk (any credential baked before is dropped)."""
    if not png.startswith(SIGNATURE):
        raise ValueError("not a PNG image")
    chunks, position = [], len(SIGNATURE)
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        end = position + 12 + length
        data = png[position + 8:position + 8 + length]
        if kind == b"IEND":
            # keyword, NUL, compression flag 0 and method 0, empty language tag and translated
            # keyword (each NUL-terminated), then the UTF-8 text
            text = KEYWORD + b"\0\0\0\0\0" + credential_json.encode()
            chunks.append(_chunk(b"iTXt", text))
        if not (kind == b"iTXt" and data.split(b"\0", 1)[0] == KEYWORD):
            chunks.append(png[position:end])
        position = end
    return SIGNATURE + b"".join(chunks)


def baked_credential(png: bytes) -> str | None:
    """The credential JSON baked into a PNG, or None if it carries none (or is no PNG)."""
    if not png.startswith(SIGNATURE):
        return None
    position = len(SIGNATURE)
    while position + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        data = png[position + 8:position + 8 + length]
        keyword, _, rest = data.partition(b"\0")
        if kind == b"iTXt" and keyword == KEYWORD and rest[:2] == b"\0\0":
            # after the flags: language tag and translated keyword, each NUL-terminated
            return rest[2:].split(b"\0", 2)[-1].decode("utf-8", "replace")
        position += 12 + length
    return None


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
