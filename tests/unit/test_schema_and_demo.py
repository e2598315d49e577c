"""Migrations build the schema the models declare, on SQLite and PostgreSQL; demo data is idempotent."""

from __future__ import annotations

import contextlib
import logging

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, func, select

from academy_app import demo
from academy_app.db import make_engine
from academy_app.models import (
    Category,
    Cohort,
    Course,
    CourseReview,
    DiscussionThread,
    Lesson,
    LessonKind,
    Question,
    QuestionKind,
    Quiz,
    ReleaseRule,
    Role,
    User,
)
from academy_app.services import accounts, discussions
from academy_app.settings import Settings
from tests.appserver import TEST_ISSUER_KEY
from tests.conftest import run_migrations


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database()
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_migrations_build_exactly_the_models_from_empty_and_tear_down(empty_engine):
    run_migrations(empty_engine)
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    run_migrations(empty_engine, "base", down=True)
    run_migrations(empty_engine)


def test_whoever_had_turned_reminders_off_keeps_the_emails_that_switch_stopped(empty_engine):
    """Before 0019 one switch stopped reminders, release emails and discussion digests."""
    run_migrations(empty_engine, "0016")
    with empty_engine.begin() as connection:
        for email, reminders in (("off@example.com", False), ("on@example.com", True)):
            connection.execute(sa.text(
                "INSERT INTO users (email, full_name, password_hash, role, is_active, "
                "email_reminders, created_at, updated_at) VALUES (:email, 'X', 'x', 'student', "
                ":active, :reminders, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"email": email, "active": True, "reminders": reminders})
    run_migrations(empty_engine, "0019")
    with empty_engine.connect() as connection:
        switches = connection.execute(sa.text(
            "SELECT email, email_reminders, email_releases, email_discussions, "
            "email_course_updates, email_payments, avatar FROM users ORDER BY email")).all()
    assert [tuple(row) for row in switches] == [
        ("off@example.com", False, False, False, True, True, ""),
        ("on@example.com", True, True, True, True, True, "")]


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_demo_data_loads_once_with_every_role_and_both_kinds_of_course(engine):
    with Session(engine) as db:
        assert demo.load_demo_data(db) is True
        db.commit()
        assert demo.load_demo_data(db) is False
        db.commit()
        assert count(db, User) == len(demo.DEMO_USERS) + len(demo.DEMO_REVIEWERS)
        assert count(db, Course) == 6 and count(db, Category) >= 3
        assert count(db, CourseReview) == sum(len(made) for _, _, made in demo.DEMO_REVIEWERS)
        prices = set(db.exec(select(Course.price_cents)))
        assert 0 in prices and any(prices - {0})
        assert set(db.exec(select(Lesson.kind))) == set(LessonKind)
        assert count(db, Quiz) == 6  # one per course, together using every type of question
        assert set(db.exec(select(Question.kind))) == set(QuestionKind)
        paced = db.exec(select(Course).where(Course.slug == demo.PACED_COURSE)).one()
        assert paced.time_zone == demo.PACED_ZONE
        assert count(db, Cohort) == 1 and count(db, ReleaseRule) == 2  # both modules paced
        instructor = db.exec(select(User).where(User.email == "instructor@academy.test")).one()
        waiting = [row.title for row in discussions.inbox(db, instructor)]
        assert waiting == ["Why does print need parentheses?"]
        threads = db.exec(select(DiscussionThread)).all()
        assert len(threads) >= 3 and any(thread.accepted_post_id for thread in threads)
        for thread in threads:  # each reads as a page would show it
            view = discussions.open_thread(db, instructor, thread.id)
            assert len(view.replies) == thread.reply_count and view.opening.body_html
        roles = {u.email: u.role for u in db.exec(select(User))}
        assert roles["admin@academy.test"] is Role.ADMIN
        assert roles["instructor@academy.test"] is Role.INSTRUCTOR
        for email, _, _ in demo.DEMO_USERS:  # the logins (five a minute: the rate limit)
            assert accounts.authenticate(db, email, demo.DEMO_PASSWORD).email == email


def test_demo_data_is_refused_in_production(monkeypatch):
    monkeypatch.setenv("ACADEMY_ENV", "production")
    monkeypatch.setenv("ACADEMY_SECRET_KEY", "a-production-secret")
    monkeypatch.setenv("ACADEMY_CREDENTIAL_ISSUER_KEY", TEST_ISSUER_KEY)
    demo.get_settings.cache_clear()
    try:
        assert demo.main([]) == 1
        assert demo.main(["--unless-production"]) == 0
    finally:
        demo.get_settings.cache_clear()


@pytest.fixture
def demo_main(monkeypatch):
    """`demo.main` with settings read afresh from the environment, and the loading itself only
    recorded: what is under test is whether it would load."""
    loaded: list[bool] = []
    monkeypatch.setattr(demo, "session_scope", contextlib.nullcontext)
    monkeypatch.setattr(demo, "load_demo_data", lambda _session: loaded.append(True) or True)

    def main(argv: list[str]) -> tuple[int, bool]:
        demo.get_settings.cache_clear()
        try:
            return demo.main(argv), bool(loaded)
        finally:
            demo.get_settings.cache_clear()

    return main


@pytest.mark.parametrize("public_url", [
    "https://academy.example", "http://academy.example:3000", "http://10.0.0.5:3000",
    "https://[2001:db8::1]", "http://localhost.academy.example", "academy.example",
])
def test_demo_data_is_refused_on_a_public_url_whatever_the_environment(
        public_url, demo_main, monkeypatch, caplog):
    # ACADEMY_ENV=production is easy to forget, and a published admin password on a public site is
    # an open door: the address users reach the app at decides too.
    monkeypatch.setenv("ACADEMY_ENV", "development")
    monkeypatch.setenv("ACADEMY_PUBLIC_URL", public_url)
    with caplog.at_level(logging.INFO, logger=demo.__name__):
        assert demo_main(["--unless-production"]) == (0, False)  # make run goes on without it
        assert demo_main([]) == (1, False)  # make demo fails
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2
    assert all("ACADEMY_PUBLIC_URL" in w and "not loaded" in w for w in warnings)


@pytest.mark.parametrize("public_url", [
    None, "http://localhost:3000", "https://localhost", "http://127.0.0.1:8000/",
    "http://[::1]:3000", "HTTP://LocalHost:3000",
])
def test_demo_data_loads_when_the_app_is_reached_on_this_machine_only(
        public_url, demo_main, monkeypatch):
    monkeypatch.setenv("ACADEMY_ENV", "test")
    if public_url is None:  # as tests/appserver.py and a fresh checkout run it
        monkeypatch.delenv("ACADEMY_PUBLIC_URL", raising=False)
    else:
        monkeypatch.setenv("ACADEMY_PUBLIC_URL", public_url)
    assert demo_main([]) == (0, True)
    assert demo_main(["--unless-production"]) == (0, True)


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("ACADEMY_ENV", "production")
    monkeypatch.delenv("ACADEMY_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="ACADEMY_SECRET_KEY"):
        Settings()
