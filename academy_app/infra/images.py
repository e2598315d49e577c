"""Pictures people upload, read with Pillow and redrawn: only what was drawn leaves here.

An uploaded file is trusted for nothing. Its type is read from its first bytes (not its name or the
browser's label), Pillow opens it only as one of the formats allowed, its pixel count is checked
from the header before any pixel is decoded (a 50 KB PNG can unpack to gigabytes), and the whole
file is decoded once to find truncated or corrupt data. What is stored is a new picture drawn from
those pixels, turned upright by its EXIF orientation, cropped and resized: no EXIF (camera, GPS
position), no ICC profile, no comment of the original comes along.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

# What a cover or a photo may be: the three formats every browser shows.
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
MAX_PIXELS = 40_000_000  # 40 megapixels: any camera's photo, not a decompression bomb
WEBP_QUALITY = 82  # no visible loss on photos and text at these sizes, a third of a JPEG's bytes


class ImageRefused(Exception):
    """The file is not a picture that may be used; the message says why, in the uploader's words."""


def sniff(data: bytes) -> str | None:
    """The format the bytes really are ("JPEG", "PNG", "WEBP"), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((name for signature, name in _SIGNATURES if data.startswith(signature)), None)


def read_picture(data: bytes, needed: int = 0) -> Image.Image:
    """The upright pixels of a JPEG, PNG or WebP file, decoded whole. Raises ImageRefused.

    `needed`: the longest side the caller will draw. A JPEG is then decoded at a scale (1/2, 1/4,
    1/8) that keeps both sides at least that long: a 24-megapixel photo in a fraction of the time
    and memory, and still read to its last byte."""
    kind = sniff(data)
    if kind is None:
        raise ImageRefused("This file is not a JPEG, PNG or WebP picture")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; ours is lower and an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageRefused(f"The picture is {width:,} × {height:,} pixels: use one of at "
                                   f"most {MAX_PIXELS // 1_000_000} megapixels")
            if needed and kind == "JPEG":
                image.draft("RGB", (needed, needed))
            image.load()  # every pixel decoded now: a truncated or corrupt file fails here
            upright = ImageOps.exif_transpose(image)  # a broken EXIF block fails here
            # Redrawn from here on in one of the two modes WebP holds (16-bit, CMYK, palettes in).
            return upright.convert("RGBA" if "A" in upright.getbands()
                                   or "transparency" in upright.info else "RGB")
    except ImageRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError, TypeError, KeyError) as exc:
        raise ImageRefused("This picture could not be read: it may be damaged or incomplete") \
            from exc


def cropped(image: Image.Image, width: int, height: int) -> bytes:
    """A WebP `width` wide and `height` high of a picture read_picture gave: scaled to cover it,
    cut evenly from both sides, with nothing of the original file but its pixels."""
    fitted = ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS)
    output = io.BytesIO()
    fitted.save(output, format="WEBP", quality=WEBP_QUALITY, method=4)
    return output.getvalue()
