"""Quizzes through the services, on SQLite and PostgreSQL: authoring, taking, attempt policies, the
time limit, draws, versions, the answer-key-free view, bad input, the certificate rule, regrades and
the instructor's summary."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, func, select

from academy_app.models import (
    AttemptAnswer,
    AuditEntry,
    Certificate,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonProgress,
    Module,
    Notification,
    QuizAttempt,
    Role,
    User,
)
from academy_app.services import (
    attempts,
    authoring,
    certificate_rule,
    certificates,
    enrollment,
    gift,
    progress,
    quiz_reports,
    quizzes,
)
from academy_app.services.errors import Conflict, Invalid, NotFound, PermissionDenied
from academy_app.services.quizzes import QuestionForm, QuizSettingsForm
from tests.factories import make_course, make_user, race

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

FORMS = {
    "single": QuestionForm("single", "What is the capital of France?", {"options": [
        {"text": "Paris", "correct": True, "feedback": "Right: since 987"},
        {"text": "Lyon", "correct": False, "feedback": "Lyon is the third city"}]},
        explanation="Paris has been the capital for a thousand years."),
    "multiple": QuestionForm("multiple", "Which are primes?", {"options": [
        {"text": "2", "correct": True}, {"text": "3", "correct": True}, {"text": "4"}],
        "scoring": "per_option", "penalty": 1}, points="2"),
    "true_false": QuestionForm("true_false", "Water boils at 100 °C at sea level.",
                               {"answer": True}),
    "numeric": QuestionForm("numeric", "π to two decimals?",
                            {"answer": 3.14, "tolerance": 0.01}),
    "short_text": QuestionForm("short_text", "Who created Python?",
                               {"accepted": ["Guido van Rossum"]}),
    "ordering": QuestionForm("ordering", "Order these", {"items": ["first", "second", "third"]}),
    "matching": QuestionForm("matching", "Match the sounds",
                             {"pairs": [["cat", "meow"], ["dog", "woof"], ["cow", "moo"]]}),
}
RIGHT = {"single": {"choice": 0}, "multiple": {"choices": [0, 1]}, "true_false": {"value": True},
         "numeric": {"value": "3.141"}, "short_text": {"text": " guido  VAN rossum"},
         "ordering": {"order": [0, 1, 2]}, "matching": {"matches": {"0": 0, "1": 1, "2": 2}}}
WRONG = {"single": {"choice": 1}, "multiple": {"choices": [2]}, "true_false": {"value": False},
         "numeric": {"value": 3}, "short_text": {"text": "Linus"},
         "ordering": {"order": [1, 2, 0]}, "matching": {"matches": {"0": 1, "1": 0}}}


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, lessons_per_module=(1,))


@pytest.fixture
def module(db, course) -> Module:
    return db.exec(select(Module).where(Module.course_id == course.id)).one()


@pytest.fixture
def learner(db, student, course) -> User:
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    return student


def make_quiz(db: Session, instructor: User, module: Module, kinds=tuple(FORMS), **settings):
    quiz = quizzes.create_quiz(db, instructor, module.id, "Checkpoint",
                               QuizSettingsForm(**settings))
    for kind in kinds:
        quizzes.add_quiz_question(db, instructor, quiz.id, FORMS[kind])
    db.commit()
    return quiz


def answer(db, user, view, responses, now=None):
    for question in view.questions:
        if question.kind.value in responses:
            attempts.save_answer(db, user, view.attempt_id, question.version_id,
                                 responses[question.kind.value], now=now)
    db.commit()


def take(db, user, quiz, responses, now=None):
    view = attempts.start_attempt(db, user, quiz.id, now=now)
    answer(db, user, view, responses, now=now)
    result = attempts.submit_attempt(db, user, view.attempt_id, now=now)
    db.commit()
    return result


def complete_text_lessons(db, user, course):
    for lesson in db.exec(select(Lesson).join(Module).where(Module.course_id == course.id,
                                                            Lesson.kind != "quiz")):
        progress.set_lesson_completion(db, user, lesson.id, True)
    db.commit()


def certificate_of(db, user, course):
    return db.exec(select(Certificate).where(Certificate.user_id == user.id,
                                             Certificate.course_id == course.id)).first()


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_every_kind_is_graded_and_passing_completes_the_quiz_and_earns_the_certificate(
        db, instructor, course, module, learner):
    quiz = make_quiz(db, instructor, module)
    complete_text_lessons(db, learner, course)
    failed = take(db, learner, quiz, WRONG)
    assert (failed.percent, failed.passed, failed.quiz_passed) == (0, False, False)
    assert certificate_of(db, learner, course) is None
    eligibility = certificate_rule.evaluate(db, learner.id, course.id)
    assert eligibility.missing == ("Pass the quiz “Checkpoint”",)

    result = take(db, learner, quiz, RIGHT)
    assert (result.number, result.points, result.max_points) == (2, 8, 8)
    assert result.passed and result.quiz_passed and result.percent == 100
    assert all(q.correct for q in result.questions)
    single = next(q for q in result.questions if q.question.kind == "single")
    assert (single.key, single.feedback) == ("Paris", ("Right: since 987",))
    assert single.explanation.startswith("Paris has been")
    assert db.exec(select(LessonProgress).where(
        LessonProgress.user_id == learner.id, LessonProgress.lesson_id == quiz.lesson_id)).one()
    assert db.exec(select(Enrollment.status).where(Enrollment.user_id == learner.id)).one() \
        is EnrollmentStatus.COMPLETED
    assert certificate_of(db, learner, course) is not None
    assert certificate_rule.evaluate(db, learner.id, course.id).eligible


def test_the_learner_view_of_an_attempt_carries_no_answer_key(db, instructor, module, learner):
    quiz = make_quiz(db, instructor, module, shuffle_options=True)
    view = attempts.start_attempt(db, learner, quiz.id)
    db.commit()
    shown = json.dumps(dataclasses.asdict(view), default=str)
    for secret in ("correct", "accepted", "tolerance", "3.14", "Guido", "feedback", "pairs",
                   "explanation", "Paris has been", "spec"):
        assert secret not in shown
    ordering = next(q for q in view.questions if q.kind == "ordering")
    assert [c.index for c in ordering.choices] != [0, 1, 2]  # the shown order is not the key
    matching = next(q for q in view.questions if q.kind == "matching")
    assert [c.index for c in matching.targets] != [0, 1, 2]
    assert {c.text for c in matching.targets} == {"meow", "woof", "moo"}


def test_a_quiz_lesson_cannot_be_marked_complete_by_hand(db, instructor, module, learner):
    quiz = make_quiz(db, instructor, module, kinds=("single",))
    with pytest.raises(Conflict, match="once you pass it"):
        progress.set_lesson_completion(db, learner, quiz.lesson_id, True)


@pytest.mark.parametrize(("scoring", "kept", "passed"), [
    ("highest", 100, True), ("last", 0, False), ("average", 50, False), ("first", 100, True)])
def test_attempt_scoring_policies(db, instructor, module, learner, scoring, kept, passed):
    quiz = make_quiz(db, instructor, module, kinds=("single", "true_false"),
                     attempt_scoring=scoring)
    take(db, learner, quiz, RIGHT)  # 100%
    take(db, learner, quiz, {"single": RIGHT["single"]})  # 50%
    take(db, learner, quiz, WRONG)  # 0%
    status = attempts.quiz_status(db, learner, quiz.id)
    assert [a.percent for a in status.attempts] == [100, 50, 0]
    assert (status.kept_percent, status.passed) == (kept, passed)
    done = db.exec(select(LessonProgress).where(LessonProgress.lesson_id == quiz.lesson_id)).first()
    assert (done is not None) is passed


def test_attempts_are_limited_resumed_not_doubled_and_submitted_once(db, instructor, module,
                                                                     learner):
    quiz = make_quiz(db, instructor, module, kinds=("single",), max_attempts="2")
    first = attempts.start_attempt(db, learner, quiz.id)
    again = attempts.start_attempt(db, learner, quiz.id)  # a double click resumes it
    assert again.attempt_id == first.attempt_id
    answer(db, learner, first, RIGHT)
    result = attempts.submit_attempt(db, learner, first.attempt_id)
    assert attempts.submit_attempt(db, learner, first.attempt_id) == result
    db.commit()
    with pytest.raises(Conflict, match="submitted"):
        attempts.save_answer(db, learner, first.attempt_id, first.questions[0].version_id,
                             WRONG["single"])
    db.rollback()
    take(db, learner, quiz, WRONG)
    with pytest.raises(Conflict, match="used all 2 attempts"):
        attempts.start_attempt(db, learner, quiz.id)
    db.rollback()
    assert count(db, QuizAttempt) == 2
    assert not attempts.quiz_status(db, learner, quiz.id).can_start


def test_concurrent_starts_and_submits_make_one_attempt_graded_once(engine, db, instructor, module,
                                                                    learner):
    quiz = make_quiz(db, instructor, module, kinds=("single",))
    assert race(engine, 4, lambda s, _: attempts.start_attempt(s, learner, quiz.id)) == []
    attempt_id = db.exec(select(QuizAttempt.id)).one()
    view = attempts.attempt_view(db, learner, attempt_id)
    answer(db, learner, view, RIGHT)
    assert race(engine, 4, lambda s, _: attempts.submit_attempt(s, learner, attempt_id)) == []
    assert count(db, QuizAttempt) == 1
    assert db.exec(select(QuizAttempt.percent)).one() == 100


def test_the_time_limit_is_the_servers(db, instructor, module, learner):
    quiz = make_quiz(db, instructor, module, kinds=("single", "true_false"),
                     time_limit_minutes="10")
    view = attempts.start_attempt(db, learner, quiz.id, now=T0)
    assert view.deadline is not None
    single, true_false = sorted(view.questions, key=lambda q: q.kind != "single")
    attempts.save_answer(db, learner, view.attempt_id, single.version_id, RIGHT["single"],
                         now=T0 + timedelta(minutes=5))
    db.commit()
    with pytest.raises(Conflict, match="Time is up"):
        attempts.save_answer(db, learner, view.attempt_id, true_false.version_id,
                             RIGHT["true_false"], now=T0 + timedelta(minutes=11))
    db.rollback()
    # Resumable until the deadline; then whatever reads it grades it with what was saved.
    assert attempts.start_attempt(db, learner, quiz.id, now=T0 + timedelta(minutes=9)) \
        .attempt_id == view.attempt_id
    status = attempts.quiz_status(db, learner, quiz.id, now=T0 + timedelta(minutes=30))
    db.commit()
    assert status.open_attempt_id is None and status.attempts[0].percent == 50
    late = attempts.submit_attempt(db, learner, view.attempt_id, now=T0 + timedelta(hours=2))
    assert late.percent == 50
    assert late.submitted_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=10)


def test_a_late_submit_grades_only_what_was_saved_by_the_deadline(db, instructor, module,
                                                                  learner):
    quiz = make_quiz(db, instructor, module, kinds=("single",), time_limit_minutes="1")
    view = attempts.start_attempt(db, learner, quiz.id, now=T0)
    answer(db, learner, view, RIGHT, now=T0 + timedelta(seconds=30))
    result = attempts.submit_attempt(db, learner, view.attempt_id, now=T0 + timedelta(minutes=5))
    assert result.percent == 100


def test_questions_are_drawn_from_the_bank_by_tag(db, instructor, course, module, learner):
    algebra = [quizzes.add_question(db, instructor, course.id, dataclasses.replace(
        FORMS["numeric"], stem=f"Algebra {n}", tags="Algebra, basics")) for n in range(5)]
    quizzes.add_question(db, instructor, course.id, dataclasses.replace(FORMS["single"],
                                                                        tags=("geometry",)))
    quiz = make_quiz(db, instructor, module, kinds=(), draw_count="3", draw_tag="algebra",
                     shuffle_questions=True)
    view = attempts.start_attempt(db, learner, quiz.id)
    stems = [q.stem for q in view.questions]
    assert len(set(stems)) == 3 and all(stem.startswith("Algebra") for stem in stems)
    assert [q.stem for q in quizzes.bank(db, instructor, course.id, tag="geometry")] == [
        FORMS["single"].stem]
    assert len(algebra) == 5
    with pytest.raises(Invalid, match="how many questions"):
        quizzes.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm(draw_tag="x"))


def test_an_attempt_keeps_the_versions_it_was_taken_with(db, instructor, module, learner):
    quiz = make_quiz(db, instructor, module, kinds=("single",))
    view = attempts.start_attempt(db, learner, quiz.id)
    answer(db, learner, view, RIGHT)
    question_id = quizzes.quiz_for_editing(db, instructor, quiz.id).questions[0].id
    flipped = dataclasses.replace(FORMS["single"], stem="Capital? (edited)", spec={"options": [
        {"text": "Paris"}, {"text": "Lyon", "correct": True}]})
    version = quizzes.edit_question(db, instructor, question_id, flipped)
    db.commit()
    assert version.number == 2
    first = attempts.submit_attempt(db, learner, view.attempt_id)
    assert first.percent == 100 and first.questions[0].question.stem == FORMS["single"].stem
    second = attempts.start_attempt(db, learner, quiz.id)
    assert second.questions[0].stem == "Capital? (edited)"
    with pytest.raises(Invalid, match="keeps its type"):
        quizzes.edit_question(db, instructor, question_id, FORMS["true_false"])


def test_show_answers_after_pass_or_never(db, instructor, module, learner):
    quiz = make_quiz(db, instructor, module, kinds=("single",), show_answers="after_pass")
    failed = take(db, learner, quiz, WRONG)
    assert not failed.answers_shown and failed.questions[0].key == ""
    assert failed.questions[0].feedback == () and failed.questions[0].explanation == ""
    assert take(db, learner, quiz, RIGHT).questions[0].key == "Paris"
    quizzes.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm(show_answers="never"))
    db.commit()
    assert attempts.attempt_result(db, learner, failed.attempt_id).questions[0].key == ""
    assert attempts.attempt_for_staff(db, instructor, failed.attempt_id).questions[0].key == "Paris"
    with pytest.raises(PermissionDenied):
        attempts.attempt_for_staff(db, learner, failed.attempt_id)


def test_bad_input_is_refused_and_records_nothing(db, instructor, course, module, learner):
    quiz = make_quiz(db, instructor, module, kinds=("single", "short_text"))
    other_course = make_course(db, instructor, lessons_per_module=(1,))
    foreign = quizzes.add_question(db, instructor, other_course.id, FORMS["true_false"])
    db.commit()
    view = attempts.start_attempt(db, learner, quiz.id)
    db.commit()
    single = next(q for q in view.questions if q.kind == "single")
    text = next(q for q in view.questions if q.kind == "short_text")
    stranger = make_user(db)
    refusals = [
        (Invalid, lambda: attempts.save_answer(db, learner, view.attempt_id, 10_000,
                                               RIGHT["single"])),
        (Invalid, lambda: attempts.save_answer(db, learner, view.attempt_id, "1; drop",
                                               RIGHT["single"])),
        (Invalid, lambda: attempts.save_answer(db, learner, view.attempt_id, single.version_id,
                                               {"choice": 99})),
        (Invalid, lambda: attempts.save_answer(db, learner, view.attempt_id, single.version_id,
                                               {"choice": [0] * 100_000})),
        (Invalid, lambda: attempts.save_answer(db, learner, view.attempt_id, text.version_id,
                                               {"text": "x" * 1_000_000})),
        (Invalid, lambda: attempts.save_answer(db, learner, view.attempt_id, text.version_id,
                                               "not an object")),
        (NotFound, lambda: attempts.save_answer(db, stranger, view.attempt_id, single.version_id,
                                                RIGHT["single"])),
        (NotFound, lambda: attempts.submit_attempt(db, stranger, view.attempt_id)),
        (NotFound, lambda: attempts.attempt_result(db, learner, "1 OR 1=1")),
        (PermissionDenied, lambda: attempts.start_attempt(db, stranger, quiz.id)),
        (NotFound, lambda: attempts.start_attempt(db, learner, 987_654)),
        (NotFound, lambda: quizzes.attach_question(db, instructor, quiz.id, foreign.id)),
        (PermissionDenied, lambda: quizzes.add_quiz_question(db, learner, quiz.id,
                                                             FORMS["single"])),
        (PermissionDenied, lambda: quizzes.update_quiz_settings(
            db, make_user(db, Role.INSTRUCTOR), quiz.id, QuizSettingsForm())),
        (Invalid, lambda: quizzes.add_quiz_question(db, instructor, quiz.id, dataclasses.replace(
            FORMS["short_text"], spec={"accepted": [], "regex": "(x+)+y"}))),
        (Invalid, lambda: quizzes.update_quiz_settings(db, instructor, quiz.id,
                                                       QuizSettingsForm(pass_percent="101"))),
        (Conflict, lambda: attempts.attempt_result(db, learner, view.attempt_id)),
    ]
    answers_before, audit_before = count(db, AttemptAnswer), count(db, AuditEntry)
    for error, call in refusals:
        with pytest.raises(error):
            call()
        db.rollback()
    assert (count(db, AttemptAnswer), count(db, AuditEntry)) == (answers_before, audit_before)
    # The service says what went wrong, field by field.
    with pytest.raises(Invalid) as refused:
        quizzes.add_quiz_question(db, instructor, quiz.id, QuestionForm(
            "single", "", {"options": []}, points="0"))
    assert set(refused.value.errors) == {"spec", "stem", "points"}


def test_a_cancelled_learner_can_no_longer_take_the_quiz(db, instructor, module, learner):
    quiz = make_quiz(db, instructor, module, kinds=("single",))
    row = db.exec(select(Enrollment).where(Enrollment.user_id == learner.id)).one()
    row.status = EnrollmentStatus.CANCELLED
    db.add(row)
    db.commit()
    with pytest.raises(PermissionDenied, match="Enroll"):
        attempts.start_attempt(db, learner, quiz.id)


def test_the_certificate_rule_wants_every_lesson_every_graded_quiz_and_the_minimum_grade(
        db, instructor, course, module, learner):
    graded = make_quiz(db, instructor, module, kinds=("single", "true_false"))
    practice = make_quiz(db, instructor, module, kinds=("single",), is_graded=False)
    quizzes.set_certificate_rule(db, instructor, course.id, "80", "points")
    db.commit()
    before = certificate_rule.evaluate(db, learner.id, course.id)
    assert not before.eligible and before.lessons_missing == ("Lesson 1.1", "Checkpoint",
                                                               "Checkpoint")
    complete_text_lessons(db, learner, course)
    take(db, learner, practice, WRONG)  # a practice quiz is complete once taken
    take(db, learner, graded, {"single": RIGHT["single"], "true_false": WRONG["true_false"]})
    assert certificate_of(db, learner, course) is None
    quizzes.update_quiz_settings(db, instructor, graded.id, QuizSettingsForm(pass_percent="50"))
    db.commit()
    take(db, learner, graded, {"single": RIGHT["single"], "true_false": WRONG["true_false"]})
    assert db.exec(select(Enrollment.status)).one() is EnrollmentStatus.COMPLETED
    rule = certificate_rule.evaluate(db, learner.id, course.id)
    assert (rule.eligible, rule.grade_percent, rule.quizzes_missing) == (False, 50, ())
    assert rule.missing == ("Reach an overall grade of 80% (now 50%)",)
    assert certificate_rule.for_learner(db, learner, course.id) == rule  # the course page's
    with pytest.raises(NotFound):
        certificate_rule.for_learner(db, make_user(db), course.id)
    assert [(s.quiz_id, s.attempts[-1].percent) for s in attempts.course_quiz_statuses(
        db, learner, course.id)] == [(graded.id, 50), (practice.id, 0)]
    assert certificate_of(db, learner, course) is None
    assert certificates.issue_missing(db) == (0, None)  # the sweep asks the same rule
    take(db, learner, graded, RIGHT)  # highest: 100%
    assert certificate_of(db, learner, course) is not None  # issued as the grade was reached


def test_the_overall_grade_weights_quizzes_by_points_or_by_weight(db, instructor, course, module,
                                                                  learner):
    heavy = make_quiz(db, instructor, module, kinds=("multiple", "single"), weight="1")  # 3 points
    light = make_quiz(db, instructor, module, kinds=("single",), weight="3")  # 1 point
    take(db, learner, heavy, RIGHT)
    take(db, learner, light, WRONG)
    by_points = certificate_rule.evaluate(db, learner.id, course.id).grade_percent
    quizzes.set_certificate_rule(db, instructor, course.id, "", "quiz_weight")
    db.commit()
    by_weight = certificate_rule.evaluate(db, learner.id, course.id).grade_percent
    assert (by_points, by_weight) == (75, 25)
    with pytest.raises(Invalid):
        quizzes.set_certificate_rule(db, instructor, course.id, "120", "popularity")


def test_regrading_a_wrong_key_flips_pass_and_fail_and_issues_the_certificate(
        db, instructor, course, module, learner):
    wrong_key = dataclasses.replace(FORMS["single"], spec={"options": [
        {"text": "Paris"}, {"text": "Lyon", "correct": True}]})
    quiz = quizzes.create_quiz(db, instructor, module.id, "Capitals", QuizSettingsForm())
    question = quizzes.add_quiz_question(db, instructor, quiz.id, wrong_key)
    db.commit()
    other = make_user(db)
    enrollment.enroll_free(db, other, course.id)
    for user in (learner, other):
        complete_text_lessons(db, user, course)
    assert not take(db, learner, quiz, {"single": {"choice": 0}}).passed  # Paris: marked wrong
    assert take(db, other, quiz, {"single": {"choice": 1}}).passed  # Lyon: marked right
    assert certificate_of(db, learner, course) is None
    assert certificate_of(db, other, course) is not None
    open_attempt = attempts.start_attempt(db, learner, quiz.id)
    db.commit()

    report = quizzes.regrade_question(db, instructor, question.id, FORMS["single"])
    db.commit()
    assert (report.attempts, report.newly_passed, report.newly_failed) == (3, (learner.id,),
                                                                           (other.id,))
    assert report.keeping_certificate == (other.id,)
    assert certificate_of(db, learner, course) is not None
    assert certificate_of(db, other, course).revoked_at is None  # kept: see regrade_question
    assert attempts.quiz_status(db, learner, quiz.id).passed
    assert not attempts.quiz_status(db, other, quiz.id).passed
    assert db.exec(select(LessonProgress).where(LessonProgress.user_id == other.id,
                                                LessonProgress.lesson_id == quiz.lesson_id)
                   ).first() is None
    told = {n.user_id for n in db.exec(select(Notification).where(
        Notification.kind == "quiz.regraded"))}
    assert told == {learner.id, other.id}
    assert db.exec(select(AuditEntry.action).where(AuditEntry.action == "question.regrade")).one()
    resumed = attempts.attempt_view(db, learner, open_attempt.attempt_id)
    assert resumed.questions[0].version_id == report.version_id  # an open attempt moves too
    with pytest.raises(Invalid, match="same number of options"):
        quizzes.regrade_question(db, instructor, question.id, dataclasses.replace(
            FORMS["single"], spec={"options": [{"text": "Paris", "correct": True},
                                               {"text": "Lyon"}, {"text": "Nice"}]}))


def test_the_instructors_summary(db, instructor, course, module, learner):
    quiz = make_quiz(db, instructor, module, kinds=("single", "true_false"))
    others = [make_user(db) for _ in range(3)]
    for user in others:
        enrollment.enroll_free(db, user, course.id)
    db.commit()
    take(db, learner, quiz, RIGHT)
    take(db, others[0], quiz, {"single": RIGHT["single"]})
    take(db, others[1], quiz, WRONG)
    take(db, others[2], quiz, WRONG)
    summary = quiz_reports.quiz_summary(db, instructor, quiz.id)
    assert (summary.attempts, summary.learners, summary.pass_rate) == (4, 4, 25)
    assert summary.histogram == (2, 0, 0, 0, 0, 1, 0, 0, 0, 1)
    single = next(q for q in summary.questions if q.kind == "single")
    assert single.percent_correct == 50
    assert (single.most_chosen_wrong, single.most_chosen_wrong_count) == ("Lyon", 2)
    assert single.discrimination is not None and single.discrimination > 0.8
    assert summary.recent[0].learner == others[2].full_name
    with pytest.raises(PermissionDenied):
        quiz_reports.quiz_summary(db, learner, quiz.id)


def test_deleting_a_quiz_lesson_takes_its_quiz_and_attempts_with_it(db, instructor, module,
                                                                     learner):
    quiz = make_quiz(db, instructor, module, kinds=("single",))
    take(db, learner, quiz, RIGHT)
    authoring.delete_lesson(db, instructor, quiz.lesson_id)
    db.commit()
    assert count(db, QuizAttempt) == 0
    with pytest.raises(Invalid, match="quiz editor"):
        authoring.add_lesson(db, instructor, module.id, authoring.LessonForm("A", kind="quiz"))
    assert db.exec(select(func.count()).select_from(Lesson).where(
        col(Lesson.kind) == "quiz")).one() == 0


GIFT_SAMPLE = """$CATEGORY: $course$/top/Geography
::Capital::What is the capital of France? {=Paris#Yes ~Lyon#No ~Nice}

Which are primes? {~%50%2 ~%50%3 ~%-100%4}

The sun is a star. {T}

::Pi::Pi to two decimals? {#3.14:0.01}

Who created Python? {=Guido van Rossum =Guido}

Match the capitals. {=Canada -> Ottawa =Italy -> Rome =Japan -> Tokyo}
"""


def test_questions_read_from_gift_are_valid_for_the_bank(db, instructor, course):
    """The GIFT reader (services/gift.py) writes the spec format grading.py validates."""
    read = gift.parse(GIFT_SAMPLE)
    assert read.errors == [] and len(read.questions) == 6
    for question in read.questions:
        quizzes.add_question(db, instructor, course.id, QuestionForm(
            question.kind, question.stem, question.spec, points=str(question.points),
            explanation=question.explanation, tags=question.tags))
    db.commit()
    bank = quizzes.bank(db, instructor, course.id, tag="geography")
    assert {q.kind.value for q in bank} == set(FORMS) - {"ordering"}
    exported = gift.export(gift.GiftQuestion(q.kind.value, "", q.stem, q.points, q.spec,
                                             q.explanation, q.tags) for q in bank)
    assert len(gift.parse(exported).questions) == 6


def test_authoring_orders_removes_and_audits_questions(db, instructor, course, module, learner):
    quiz = make_quiz(db, instructor, module, kinds=("single", "true_false", "numeric"))
    ids = [q.id for q in quizzes.quiz_for_editing(db, instructor, quiz.id).questions]
    quizzes.move_question(db, instructor, quiz.id, ids[2], -1)
    quizzes.move_question(db, instructor, quiz.id, ids[0], -1)  # already first: stays
    assert [q.id for q in quizzes.quiz_for_editing(db, instructor, quiz.id).questions] == [
        ids[0], ids[2], ids[1]]
    taken = take(db, learner, quiz, RIGHT)
    quizzes.detach_question(db, instructor, quiz.id, ids[1])
    quizzes.archive_question(db, instructor, ids[2])
    db.commit()
    assert [q.id for q in quizzes.quiz_for_editing(db, instructor, quiz.id).questions] == [ids[0]]
    assert [q.id for q in quizzes.bank(db, instructor, course.id)] == [ids[1], ids[0]]
    kept = attempts.attempt_result(db, learner, taken.attempt_id)
    assert len(kept.questions) == 3 and kept.percent == 100  # the attempt keeps what it had
    with pytest.raises(Conflict, match="removed"):
        quizzes.edit_question(db, instructor, ids[2], FORMS["numeric"])
    assert set(db.exec(select(AuditEntry.action))) >= {
        "quiz.create", "question.create", "quiz.question_add", "quiz.question_remove",
        "question.archive"}


def test_a_bank_question_is_attached_once_and_only_by_the_courses_staff(engine, db, instructor,
                                                                         course, module):
    quiz = make_quiz(db, instructor, module, kinds=("single",))
    banked = quizzes.add_question(db, instructor, course.id, FORMS["numeric"])
    archived = quizzes.add_question(db, instructor, course.id, FORMS["true_false"])
    quizzes.archive_question(db, instructor, archived.id)
    foreign = quizzes.add_question(db, instructor, make_course(db, instructor).id,
                                   FORMS["short_text"])
    db.commit()
    ids = instructor.id, quiz.id, banked.id  # for the threads below, which share no session
    # Offered: what the course's bank has and the quiz has not; never archived or foreign ones.
    assert [q.id for q in quizzes.attachable_questions(db, instructor, quiz.id)] == [banked.id]
    with pytest.raises(PermissionDenied):
        quizzes.attachable_questions(db, make_user(db, Role.INSTRUCTOR), quiz.id)
    for refused, who, question in [(NotFound, instructor, archived.id),
                                   (NotFound, instructor, foreign.id),
                                   (PermissionDenied, make_user(db, Role.INSTRUCTOR), banked.id),
                                   (PermissionDenied, make_user(db), banked.id)]:
        with pytest.raises(refused):
            quizzes.attach_question(db, who, ids[1], question)
    db.commit()
    # A double click, or two tabs at the same moment: one link, one audit entry.
    assert race(engine, 4, lambda s, _: quizzes.attach_question(
        s, s.get_one(User, ids[0]), ids[1], ids[2])) == []
    quizzes.attach_question(db, instructor, quiz.id, banked.id)
    db.commit()
    assert [q.id for q in quizzes.quiz_for_editing(db, instructor, quiz.id).questions][-1] \
        == banked.id
    assert quizzes.attachable_questions(db, instructor, quiz.id) == []
    added = db.exec(select(AuditEntry.after).where(AuditEntry.action == "quiz.question_add"))
    assert [json.loads(after)["question_id"] for after in added].count(banked.id) == 1


def test_results_as_csv_with_formulas_neutralised(db, instructor, course, module):
    quiz = make_quiz(db, instructor, module, kinds=("single",))
    sly = make_user(db, name="=HYPERLINK(1)")
    enrollment.enroll_free(db, sly, course.id)
    db.commit()
    take(db, sly, quiz, RIGHT)
    lines = quiz_reports.results_csv(db, instructor, quiz.id).splitlines()
    assert lines[0].startswith("Name,Email,Attempt")
    assert lines[1].startswith("'=HYPERLINK(1),") and lines[1].endswith(",1,1,100.0,yes")


def test_a_new_pass_mark_or_scoring_applies_to_every_learner_at_once(db, instructor, module,
                                                                     learner):
    quiz = make_quiz(db, instructor, module, kinds=("single", "true_false"))
    take(db, learner, quiz, {"single": RIGHT["single"]})  # 50%
    take(db, learner, quiz, RIGHT)  # 100%

    def lesson_done() -> bool:
        return db.exec(select(LessonProgress).where(
            LessonProgress.lesson_id == quiz.lesson_id)).first() is not None

    assert lesson_done()
    quizzes.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm(attempt_scoring="first"))
    db.commit()
    assert not lesson_done() and not attempts.quiz_status(db, learner, quiz.id).passed
    quizzes.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm(
        attempt_scoring="first", pass_percent="50"))
    db.commit()
    status = attempts.quiz_status(db, learner, quiz.id)
    assert lesson_done() and status.passed and [a.passed for a in status.attempts] == [True, True]
    told = db.exec(select(Notification.title).where(Notification.kind == "quiz.regraded")
                   .order_by(col(Notification.id))).all()
    assert told == ["Your result on “Checkpoint” changed", "You passed “Checkpoint”"]
    quizzes.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm(
        attempt_scoring="first", pass_percent="50", shuffle_options=True))
    db.commit()
    assert len(db.exec(select(Notification.id).where(
        Notification.kind == "quiz.regraded")).all()) == 2  # nothing that decides a pass changed


def test_the_rule_in_words_names_the_pass_marks_and_the_minimum_grade(db, instructor, course,
                                                                      module):
    assert certificate_rule.criteria(db, course.id) == "Completed every lesson."
    make_quiz(db, instructor, module, pass_percent="70")
    make_quiz(db, instructor, module, pass_percent="80")
    assert certificate_rule.criteria(db, course.id) == (
        "Completed every lesson and passed every graded quiz (pass mark 70 % or 80 %).")
    quizzes.set_certificate_rule(db, instructor, course.id, "75", "points")
    assert certificate_rule.criteria(db, course.id).endswith(
        "with an overall grade of at least 75 % (weighted by points).")
