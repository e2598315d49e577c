"""Drawing a certificate as a one-page PDF with reportlab (chosen by measurement: bench/certificates.py).

Names come in every script. Each character is drawn in the first bundled font that has a glyph for
it (DejaVu Sans for Latin, Greek, Cyrillic, Arabic, Hebrew; Droid Sans Fallback for Chinese,
Japanese and Korean), and right-to-left text is shaped (Arabic letters joined) and put in visual
order before drawing, since a PDF text run is drawn left to right as given. Fonts are embedded as
subsets, so a certificate looks the same in every viewer.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import arabic_reshaper
import segno
from bidi import get_display
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas

FONTS = Path(__file__).resolve().parent / "fonts"
# What a learner or instructor typed is drawn in the bundled fonts; the page's own English words
# (and the ASCII code and address) in a PDF base font, which needs no embedding: one font fewer to
# subset and compress per certificate (bench/certificates.py).
BOLD, FALLBACK, LABEL = "Academy-Bold", "Academy-Fallback", "Helvetica"
PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 48
INK = HexColor("#1f2937")
MUTED = HexColor("#6b7280")
ACCENT = HexColor("#4f46e5")
QR_MASK = 2
DARK_RUN = re.compile(rb"\x01+")


@dataclass(frozen=True)
class CertificateText:
    student_name: str
    course_title: str
    instructor_name: str
    issued_on: date
    code: str  # as shown: XXXX-XXXX-XXXX-XXXX
    verify_url: str


@lru_cache
def register_fonts() -> None:
    """Load the bundled fonts once per process (parsing them is the slow part)."""
    for name, file in ((BOLD, "DejaVuSans-Bold.ttf"), (FALLBACK, "DroidSansFallback.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(FONTS / file)))


def render_certificate(text: CertificateText) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    pdf.setTitle(f"Certificate of completion: {text.course_title}")
    pdf.setAuthor("Academy")
    pdf.setSubject(f"{text.student_name}, {text.course_title}, {text.code}")
    _frame(pdf)
    centre = PAGE_WIDTH / 2
    usable = PAGE_WIDTH - 2 * MARGIN - 80
    _label(pdf, "A C A D E M Y", 12, centre, PAGE_HEIGHT - 100, ACCENT, centred=True)
    _draw_centred(pdf, "Certificate of Completion", BOLD, 30, centre, PAGE_HEIGHT - 150, INK)
    _label(pdf, "This certifies that", 13, centre, PAGE_HEIGHT - 200, MUTED, centred=True)
    name_size = _fitting_size(text.student_name, BOLD, 34, usable)
    _draw_centred(pdf, text.student_name, BOLD, name_size, centre, PAGE_HEIGHT - 250, INK)
    pdf.setStrokeColor(ACCENT)
    pdf.setLineWidth(0.8)
    pdf.line(centre - 200, PAGE_HEIGHT - 264, centre + 200, PAGE_HEIGHT - 264)
    _label(pdf, "has successfully completed the course", 13, centre, PAGE_HEIGHT - 295, MUTED,
           centred=True)
    y = PAGE_HEIGHT - 332
    for line in _wrap(text.course_title, BOLD, 22, usable, max_lines=2):
        _draw_centred(pdf, line, BOLD, 22, centre, y, INK)
        y -= 28

    _label_and_value(pdf, "Instructor", text.instructor_name, MARGIN + 40, 120)
    _label_and_value(pdf, "Issued", text.issued_on.strftime("%-d %B %Y"), MARGIN + 300, 120)
    _qr_code(pdf, text.verify_url, PAGE_WIDTH - MARGIN - 130, 92, 96)
    _label(pdf, f"Verify: {text.code}", 8.5, PAGE_WIDTH - MARGIN - 150, 80, MUTED)
    _label(pdf, text.verify_url, 6.5, MARGIN + 40, 72, MUTED)
    pdf.linkURL(text.verify_url, (PAGE_WIDTH - MARGIN - 130, 92, PAGE_WIDTH - MARGIN - 34, 188))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def font_runs(text: str, font: str) -> list[tuple[str, str]]:
    """The text in drawing order, cut into (font, characters) runs: each character in `font` when it
    has a glyph for it, else in the fallback font."""
    register_fonts()
    visual = _visual_order(text)
    primary = pdfmetrics.getFont(font).face.charToGlyph
    fallback = pdfmetrics.getFont(FALLBACK).face.charToGlyph
    runs: list[tuple[str, str]] = []
    for char in visual:
        code = ord(char)
        chosen = font if code in primary or code not in fallback else FALLBACK
        if char == " " and runs:
            chosen = runs[-1][0]  # a space never starts a font switch
        if runs and runs[-1][0] == chosen:
            runs[-1] = (chosen, runs[-1][1] + char)
        else:
            runs.append((chosen, char))
    return runs


def _visual_order(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    if not any(unicodedata.bidirectional(c) in ("R", "AL") for c in text):
        return text
    return get_display(arabic_reshaper.reshape(text))


def _width(runs: list[tuple[str, str]], size: float) -> float:
    return sum(pdfmetrics.stringWidth(chars, font, size) for font, chars in runs)


def _fitting_size(text: str, font: str, size: float, width: float, smallest: float = 16) -> float:
    natural = _width(font_runs(text, font), size)
    return size if natural <= width else max(smallest, size * width / natural)


def _wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Word-wrap to at most `max_lines`; the last line ends in an ellipsis if the text is longer."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and _width(font_runs(candidate, font), size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    if len(lines) > max_lines:
        last = " ".join(lines[max_lines - 1:])
        while last and _width(font_runs(last + "…", font), size) > width:
            last = last[:-1]
        lines = [*lines[:max_lines - 1], last.rstrip() + "…"]
    return lines


def _draw_runs(pdf: Canvas, runs: list[tuple[str, str]], size: float, x: float, y: float,
               color: Color) -> None:
    text = pdf.beginText(x, y)
    text.setFillColor(color)
    for font, chars in runs:
        text.setFont(font, size)
        text.textOut(chars)
    pdf.drawText(text)


def _draw_centred(pdf: Canvas, value: str, font: str, size: float, centre: float, y: float,
                  color: Color) -> None:
    runs = font_runs(value, font)
    _draw_runs(pdf, runs, size, centre - _width(runs, size) / 2, y, color)


def _label(pdf: Canvas, value: str, size: float, x: float, y: float, color: Color,
           centred: bool = False) -> None:
    pdf.setFont(LABEL, size)
    pdf.setFillColor(color)
    (pdf.drawCentredString if centred else pdf.drawString)(x, y, value)


def _draw_left(pdf: Canvas, value: str, font: str, size: float, x: float, y: float,
               color: Color) -> None:
    _draw_runs(pdf, font_runs(value, font), size, x, y, color)


def _label_and_value(pdf: Canvas, label: str, value: str, x: float, y: float) -> None:
    size = _fitting_size(value, BOLD, 14, 230, smallest=8)
    _draw_left(pdf, value, BOLD, size, x, y, INK)
    pdf.setStrokeColor(MUTED)
    pdf.setLineWidth(0.5)
    pdf.line(x, y - 8, x + 230, y - 8)
    _label(pdf, label.upper(), 8.5, x, y - 22, MUTED)


def _frame(pdf: Canvas) -> None:
    pdf.setStrokeColor(ACCENT)
    pdf.setLineWidth(3)
    pdf.rect(MARGIN / 2, MARGIN / 2, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - MARGIN)
    pdf.setLineWidth(0.75)
    pdf.rect(MARGIN / 2 + 7, MARGIN / 2 + 7, PAGE_WIDTH - MARGIN - 14, PAGE_HEIGHT - MARGIN - 14)


def _qr_code(pdf: Canvas, url: str, x: float, y: float, size: float) -> None:
    # A fixed mask pattern: choosing the "best" of the eight costs more than the rest of the page
    # together (bench/certificates.py), and any mask scans; error correction M survives a crease.
    matrix = segno.make_qr(url, error="m", mask=QR_MASK, boost_error=False).matrix
    pdf.saveState()
    pdf.translate(x, y + size)
    pdf.scale(size / len(matrix), -size / len(matrix))  # one unit per module, rows downwards
    path = pdf.beginPath()
    for row, bits in enumerate(matrix):
        for run in DARK_RUN.finditer(bytes(bits)):  # a run of dark modules is one rectangle
            # Overlapping by a hair leaves no seams between rows in any viewer.
            path.rect(run.start(), row, run.end() - run.start() + 0.04, 1.04)
    pdf.setFillColor(INK)
    pdf.drawPath(path, stroke=0, fill=1, fillMode=FILL_NON_ZERO)  # overlaps stay dark
    pdf.restoreState()
