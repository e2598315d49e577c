"""A real Celery worker on a real Redis broker, sending to a real SMTP server (aiosmtpd) in the test.

The producer is a separate Python process, as the web app would be: it stores a notification and
commits; the email task goes through Redis to the worker, which sends it over SMTP.
"""

from __future__ import annotations

import subprocess
import sys
from email import message_from_bytes, policy

import pytest
import redis
from sqlmodel import Session, select

from academy_app.db import make_engine
from academy_app.models import EmailLog, EmailStatus
from academy_app.settings import PROJECT_ROOT
from tests.appserver import free_port
from tests.factories import make_user
from tests.integration.workers import wait_until, worker, worker_environment

BROKER_URL = "redis://127.0.0.1:6379/8"


def environment(database: str, smtp_port: int) -> dict[str, str]:
    return worker_environment(database, BROKER_URL, smtp_port)


def notify_from_another_process(env: dict[str, str], user_id: int, title: str) -> None:
    subprocess.run([sys.executable, "-c", (
        "from academy_app.db import session_scope\n"
        "from academy_app.services.notifications import notify\n"
        "with session_scope() as session:\n"
        f"    notify(session, {user_id}, 'course.update', {title!r}, 'From the worker test', "
        "'/courses/x')\n")], cwd=PROJECT_ROOT, env=env, check=True, timeout=60)


def email_rows(database: str) -> list[EmailLog]:
    engine = make_engine(database)
    with Session(engine) as session:
        rows = list(session.exec(select(EmailLog).order_by(EmailLog.id)))
    engine.dispose()
    return rows


@pytest.fixture(autouse=True)
def clean_broker() -> None:
    try:
        redis.Redis.from_url(BROKER_URL).flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {BROKER_URL}: {exc}. Run `make services`.")


def test_a_notification_committed_elsewhere_is_mailed_by_the_worker(smtp, database, tmp_path):
    inbox, port = smtp
    engine = make_engine(database)
    with Session(engine, expire_on_commit=False) as session:
        learner = make_user(session, name="Zoë Ångström")
    engine.dispose()
    env = environment(database, port)
    with worker(env, tmp_path / "worker.log"):
        notify_from_another_process(env, learner.id, "Friday: live session")
        wait_until(lambda: len(inbox.messages) == 1)
    message = message_from_bytes(inbox.messages[0], policy=policy.default)
    assert message["Subject"] == "Friday: live session"
    assert message["To"] == learner.email
    assert "Zoë Ångström" in message.get_body(("plain",)).get_content()
    [row] = [r for r in email_rows(database) if r.user_id == learner.id]
    assert (row.status, row.attempts) == (EmailStatus.SENT, 1)


def test_with_the_smtp_server_down_the_email_is_retried_then_marked_failed(database, tmp_path):
    engine = make_engine(database)
    with Session(engine, expire_on_commit=False) as session:
        learner = make_user(session)
    engine.dispose()
    env = environment(database, free_port())  # nothing listens on it
    with worker(env, tmp_path / "worker.log"):
        notify_from_another_process(env, learner.id, "Never delivered")

        def failed() -> bool:
            rows = [r for r in email_rows(database) if r.user_id == learner.id]
            return bool(rows) and rows[0].status is EmailStatus.FAILED
        wait_until(failed, timeout=60)
    [row] = [r for r in email_rows(database) if r.user_id == learner.id]
    assert row.attempts == 6 and "refused" in row.last_error.lower()
    assert "Retry in" in (tmp_path / "worker.log").read_text()
