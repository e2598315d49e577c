"""How an admin-kit list holds up on 100,000 rows: the Study group page's reads, on SQLite and
PostgreSQL, with the plan each database picks.

    python -m bench.admin_kit                # prints the table and the plans
    python -m bench.admin_kit --update-docs  # also writes the table into docs/extending.md

Fills a migrated database (a SQLite file; a throwaway PostgreSQL database on ACADEMY_BENCH_PG_URL)
with 20 instructors, 200 courses and 100,000 study groups, then times `list_records` — exactly what
one load of the page asks the database: the capped count, the page's rows, the course labels — for
the first page, a page 50,000 rows in (keyset), an instructor's own groups, a course filter, and a
search that matches many rows and one that matches one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from academy_app.admin.kit import service
from academy_app.admin.kit.service import ListQuery
from academy_app.admin.study_groups import study_groups
from academy_app.db import keyset_cursor, make_engine
from academy_app.models import Course, Role, StudyGroup, User, utcnow
from bench.common import ROOT, migrate, throwaway_database
from bench.machine import Monitor
from bench.report import refuse_if_busy, replace_block

ROWS = 100_000
RUNS = 30
GROUPS = study_groups.resource
WORDS = ["Python", "SQL", "Design", "Statistics", "Reflex", "Data", "Web", "Evening", "Weekend",
         "Morning", "Circle", "Club", "Hall", "Lab", "Crew", "Guild", "Sprint", "Study"]
DOCS = ROOT / "docs" / "extending.md"
START, END = "<!-- bench:admin_kit:start -->", "<!-- bench:admin_kit:end -->"


def fill(engine: sa.Engine) -> None:
    rng = random.Random(8)
    now = utcnow()
    with engine.begin() as connection:
        users = [{"email": f"bench-{i}@example.com", "full_name": f"Instructor {i}",
                  "password_hash": "x", "role": "admin" if i == 0 else "instructor",
                  "is_active": True, "email_reminders": True, "created_at": now, "updated_at": now}
                 for i in range(21)]
        connection.execute(sa.insert(User), users)
        ids = [row[0] for row in connection.execute(select(User.id).order_by(User.id))]
        connection.execute(sa.insert(Course), [
            {"slug": f"course-{i}", "title": f"Course {i:03d}", "subtitle": "", "description": "",
             "level": "beginner", "price_cents": 0, "currency": "USD", "is_published": True,
             "instructor_id": ids[1 + i % 20], "cover_image_url": "", "created_at": now,
             "updated_at": now} for i in range(200)])
        courses = [row[0] for row in connection.execute(select(Course.id))]
        for start in range(0, ROWS, 10_000):
            connection.execute(sa.insert(StudyGroup), [
                {"name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
                 "description": f"Group {i}: " + " ".join(rng.choices(WORDS, k=8)).lower(),
                 "course_id": rng.choice(courses), "capacity": rng.randint(2, 500),
                 "meeting_url": "", "is_open": rng.random() < 0.8, "created_by_id": None,
                 "created_at": now, "updated_at": now} for i in range(start, start + 10_000)])
        connection.execute(sa.text("ANALYZE"))


def scenarios(session: Session) -> list[tuple[str, User, ListQuery]]:
    admin = session.exec(select(User).where(User.role == Role.ADMIN)).one()
    instructor = session.exec(select(User).where(User.role == Role.INSTRUCTOR)).first()
    course_id = session.exec(select(Course.id).where(Course.instructor_id == instructor.id)).first()
    middle = session.exec(select(StudyGroup).order_by(StudyGroup.name, StudyGroup.id)
                          .offset(ROWS // 2)).first()
    deep = keyset_cursor(middle.name, middle.id)
    own = session.exec(select(StudyGroup).join(Course).where(Course.instructor_id == instructor.id)
                       .order_by(StudyGroup.name, StudyGroup.id).offset(2_500)).first()
    return [
        ("first page (admin, by name)", admin, ListQuery()),
        ("page 2,001: 50,000 rows in (keyset)", admin, ListQuery(after=deep)),
        ("an instructor's own groups, first page", instructor, ListQuery()),
        ("an instructor's own groups, 2,500 rows in", instructor,
         ListQuery(after=keyset_cursor(own.name, own.id))),
        ("filter: one course", admin, ListQuery(filters={"course_id": str(course_id)})),
        ("filter: closed groups", admin, ListQuery(filters={"is_open": "false"})),
        ("search matching ~11% (\"python\")", admin, ListQuery(search="python")),
        ("search matching one row (\"99999\")", admin, ListQuery(search="99999")),
    ]


def timed(action: Callable[[], object]) -> tuple[float, float]:
    action()  # warm
    samples = []
    for _ in range(RUNS):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def plan(engine: sa.Engine, session: Session, actor: User, query: ListQuery) -> str:
    """The plan of the page's row query (the one with ORDER BY … LIMIT), as the database gives it."""
    captured: list[tuple[str, object]] = []

    def record(_c: object, _cursor: object, sql: str, parameters: object, *_rest: object) -> None:
        if "LIMIT" in sql and "ORDER BY" in sql and "study_groups" in sql:
            captured.append((sql, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        service.list_records(session, actor, GROUPS, query)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    sql, parameters = captured[-1]
    connection = session.connection()  # SQLite: a second connection would wait for this one's lock
    if engine.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)
        return "\n".join(row[-1] for row in rows)
    rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql,
                                      parameters)
    return "\n".join(row[0] for row in rows)


def measure(url: str, monitor: Monitor, database: str
            ) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    migrate(url)
    engine = make_engine(url)
    try:
        fill(engine)
        results, plans = {}, {}
        with Session(engine) as session, monitor.phase(f"{database}, every list load"):
            for name, actor, query in scenarios(session):
                page = service.list_records(session, actor, GROUPS, query)
                assert page.rows, name
                results[name] = timed(lambda a=actor, q=query: service.list_records(
                    session, a, GROUPS, q))
                if name.startswith(("first page", "page 2,001", "an instructor's own groups, 2",
                                    "search matching one")):
                    plans[name] = plan(engine, session, actor, query)
        return results, plans
    finally:
        engine.dispose()


def table(sqlite: dict, postgres: dict) -> str:
    lines = ["| one load of the list, 100,000 study groups | SQLite p50 / p95 | PostgreSQL p50 / p95 |",
             "|---|---|---|"]
    for name in sqlite:
        lines.append(f"| {name} | {sqlite[name][0]:.1f} / {sqlite[name][1]:.1f} ms | "
                     f"{postgres[name][0]:.1f} / {postgres[name][1]:.1f} ms |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args(argv)
    monitor = Monitor()
    with tempfile.TemporaryDirectory() as folder:
        sqlite, sqlite_plans = measure(f"sqlite:///{Path(folder) / 'bench.db'}", monitor, "SQLite")
    with throwaway_database() as url:
        postgres, postgres_plans = measure(url, monitor, "PostgreSQL")
    result = table(sqlite, postgres)
    print(f"{result}\n\n{monitor.report()}")
    for database, plans in (("SQLite", sqlite_plans), ("PostgreSQL", postgres_plans)):
        for name, text in plans.items():
            print(f"\n{database}, {name}:\n{text}")
    if args.update_docs:
        refuse_if_busy(monitor)
        replace_block(DOCS, START, END, f"{result}\n\n{monitor.report()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
