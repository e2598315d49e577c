"""One access rule at every entry point (issue 19): a lesson locked to a learner is refused with the
reason by the lesson page's service, its captions, "mark as complete", every quiz step and the REST
API, and nothing of it is read or recorded; what opens is told to the learner's tabs, and the clock's
releases are emailed once per learner, course and day. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select
from starlette.testclient import TestClient

from academy_app.api.v1.app import api
from academy_app.infra import clock
from academy_app.models import (
    Course,
    DiscussionPost,
    EmailLog,
    Enrollment,
    Lesson,
    LessonProgress,
    Notification,
    QuizAttempt,
    ReleaseKind,
    ReleaseNotice,
    User,
)
from academy_app.services import (
    access,
    accounts,
    attempts,
    catalog,
    discussions,
    enrollment,
    lessons,
    progress,
    unlocks,
)
from academy_app.services.access import RuleSpec
from academy_app.services.errors import Locked
from academy_app.settings import Settings, get_settings
from academy_app.state.rows import module_rows
from tests.appserver import TEST_ISSUER_KEY
from tests.factories import make_course, make_user
from tests.unit.test_access import lessons_of, make_quiz, modules_of, take
from tests.unit.test_api import V1, bearer, log_in
from tests.unit.test_discussions import rid

SECRET_BODY = "The answer is forty-two"
OPENS = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # module 2's date (the course runs on UTC)
BEFORE, AFTER = OPENS - timedelta(days=1), OPENS + timedelta(seconds=30)


@pytest.fixture
def course(db: Session, instructor: User) -> Course:
    """Module 1: two lessons; module 2: two lessons and "Quiz 1", opening on OPENS."""
    course = make_course(db, instructor, title="Paced", slug="paced", lessons_per_module=(2, 2))
    second = modules_of(db, course)[1]
    make_quiz(db, instructor, second)
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.ON_DATE,
                                             opens_at_local=OPENS.replace(tzinfo=None)),
                    module_id=second.id)
    locked = lessons_of(db, course)[2]
    locked.body, locked.video_url = SECRET_BODY, "https://videos.example/secret.mp4"
    locked.captions_vtt = f"WEBVTT\n\n00:00.000 --> 00:02.000\n{SECRET_BODY}\n"
    db.add(locked)
    db.commit()
    return course


@pytest.fixture
def learner(db: Session, student: User, course: Course) -> User:
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    return student


def rows(db: Session, table: type, *where: object) -> int:
    return db.exec(select(func.count()).select_from(table).where(*where)).one()


def quiz_id_of(db: Session, course: Course) -> int:
    quiz_lesson = lessons_of(db, course)[-1]
    return attempts.quiz_id_for_lesson(db, quiz_lesson.id)


def test_every_service_entry_refuses_a_locked_lesson_and_records_nothing(db, course, learner):
    locked, quiz_lesson = lessons_of(db, course)[2], lessons_of(db, course)[-1]
    quiz_id = quiz_id_of(db, course)
    with pytest.raises(Locked) as refused:
        lessons.open_lesson(db, learner, course.slug, locked.id, now=BEFORE)
    assert refused.value.message == "Opens Mon 9 Mar, 09:00" and refused.value.opens_at == OPENS
    with pytest.raises(Locked):
        lessons.open_lesson(db, learner, course.slug, quiz_lesson.id, now=BEFORE)
    with pytest.raises(Locked):
        progress.set_lesson_completion(db, learner, locked.id, True, now=BEFORE)
    with pytest.raises(Locked):
        progress.set_lesson_completion(db, learner, locked.id, False, now=BEFORE)
    with pytest.raises(Locked):
        attempts.start_attempt(db, learner, quiz_id, now=BEFORE)
    db.rollback()
    assert rows(db, LessonProgress, LessonProgress.user_id == learner.id) == 0
    assert rows(db, QuizAttempt, QuizAttempt.user_id == learner.id) == 0
    assert rows(db, Notification, Notification.kind == unlocks.OPENED) == 0

    # The first module is open, and the lesson page's outline says what waits and why.
    view = lessons.open_lesson(db, learner, course.slug, lessons_of(db, course)[1].id, now=BEFORE)
    assert view.next_id == locked.id and view.locked(view.next_id) is not None
    shown = [row for module in module_rows(view.outline, access=view.access)
             for row in module.lessons]
    assert [(row.locked, row.href == "") for row in shown] == \
        [(False, False)] * 2 + [(True, True)] * 3
    assert shown[2].lock_reason == "Opens Mon 9 Mar, 09:00"
    assert shown[2].opens_at == "2026-03-09T09:00:00Z"  # the browser words it in its own zone
    assert SECRET_BODY not in repr(shown)

    # At the second it opens, it opens everywhere.
    opened = lessons.open_lesson(db, learner, course.slug, locked.id, now=OPENS)
    assert SECRET_BODY in opened.body_html
    progress.set_lesson_completion(db, learner, locked.id, True, now=OPENS)
    assert attempts.start_attempt(db, learner, quiz_id, now=OPENS).questions


def test_a_quiz_attempt_begun_while_open_cannot_go_on_once_the_lesson_is_locked_again(
        db, instructor, course, learner):
    """An instructor may move the date back: the open attempt's questions are then kept from the
    learner, its answers and its submission refused, nothing graded."""
    quiz_id = quiz_id_of(db, course)
    view = attempts.start_attempt(db, learner, quiz_id, now=AFTER)
    db.commit()
    later = OPENS + timedelta(days=30)
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.ON_DATE,
                                             opens_at_local=later.replace(tzinfo=None)),
                    module_id=modules_of(db, course)[1].id)
    db.commit()
    question = view.questions[0]
    for step in (lambda: attempts.attempt_view(db, learner, view.attempt_id, now=AFTER),
                 lambda: attempts.save_answer(db, learner, view.attempt_id, question.version_id,
                                              {"choice": 0}, now=AFTER),
                 lambda: attempts.submit_attempt(db, learner, view.attempt_id, now=AFTER),
                 lambda: attempts.attempt_result(db, learner, view.attempt_id, now=AFTER)):
        with pytest.raises(Locked, match="Opens"):
            step()
        db.rollback()
    assert db.get(QuizAttempt, view.attempt_id).submitted_at is None


def test_course_staff_preview_a_locked_lesson(db, instructor, course):
    locked = lessons_of(db, course)[2]
    view = lessons.open_lesson(db, instructor, course.slug, locked.id, now=BEFORE)
    assert SECRET_BODY in view.body_html and not view.access


def test_the_rest_api_refuses_a_locked_lesson_with_the_reason_and_leaks_nothing(
        db, engine, course, learner, monkeypatch, tmp_path):
    # The API reads the platform's clock: set a day before the module opens.
    monkeypatch.setattr(get_settings(), "test_clock_file", tmp_path / "clock")
    clock.move_test_clock((BEFORE - datetime.now(UTC)).total_seconds())
    client = TestClient(api)
    headers = bearer(log_in(client, learner.email))
    learner_id = learner.id
    locked, quiz_id = lessons_of(db, course)[2].id, quiz_id_of(db, course)
    db.commit()  # SQLite: the API's sessions write

    marked = client.put(f"{V1}/me/progress/lessons/{locked}", headers=headers)
    assert marked.status_code == 403 and "Opens Mon 9 Mar, 09:00" in marked.text
    started = client.post(f"{V1}/me/quizzes/{quiz_id}/attempts", headers=headers)
    assert started.status_code == 403 and "Opens Mon 9 Mar, 09:00" in started.text
    listed = client.get(f"{V1}/me/quizzes", params={"course": course.slug}, headers=headers)
    detail = client.get(f"{V1}/courses/{course.slug}", headers=headers)
    for response in (marked, started, listed, detail):
        for secret in (SECRET_BODY, "Capital of France", "secret.mp4"):
            assert secret not in response.text
    assert rows(db, LessonProgress, LessonProgress.user_id == learner_id) == 0
    assert rows(db, QuizAttempt, QuizAttempt.user_id == learner_id) == 0
    db.commit()

    clock.move_test_clock((AFTER - datetime.now(UTC)).total_seconds())
    assert client.put(f"{V1}/me/progress/lessons/{locked}", headers=headers).status_code == 200
    assert client.post(f"{V1}/me/quizzes/{quiz_id}/attempts", headers=headers).status_code == 200


def test_completing_a_prerequisite_tells_the_learner_once_what_it_opened(db, instructor, course,
                                                                         learner):
    first_module = modules_of(db, course)[0]
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE), module_id=first_module.id)
    db.commit()
    one, two = lessons_of(db, course)[:2]
    with pytest.raises(Locked, match=r"Complete “.*” to open"):
        progress.set_lesson_completion(db, learner, two.id, True, now=BEFORE)
    db.rollback()
    for completed in (True, False, True):  # done, undone, done again: told once
        progress.set_lesson_completion(db, learner, one.id, completed, now=BEFORE)
        db.commit()
    told = db.exec(select(Notification).where(Notification.kind == unlocks.OPENED)).all()
    assert [(n.user_id, n.link, n.title) for n in told] == \
        [(learner.id, f"/learn/paced/{two.id}", f"“{two.title}” is open")]


def test_passing_the_gating_quiz_tells_the_learner_what_it_opened(db, instructor, student):
    course = make_course(db, instructor, title="Gated", slug="gated", lessons_per_module=(1, 1))
    first, second = modules_of(db, course)
    quiz_id = make_quiz(db, instructor, first)
    quiz_lesson = db.exec(select(Lesson).where(Lesson.module_id == first.id,
                                               Lesson.title == "Quiz 1")).one()
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_COMPLETION,
                                             after_lesson_id=quiz_lesson.id, min_score_percent=70),
                    module_id=second.id)
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    gated = lessons_of(db, course)[-1]
    take(db, student, quiz_id, both_right=False)  # 50 %: nothing opens
    assert rows(db, Notification, Notification.kind == unlocks.OPENED) == 0
    take(db, student, quiz_id, both_right=True)
    told = db.exec(select(Notification.link).where(Notification.kind == unlocks.OPENED)).all()
    assert told == [f"/learn/gated/{gated.id}"]


def test_the_clock_s_releases_are_told_live_and_emailed_once_per_learner_course_and_day(
        db, engine, instructor, course, learner, outbox):
    other = make_user(db, email="second@academy.test")
    enrollment.enroll_free(db, other, course.id)
    db.commit()
    assert unlocks.announce_due(db, BEFORE) == []
    found = unlocks.announce_due(db, AFTER)
    db.commit()
    assert {(u.user_id, u.lesson_id) for u in found} == {
        (user.id, lesson.id) for user in (learner, other) for lesson in lessons_of(db, course)[2:]}
    # The next sweeps (every minute, overlapping) and a retried one find the same: no more.
    for now in (AFTER + timedelta(minutes=1), AFTER + timedelta(minutes=2), AFTER):
        unlocks.announce_due(db, now)
        db.commit()
    assert rows(db, Notification, Notification.kind == unlocks.OPENED) == 2 * 3
    assert rows(db, ReleaseNotice) == 2
    mails = db.exec(select(EmailLog).where(EmailLog.kind == unlocks.RELEASE_EMAIL)).all()
    assert sorted(m.to_address for m in mails) == sorted([learner.email, other.email])
    sent = [path.read_text() for path in outbox.glob("*.eml")]
    released = [text for text in sent if "Paced: 3 new lessons open" in text]
    assert len(released) == 2 and "Quiz 1" in released[0]


def test_a_course_run_in_cohorts_takes_its_learners_into_one_seat_each(db, instructor, course,
                                                                      student):
    cohort = access.create_cohort(db, instructor, course.id, access.CohortSpec(
        "Spring", datetime(2026, 3, 2, 9, 0), capacity=1))
    db.commit()
    enrollment.enroll_free(db, student, course.id)
    for _ in range(2):  # a double click
        access.join_cohort(db, student, cohort.id, BEFORE)
    db.commit()
    db.refresh(cohort)
    assert cohort.seats_taken == 1
    assert db.exec(select(Enrollment.cohort_id).where(Enrollment.user_id == student.id)).one() \
        == cohort.id


@pytest.mark.parametrize("gated", [False, True])
def test_the_lesson_page_of_a_gated_course_costs_a_fixed_number_of_statements(
        db: Session, sql_statements, instructor: User, gated: bool) -> None:
    reader = make_user(db, email=f"reader-{gated}@academy.test")
    token = accounts.start_session(db, reader)
    db.commit()

    def load(lessons_per_module: tuple[int, ...], slug: str) -> int:
        course = make_course(db, instructor, slug=slug, lessons_per_module=lessons_per_module)
        if gated:
            access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE),
                            module_id=modules_of(db, course)[-1].id)
        enrollment.enroll_free(db, reader, course.id)
        first = catalog.course_outline(db, course.slug, reader).lessons[0].id
        db.commit()
        return len(sql_statements(lambda session: lessons.open_lesson(
            session, accounts.user_for_token(session, token), course.slug, first, now=OPENS)))

    small, large = load((1, 1), f"small-{gated}"), load((5,) * 6, f"large-{gated}")
    assert small == large <= (4 if not gated else 12), (small, large)


def test_unknown_or_moved_test_clock_reads_as_the_real_one(monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "test_clock_file", tmp_path / "clock")
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5  # no file yet
    clock.move_test_clock(7 * 24 * 3600)
    assert abs((clock.now() - datetime.now(UTC)).total_seconds() - 7 * 24 * 3600) < 5
    (tmp_path / "clock").write_text("not a number")
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5


def test_production_refuses_a_test_clock(tmp_path):
    with pytest.raises(ValueError, match="ACADEMY_TEST_CLOCK_FILE"):
        Settings(env="production", secret_key="k", credential_issuer_key=TEST_ISSUER_KEY,
                 test_clock_file=tmp_path / "clock")



def test_the_beat_sweeps_releases_every_minute_on_the_platform_s_clock(db, course, learner,
                                                                       monkeypatch, tmp_path):
    from tasks.celery_app import app
    from tasks.releases import ANNOUNCE_RELEASES_TASK, announce_releases

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule[ANNOUNCE_RELEASES_TASK] == timedelta(minutes=1)
    monkeypatch.setattr(get_settings(), "test_clock_file", tmp_path / "clock")
    db.commit()
    clock.move_test_clock((BEFORE - datetime.now(UTC)).total_seconds())
    assert announce_releases() == 0
    clock.move_test_clock((AFTER - datetime.now(UTC)).total_seconds())
    assert announce_releases() == 3  # module 2's lessons, for the one learner
    assert announce_releases() == 3  # the next minute's sweep sees them again, and stays quiet
    assert rows(db, Notification, Notification.kind == unlocks.OPENED) == 3
    assert rows(db, EmailLog, EmailLog.kind == unlocks.RELEASE_EMAIL) == 1


def test_a_locked_lessons_discussion_waits_with_it(db, instructor, student):
    """Module 2 opens in sequence: its discussion is closed to a learner until it opens, whatever
    the handler or API names; staff take part all along."""
    course = make_course(db, instructor, slug="sequenced", lessons_per_module=(1, 1))
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE),
                    module_id=modules_of(db, course)[1].id)
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    first, locked = lessons_of(db, course)
    asked = discussions.start_thread(db, instructor, locked.id, kind="discussion",
                                     title="What did you build?", body="Share it here",
                                     anonymous=False, request_id=rid())
    db.commit()
    for attempt in (
            lambda: discussions.list_threads(db, student, locked.id),
            lambda: discussions.open_thread(db, student, asked.id),
            lambda: discussions.start_thread(db, student, locked.id, kind="question",
                                             title="Is this on the exam?", body="Asking early",
                                             anonymous=False, request_id=rid()),
            lambda: discussions.reply(db, student, asked.id, body="A to-do app",
                                      anonymous=False, request_id=rid())):
        with pytest.raises(Locked, match=r"^Complete “Lesson 1\.1” to open$"):
            attempt()
        db.rollback()
    assert rows(db, DiscussionPost, DiscussionPost.author_id == student.id) == 0

    progress.set_lesson_completion(db, student, first.id, True)
    discussions.reply(db, student, asked.id, body="A to-do app", anonymous=False,
                      request_id=rid())
    db.commit()
    assert [row.title for row in discussions.list_threads(db, student, locked.id)] == [
        "What did you build?"]
