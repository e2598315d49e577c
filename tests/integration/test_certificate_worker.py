"""A certificate task whose worker is killed with SIGKILL half-way is redelivered by the broker to a
new worker, and the certificate, its notification and its email each exist exactly once.

RabbitMQ hands an unacknowledged task (`acks_late`) back to the queue the moment its worker's
connection drops. To kill the worker at a known point, the test holds a lock on the certificate
row: the task draws the PDF, then waits on that lock to mark it ready; it dies waiting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pypdfium2
import pytest
import sqlalchemy as sa
from kombu import Connection
from sqlmodel import Session, func, select

from academy_app.db import make_engine
from academy_app.models import Certificate, EmailLog, Notification, User
from academy_app.services import enrollment, progress
from academy_app.services.catalog import course_outline
from academy_app.settings import PROJECT_ROOT
from tests.factories import make_course, make_user
from tests.integration.workers import wait_until, worker, worker_environment

BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
QUEUE = "celery"


@pytest.fixture
def empty_queue() -> None:
    try:
        with Connection(BROKER_URL, connect_timeout=5) as connection:
            # Deleted, not purged: the worker declares it afresh, whatever declared it before.
            connection.channel().queue_delete(QUEUE)
    except OSError as exc:
        pytest.fail(f"RabbitMQ is not reachable at {BROKER_URL}: {exc}. Run `make services`.")


def finish_course_from_another_process(env: dict[str, str], user_id: int, lesson_id: int) -> None:
    """The web app's side, in its own process: the last lesson, committed; the task goes to the
    broker."""
    subprocess.run([sys.executable, "-c", (
        "from academy_app.db import session_scope\n"
        "from academy_app.models import User\n"
        "from academy_app.services.progress import set_lesson_completion\n"
        "with session_scope() as session:\n"
        f"    set_lesson_completion(session, session.get(User, {user_id}), {lesson_id}, True)\n")],
        cwd=PROJECT_ROOT, env=env, check=True, timeout=60)


def waiting_on_a_lock(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE certificates%'")).scalar() > 0


def test_a_worker_killed_mid_certificate_leaves_one_certificate_one_notice_one_email(
        database, smtp, empty_queue, tmp_path):
    inbox, smtp_port = smtp
    engine = make_engine(database)
    with Session(engine, expire_on_commit=False) as db:
        instructor = make_user(db, name="Iris Instructor")
        learner = make_user(db, name="李小龙")
        course = make_course(db, instructor, title="Kill -9 Survival", lessons_per_module=(1, 1))
        enrollment.enroll_free(db, learner, course.id)
        db.commit()
        first, last = [lesson.id for lesson in course_outline(db, course.slug, learner).lessons]
        progress.set_lesson_completion(db, learner, first, True)
        db.commit()
    media = tmp_path / "media"
    env = worker_environment(database, BROKER_URL, smtp_port, ACADEMY_MEDIA_ROOT=str(media))
    finish_course_from_another_process(env, learner.id, last)

    with Session(engine) as db:
        certificate = db.exec(select(Certificate).where(Certificate.user_id == learner.id)).one()
    pdf_file = Path(media / "certificates" / f"{certificate.code}.pdf")
    with engine.connect() as holder:
        holder.execute(sa.text("SELECT id FROM certificates WHERE id = :id FOR UPDATE"),
                       {"id": certificate.id})
        with worker(env, tmp_path / "first-worker.log") as doomed:
            wait_until(lambda: waiting_on_a_lock(engine), timeout=60)
            assert pdf_file.exists()  # drawn; stuck marking it ready
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait(timeout=20)
        holder.rollback()

    with worker(env, tmp_path / "second-worker.log"):
        def delivered() -> bool:
            with Session(engine) as db:
                return db.exec(select(EmailLog.status).where(
                    EmailLog.kind == "certificate.issued")).first() == "sent"
        wait_until(delivered, timeout=60)
        wait_until(lambda: len(inbox.messages) >= 1)

    second_log = (tmp_path / "second-worker.log").read_text()
    assert "tasks.certificates.draw_certificate" in second_log  # the redelivered task ran here
    with Session(engine) as db:
        assert db.exec(select(func.count()).select_from(Certificate)
                       .where(Certificate.user_id == learner.id)).one() == 1
        assert db.exec(select(Certificate.file_ready_at)
                       .where(Certificate.id == certificate.id)).one() is not None
        assert db.exec(select(func.count()).select_from(Notification).where(
            Notification.user_id == learner.id, Notification.kind == "certificate.issued")).one() == 1
        assert db.exec(select(func.count()).select_from(EmailLog).where(
            EmailLog.kind == "certificate.issued")).one() == 1
        email = db.exec(select(User.email).where(User.id == learner.id)).one()
    [message] = [message_from_bytes(raw, policy=policy.default) for raw in inbox.messages
                 if b"Kill -9 Survival" in raw]
    assert message["To"] == email
    assert "李小龙" in message.get_body(("plain",)).get_content()
    text = pypdfium2.PdfDocument(pdf_file.read_bytes())[0].get_textpage().get_text_range()
    assert "李小龙" in text and "Kill -9 Survival" in text
    engine.dispose()
