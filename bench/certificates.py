"""Certificate PDFs per second on one core: Academy's reportlab renderer beside an fpdf2 one.

    .venv/bin/python -m bench.certificates [--update-docs]

Both draw the same one-page certificate: the same bundled fonts (DejaVu Sans Bold, Droid Sans
Fallback for CJK; Helvetica for the page's own words), the same Arabic shaping and bidi ordering,
the same QR code (segno, drawn as vector rectangles), a student name in a different script each
time (Latin with diacritics, Chinese, Arabic, Korean). Each renderer runs in this one process,
alternating round by round, so a busy moment of the machine falls on both; a Celery worker process
draws certificates the same way, one at a time, so certificates per second here is per worker core.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from datetime import date
from itertools import groupby

import segno
from fpdf import FPDF

from academy_app.infra import pdf
from bench.machine import Monitor
from bench.report import publish

NAMES = ["Zoë Ångström", "李小龙", "محمد بن سلمان", "김민준"]
ROUNDS = 25
PER_ROUND = 20  # certificates per renderer per round


def certificate(name: str) -> pdf.CertificateText:
    return pdf.CertificateText(
        student_name=name, course_title="Data Science: From Zero to Confident Analyst",
        instructor_name="Iris Instructor", issued_on=date(2026, 11, 29),
        code="ABCD-2345-EFGH-6789", verify_url="https://academy.example/verify/ABCD-2345-EFGH-6789")


class Fpdf2Renderer:
    """The same page with fpdf2: its own per-character font fallback, the same shaping. fpdf2 keeps
    no fonts between documents, so each one parses the two font files again."""

    def render(self, text: pdf.CertificateText) -> bytes:
        page = FPDF(orientation="L", unit="pt", format="A4")
        page.set_auto_page_break(False)
        for name, file in (("bold", "DejaVuSans-Bold.ttf"), ("fallback", "DroidSansFallback.ttf")):
            page.add_font(name, fname=str(pdf.FONTS / file))
        page.set_fallback_fonts(["fallback"])
        page.add_page()
        width = page.w
        page.set_draw_color(79, 70, 229)
        page.set_line_width(3)
        page.rect(24, 24, width - 48, page.h - 48)
        page.set_line_width(0.75)
        page.rect(31, 31, width - 62, page.h - 62)
        self._centred(page, "A C A D E M Y", "helvetica", 12, 100)
        self._centred(page, "Certificate of Completion", "bold", 30, 150)
        self._centred(page, "This certifies that", "helvetica", 13, 200)
        self._centred(page, pdf._visual_order(text.student_name), "bold", 34, 250)
        self._centred(page, "has successfully completed the course", "helvetica", 13, 295)
        self._centred(page, text.course_title, "bold", 22, 332)
        page.set_font("bold", size=14)
        page.text(88, page.h - 120, text.instructor_name)
        page.text(348, page.h - 120, text.issued_on.strftime("%-d %B %Y"))
        page.set_font("helvetica", size=8.5)
        page.text(88, page.h - 98, "INSTRUCTOR")
        page.text(348, page.h - 98, "ISSUED")
        page.text(width - 198, page.h - 80, f"Verify: {text.code}")
        self._qr(page, text.verify_url, width - 178, page.h - 188, 96)
        return bytes(page.output())

    @staticmethod
    def _centred(page: FPDF, value: str, font: str, size: float, top: float) -> None:
        page.set_font(font, size=size)
        page.set_xy(0, top - size)  # a cell, not text(): only cells use the fallback fonts
        page.cell(w=page.w, h=size * 1.2, text=value, align="C")

    @staticmethod
    def _qr(page: FPDF, url: str, x: float, y: float, size: float) -> None:
        matrix = segno.make_qr(url, error="m", mask=pdf.QR_MASK, boost_error=False).matrix
        module = size / len(matrix)
        page.set_fill_color(31, 41, 55)
        for row, bits in enumerate(matrix):
            column = 0
            for dark, run in groupby(bits):
                length = len(list(run))
                if dark:
                    page.rect(x + column * module, y + row * module, length * module, module,
                              style="F")
                column += length


def measure(render: Callable[[pdf.CertificateText], bytes], texts: list[pdf.CertificateText],
            timings: list[float], sizes: list[int]) -> None:
    for i in range(PER_ROUND):
        started = time.perf_counter()
        data = render(texts[i % len(texts)])
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(len(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update-docs", action="store_true",
                        help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    texts = [certificate(name) for name in NAMES]
    renderers = {"reportlab 5.1 + rl_accel (Academy's)": pdf.render_certificate,
                 "fpdf2 2.8": Fpdf2Renderer().render}
    for render in renderers.values():  # fonts parsed, caches warm: a worker's steady state
        for text in texts:
            io.BytesIO(render(text))
    results: dict[str, tuple[list[float], list[int]]] = {name: ([], []) for name in renderers}
    print(f"{ROUNDS} rounds × {PER_ROUND} certificates per renderer, alternating…", flush=True)
    # No server of the run's own: Redis and PostgreSQL are like any other process here.
    monitor = Monitor(services=())
    with monitor.phase("both renderers, alternating"):
        for _ in range(ROUNDS):
            for name, render in renderers.items():
                measure(render, texts, *results[name])
    lines = ["| Renderer | ms per certificate p50 / p95 | Certificates per second per core | "
             "PDF size (kB) |", "|---|---:|---:|---:|"]
    for name, (timings, sizes) in results.items():
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1]
        rate = len(timings) / (sum(timings) / 1000)
        lines.append(f"| {name} | {p50:.1f} / {p95:.1f} | {rate:.0f} | "
                     f"{statistics.mean(sizes) / 1024:.0f} |")
    text = "\n".join(lines)
    publish("certificates", text, monitor, write=args.update_docs)


if __name__ == "__main__":
    main()
