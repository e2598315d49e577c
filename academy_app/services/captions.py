"""WebVTT captions for video lessons: read strictly enough to refuse what a browser would drop.

Browsers silently ignore a captions track they cannot parse, so an instructor who uploads a
broken file would see nothing and learn nothing. The file is read here at save time instead, and a
mistake comes back with its line number. The same reading gives the transcript shown under the
video, so learners who cannot (or would rather not) play it get the words too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import NoReturn

from academy_app.services.errors import Invalid

MAX_BYTES = 512 * 1024  # about ten hours of dense captions
MAX_CUES = 20_000

_TIMESTAMP = r"(?:(\d{1,3}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t].*)?$")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str  # plain text: cue tags dropped, entities decoded


def read_webvtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file. Raises Invalid(captions="Line N: …") on the first mistake."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        _refuse(None, "The captions file is larger than 512 KB")
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        _refuse(1, 'A WebVTT file starts with the line "WEBVTT"')
    cues: list[Cue] = []
    number = 1
    while number < len(lines):  # the header runs to the first blank line
        if not lines[number].strip():
            break
        number += 1
    while number < len(lines):
        if not lines[number].strip():
            number += 1
            continue
        block_start = number
        while number < len(lines) and lines[number].strip():
            number += 1
        block = lines[block_start:number]
        if re.match(r"^(NOTE|STYLE|REGION)(?:[ \t]|$)", block[0]):
            continue
        cues.append(_cue(block, block_start + 1, cues[-1].start if cues else 0.0))
        if len(cues) > MAX_CUES:
            _refuse(block_start + 1, f"Keep the captions under {MAX_CUES:,} cues")
    return cues


def _cue(block: list[str], first_line: int, previous_start: float) -> Cue:
    timing_index = 1 if "-->" not in block[0] else 0  # an optional cue identifier comes first
    if timing_index >= len(block) or "-->" not in block[timing_index]:
        _refuse(first_line, 'A cue needs a timing line like "00:01.000 --> 00:04.000"')
    line_number = first_line + timing_index
    match = _TIMING.match(block[timing_index].strip())
    if match is None:
        _refuse(line_number, 'Write times as mm:ss.ttt or hh:mm:ss.ttt, e.g. '
                             '"00:01.000 --> 00:04.000"')
    start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
    if end <= start:
        _refuse(line_number, "A cue must end after it starts")
    if start < previous_start:
        _refuse(line_number, "Cues must be in order of their start times")
    words = " ".join(html.unescape(_TAG.sub("", line)).strip()
                     for line in block[timing_index + 1:])
    return Cue(start=start, end=end, text=" ".join(words.split()))


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return (((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)) / 1000


def _refuse(line: int | None, message: str) -> NoReturn:
    raise Invalid({"captions": f"Line {line}: {message}" if line else message})


def clock(seconds: float) -> str:
    """How a transcript line shows its start: 1:05, or 1:02:05 past the hour."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
