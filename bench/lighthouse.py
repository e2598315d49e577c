"""First paint on a phone: Lighthouse's mobile preset against the app as `make run` serves it.

    .venv/bin/python -m bench.lighthouse [--runs 3] [--url http://localhost:3000] [--update-docs]

Lighthouse (the npm package, a dev tool: installed on first use into ~/.cache/academy-bench, never
into the project, nothing of it at run time) drives Debian's Chromium (CHROME_PATH, default
/usr/bin/chromium) with its default mobile settings: a mid-range phone's screen, 4x CPU slowdown and
simulated slow 4G. Without --url the benchmark starts the app itself (prod mode, a SQLite database
with the demo data, as the browser tests do); with --url it measures that app, and logs the demo
learner in through the database REFLEX_DB_URL names (the app's own). Each page is measured --runs
times and the run with the median performance score is reported, as Lighthouse recommends.

Lighthouse's simulated timings come from traces taken on this machine: while other work runs on it
(tests, builds, other benchmarks) they are not trustworthy. Measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from academy_app.db import make_engine
from academy_app.infra.session_cookie import SESSION_COOKIE
from academy_app.models import Course, Lesson, Module, User
from academy_app.services import accounts, enrollment
from academy_app.settings import get_settings
from bench.machine import Monitor
from bench.report import publish
from tests.appserver import running_app

LIGHTHOUSE_VERSION = "12"
TOOLS = Path.home() / ".cache" / "academy-bench" / f"lighthouse-{LIGHTHOUSE_VERSION}"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
COURSE = "python-foundations"  # free, in the demo data
PUBLIC_PAGES = ["/", "/courses", f"/courses/{COURSE}", "/login"]
LEARNER = "student@academy.test"
ATTEMPTS = 3  # a loaded machine sometimes makes Chromium miss Lighthouse's own timeouts
NOTE = ("Provisional unless the machine was quiet: Lighthouse simulates the phone and network from "
        "traces taken here, so figures taken while other work runs on the machine (tests, builds, "
        "other benchmarks) are not trustworthy.")


@dataclass(frozen=True)
class Result:
    page: str
    scores: dict[str, int]
    fcp_ms: float
    lcp_ms: float
    kib: float


def lighthouse() -> Path:
    """The Lighthouse CLI, installed with npm outside the project on first use."""
    cli = TOOLS / "node_modules" / ".bin" / "lighthouse"
    if not cli.exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        print(f"installing lighthouse@{LIGHTHOUSE_VERSION} into {TOOLS} …", flush=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(TOOLS),
                        f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True, capture_output=True)
    return cli


def learner_cookie(database_url: str) -> tuple[str, str]:
    """The demo learner enrolled in the free demo course and logged in (as log-in does it): their
    login cookie, and the first lesson's page."""
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = session.exec(select(User).where(User.email == LEARNER)).one()
            course = session.exec(select(Course).where(Course.slug == COURSE)).one()
            enrollment.enroll_free(session, user, course.id)
            token = accounts.start_session(session, user)
            lesson_id = session.exec(
                select(Lesson.id).join(Module, col(Module.id) == Lesson.module_id)
                .where(Module.course_id == course.id)
                .order_by(col(Module.position), col(Lesson.position))
            ).first()
            session.commit()
    finally:
        engine.dispose()
    return f"{SESSION_COOKIE}={token}", f"/learn/{COURSE}/{lesson_id}"


def measure(cli: Path, url: str, cookie: str | None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        # Through bench/reaper.py: the Chromium processes Lighthouse's browser leaves behind are
        # the run's CPU, not "others" that would refuse a quiet machine.
        command = [sys.executable, "-m", "bench.reaper", str(cli), url, "--quiet", "--output=json",
                   f"--output-path={report}", f"--only-categories={','.join(CATEGORIES)}",
                   f"--chrome-flags={CHROME_FLAGS}"]
        if cookie:
            command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        for attempt in range(ATTEMPTS):
            run = subprocess.run(command, capture_output=True, text=True,
                                 env={**os.environ, "CHROME_PATH": CHROME})
            if run.returncode == 0:
                return json.loads(report.read_text())
            print(f"  lighthouse failed (attempt {attempt + 1} of {ATTEMPTS}): "
                  f"{run.stderr.strip().splitlines()[-1:]}", flush=True)
        raise SystemExit(f"lighthouse kept failing on {url}:\n{run.stderr[-2000:]}")


def result_of(page: str, reports: list[dict]) -> Result:
    def performance(report: dict) -> float:
        return report["categories"]["performance"]["score"] or 0

    median = statistics.median_low([performance(report) for report in reports])
    report = next(report for report in reports if performance(report) == median)
    audits = report["audits"]
    return Result(
        page=page,
        scores={name: round((report["categories"][name]["score"] or 0) * 100)
                for name in CATEGORIES},
        fcp_ms=audits["first-contentful-paint"]["numericValue"],
        lcp_ms=audits["largest-contentful-paint"]["numericValue"],
        kib=audits["total-byte-weight"]["numericValue"] / 1024,
    )


def table(results: list[Result], runs: int) -> str:
    lines = ["| page | performance | accessibility | best practices | SEO | FCP | LCP | "
             "transferred |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        scores = " | ".join(str(result.scores[name]) for name in CATEGORIES)
        lines.append(f"| `{result.page}` | {scores} | {result.fcp_ms / 1000:.1f} s | "
                     f"{result.lcp_ms / 1000:.1f} s | {result.kib:.0f} KiB |")
    return "\n".join([*lines, "", f"Median of {runs} runs per page, Lighthouse "
                      f"{LIGHTHOUSE_VERSION} mobile preset, Chromium at {CHROME}. The lesson page "
                      "is a logged-in learner's, which robots.txt keeps out of search engines: "
                      "its SEO score counts that against it.", "", NOTE])


@contextmanager
def app_to_measure(url: str | None) -> Iterator[tuple[str, str]]:
    """(base URL, its database URL): the one given, or a fresh app with the demo data."""
    if url:
        yield url.rstrip("/"), get_settings().database_url
        return
    folder = Path(tempfile.mkdtemp(prefix="academy-lighthouse-"))
    try:
        with running_app(folder) as app:
            yield app.url, app.database_url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per page (the median is kept)")
    parser.add_argument("--url", help="measure the app already serving here")
    parser.add_argument("--update-docs", action="store_true",
                        help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    cli = lighthouse()
    # Lighthouse's Chromium and an app this run starts are its own children; an app given with
    # --url is not, so its work counts as others' and the docs refuse it.
    monitor = Monitor()
    print(NOTE, flush=True)
    with app_to_measure(args.url) as (base, database_url):
        cookie, lesson = learner_cookie(database_url)
        pages = [(page, None) for page in PUBLIC_PAGES] + [(lesson, cookie)]
        results = []
        for page, page_cookie in pages:
            print(f"{page}: {args.runs} runs …", flush=True)
            with monitor.phase(page):
                reports = [measure(cli, base + page, page_cookie) for _ in range(args.runs)]
            results.append(result_of(page, reports))
    publish("lighthouse", table(results, args.runs), monitor, write=args.update_docs)


if __name__ == "__main__":
    main()
