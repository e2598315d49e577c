"""Quiz authoring for a course's instructor (or an admin): quiz lessons and their settings, the
course's question bank with its versions, the questions of a quiz, the certificate rule's settings,
and regrading a question whose key was wrong.

Every function checks the course-ownership rule of services/authoring.py and writes an audit entry.
A question is never changed in place: an edit adds a version, and attempts keep the versions they
were taken with (services/attempts.py). Specs are validated by services/grading.py, the format the
GIFT importer writes too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from academy_app.db import insert_or_get
from academy_app.infra import clock
from academy_app.models import (
    AttemptScoring,
    Course,
    GradeWeighting,
    Lesson,
    LessonKind,
    Module,
    Question,
    QuestionKind,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizQuestion,
    ShowAnswers,
    User,
    utcnow,
)
from academy_app.services import attempts, audit, authoring, deadlines, gift, grading
from academy_app.services.authoring import Direction
from academy_app.services.errors import Conflict, Invalid, NotFound
from academy_app.services.permissions import require_course_staff, require_staff
from academy_app.text import parse_local

QUIZ_FIELDS = ("pass_percent", "max_attempts", "attempt_scoring", "time_limit_minutes",
               "shuffle_questions", "shuffle_options", "draw_count", "draw_tag", "show_answers",
               "weight", "is_graded", "closes_at_local")
# Settings that decide who has passed: changing one recomputes every learner's outcome.
OUTCOME_FIELDS = ("pass_percent", "attempt_scoring", "is_graded")
MAX_STEM = 20_000
MAX_EXPLANATION = 10_000
MAX_POINTS = 1_000
MAX_TAGS = 10
MAX_TAG = 40
MAX_BANK_ROWS = 500


@dataclass(frozen=True)
class QuizSettingsForm:
    """As typed: numbers are text, an empty one means "none" (unlimited attempts, no limit...)."""

    pass_percent: str = "70"
    max_attempts: str = ""
    attempt_scoring: str = AttemptScoring.HIGHEST.value
    time_limit_minutes: str = ""
    shuffle_questions: bool = False
    shuffle_options: bool = False
    draw_count: str = ""
    draw_tag: str = ""
    show_answers: str = ShowAnswers.AFTER_SUBMIT.value
    weight: str = "1"
    is_graded: bool = True
    closes_at: str = ""  # "Closes on", the course's wall clock ("2026-12-09T17:00"); "": never


@dataclass(frozen=True)
class QuestionForm:
    kind: str
    stem: str
    spec: dict[str, Any]
    points: str = "1"
    explanation: str = ""
    tags: tuple[str, ...] | str = ()  # a list, or text separated by commas


@dataclass(frozen=True)
class BankQuestion:
    """A question with its latest version, answer key included: for staff only."""

    id: int
    kind: QuestionKind
    tags: tuple[str, ...]
    version_id: int
    version: int
    stem: str
    points: float
    spec: dict[str, Any]
    explanation: str
    archived: bool


@dataclass(frozen=True)
class QuizEditor:
    quiz: Quiz
    lesson: Lesson
    course: Course
    questions: list[BankQuestion] = field(default_factory=list)  # in quiz order


def quiz_for_editing(session: Session, actor: User | None, quiz_id: int) -> QuizEditor:
    quiz, lesson, course = quiz_for_staff(session, actor, quiz_id)
    questions = _bank_rows(session, select(Question, QuestionVersion)
                           .join(QuizQuestion, col(QuizQuestion.question_id) == Question.id)
                           .where(QuizQuestion.quiz_id == quiz.id)
                           .order_by(col(QuizQuestion.position), col(QuizQuestion.id)))
    return QuizEditor(quiz=quiz, lesson=lesson, course=course, questions=questions)


def create_quiz(session: Session, actor: User | None, module_id: int, title: str,
                settings: QuizSettingsForm | None = None) -> Quiz:
    """A quiz lesson at the end of a module, with its settings."""
    module, course = authoring.module_for_editing(session, actor, module_id)
    quiz = Quiz(lesson_id=0)
    _apply_settings(quiz, settings or QuizSettingsForm())
    lesson = Lesson(module_id=module.id, title=_title(title), kind=LessonKind.QUIZ, body="",
                    position=authoring.next_position(session, Lesson.position, Lesson.module_id,
                                                     module.id))
    session.add(lesson)
    session.flush()
    quiz.lesson_id = lesson.id
    session.add(quiz)
    session.flush()
    audit.record(session, actor, "quiz.create", quiz,
                 after={"title": lesson.title, "course_id": course.id,
                        **audit.snapshot(quiz, *QUIZ_FIELDS)})
    return quiz


def update_quiz_settings(session: Session, actor: User | None, quiz_id: int,
                         settings: QuizSettingsForm) -> Quiz:
    """New settings. Draws, shuffles, time limit and attempts allowed apply to attempts started
    from now on; a new close applies at once, to open attempts too (services/deadlines.py); a new
    pass mark, attempt scoring or graded flag applies to everyone at once: each
    learner's outcome, quiz-lesson progress and certificate follow it, and those whose pass or fail
    changes are told (a certificate already issued is kept, as in `regrade_question`)."""
    quiz, _, course = quiz_for_staff(session, actor, quiz_id)
    before = audit.snapshot(quiz, *QUIZ_FIELDS)
    passes = attempts.passes_before_change(session, quiz)
    _apply_settings(quiz, settings)
    quiz.updated_at = utcnow()
    session.add(quiz)
    after = audit.snapshot(quiz, *QUIZ_FIELDS)
    if any(before[name] != after[name] for name in OUTCOME_FIELDS):
        after["changed_outcomes"] = attempts.settle_settings_change(session, quiz, passes)
    if before["closes_at_local"] != after["closes_at_local"]:
        deadlines.refit_open_attempts(session, quiz, course, clock.now())
    audit.record(session, actor, "quiz.update", quiz, before, after)
    return quiz


def set_certificate_rule(session: Session, actor: User | None, course_id: int,
                         min_grade_percent: str, grade_weighting: str) -> Course:
    """The course's optional minimum overall grade ("" for none) and how quizzes weigh in it."""
    course = authoring.course_for_editing(session, actor, course_id)
    errors: dict[str, str] = {}
    minimum = _optional_int(min_grade_percent, 0, 100, "min_grade_percent",
                            "Enter a minimum grade from 0 to 100, or leave it empty", errors)
    if grade_weighting not in GradeWeighting._value2member_map_:
        errors["grade_weighting"] = "Weight quizzes by their points or by the weight you give them"
    if errors:
        raise Invalid(errors)
    before = audit.snapshot(course, "min_grade_percent", "grade_weighting")
    course.min_grade_percent, course.grade_weighting = minimum, GradeWeighting(grade_weighting)
    course.updated_at = utcnow()
    session.add(course)
    audit.record(session, actor, "course.certificate_rule", course, before,
                 audit.snapshot(course, "min_grade_percent", "grade_weighting"))
    return course


def bank(session: Session, actor: User | None, course_id: int, tag: str = "",
         include_archived: bool = False) -> list[BankQuestion]:
    """The course's question bank, newest first, optionally only the questions with a tag."""
    course = authoring.course_for_editing(session, actor, course_id)
    statement = select(Question, QuestionVersion).where(Question.course_id == course.id)
    if not include_archived:
        statement = statement.where(col(Question.archived).is_(False))
    rows = _bank_rows(session, statement.order_by(col(Question.id).desc()).limit(MAX_BANK_ROWS))
    wanted = _tag(tag) if tag else ""
    return [row for row in rows if not wanted or wanted in row.tags]


def add_question(session: Session, actor: User | None, course_id: int,
                 form: QuestionForm) -> Question:
    """A new question in the course's bank (version 1)."""
    course = authoring.course_for_editing(session, actor, course_id)
    kind, values = _question_values(form)
    question = Question(course_id=course.id, kind=kind, tags=_tags(form.tags))
    session.add(question)
    session.flush()
    version = _add_version(session, actor, question, 1, values)
    audit.record(session, actor, "question.create", question,
                 after={"kind": kind.value, "tags": question.tags, "version_id": version.id})
    return question


def add_quiz_question(session: Session, actor: User | None, quiz_id: int,
                      form: QuestionForm) -> Question:
    """A new bank question, added at the end of the quiz."""
    quiz, _, course = quiz_for_staff(session, actor, quiz_id)
    question = add_question(session, actor, course.id, form)
    attach_question(session, actor, quiz.id, question.id)
    return question


def attach_question(session: Session, actor: User | None, quiz_id: int,
                    question_id: int) -> QuizQuestion:
    """Put a bank question of the same course at the end of the quiz (again: nothing changes)."""
    quiz, _, course = quiz_for_staff(session, actor, quiz_id)
    question = session.get(Question, question_id)
    if question is None or question.course_id != course.id or question.archived:
        raise NotFound("question", question_id)
    existing = _quiz_question(session, quiz.id, question.id)
    if existing is not None:
        return existing
    link = QuizQuestion(quiz_id=quiz.id, question_id=question.id,
                        position=authoring.next_position(session, QuizQuestion.position,
                                                         QuizQuestion.quiz_id, quiz.id))
    link, ours = insert_or_get(session, link, lambda: _quiz_question(session, quiz.id,
                                                                     question.id))
    if not ours:  # another tab attached it a moment ago: the unique pair holds one
        return link
    audit.record(session, actor, "quiz.question_add", quiz, after={"question_id": question.id})
    return link


def attachable_questions(session: Session, actor: User | None, quiz_id: int
                         ) -> list[BankQuestion]:
    """The course's bank questions the quiz does not have yet (archived ones left out), newest
    first: what the editor offers to add."""
    quiz, _, course = quiz_for_staff(session, actor, quiz_id)
    in_quiz = select(QuizQuestion.question_id).where(QuizQuestion.quiz_id == quiz.id)
    return _bank_rows(session, select(Question, QuestionVersion).where(
        Question.course_id == course.id, col(Question.archived).is_(False),
        col(Question.id).not_in(in_quiz)).order_by(col(Question.id).desc()).limit(MAX_BANK_ROWS))


def detach_question(session: Session, actor: User | None, quiz_id: int, question_id: int) -> None:
    """Take a question out of the quiz; it stays in the bank, and in the attempts that had it."""
    quiz, _, _ = quiz_for_staff(session, actor, quiz_id)
    link = _quiz_question(session, quiz.id, question_id)
    if link is None:
        raise NotFound("question", question_id)
    session.delete(link)
    audit.record(session, actor, "quiz.question_remove", quiz, {"question_id": question_id}, {})


def move_question(session: Session, actor: User | None, quiz_id: int, question_id: int,
                  direction: Direction) -> None:
    quiz, _, _ = quiz_for_staff(session, actor, quiz_id)
    if direction not in (-1, 1):
        raise Invalid({"direction": "Move up or down"})
    links = list(session.exec(select(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id)
                              .order_by(col(QuizQuestion.position), col(QuizQuestion.id))))
    index = next((i for i, link in enumerate(links) if link.question_id == question_id), None)
    if index is None:
        raise NotFound("question", question_id)
    target = index + direction
    if 0 <= target < len(links):
        links[index], links[target] = links[target], links[index]
    for position, link in enumerate(links):
        link.position = position
        session.add(link)


def edit_question(session: Session, actor: User | None, question_id: int,
                  form: QuestionForm) -> QuestionVersion:
    """A new version of the question (its kind stays): new attempts get it, grades already given
    keep theirs. To change grades already given, `regrade_question`."""
    question = _question_for_staff(session, actor, question_id)
    kind, values = _question_values(form)
    if kind is not question.kind:
        raise Invalid({"kind": "A question keeps its type: add a new question instead"})
    before = {"version": question.latest_version, "tags": question.tags}
    question.latest_version += 1
    question.tags = _tags(form.tags)
    session.add(question)
    version = _add_version(session, actor, question, question.latest_version, values)
    audit.record(session, actor, "question.update", question, before,
                 {"version": question.latest_version, "tags": question.tags,
                  "version_id": version.id})
    return version


def archive_question(session: Session, actor: User | None, question_id: int) -> None:
    """Remove a question from the bank and from every quiz; attempts keep their versions of it."""
    question = _question_for_staff(session, actor, question_id)
    for link in session.exec(select(QuizQuestion).where(QuizQuestion.question_id == question.id)):
        session.delete(link)
    question.archived = True
    session.add(question)
    audit.record(session, actor, "question.archive", question, {"archived": False},
                 {"archived": True})


def regrade_question(session: Session, actor: User | None, question_id: int,
                     form: QuestionForm) -> attempts.RegradeReport:
    """Fix a question's key and regrade every attempt that had any version of it.

    The fix is a new version with the same shape (the same number of options, items or pairs), so
    every saved answer still means what the learner meant; the attempts move to it and are graded
    again, open ones included (they will be graded with it). Then each affected learner's score,
    pass or fail and quiz-lesson progress are recomputed, a certificate is issued to whoever now
    earns it, and those whose pass or fail changed are notified (services/attempts.py).

    A certificate already issued stays valid when a learner no longer qualifies: it certified the
    course as it was graded then, and taking one back is an admin's decision with a reason the
    verification page shows (certificates.revoke). The report lists those learners for that.
    """
    question = _question_for_staff(session, actor, question_id)
    current = _latest_version(session, question)
    fixed = grading.validate_spec(question.kind, form.spec)
    if grading.choice_count(question.kind, fixed) != grading.choice_count(question.kind,
                                                                          current.spec):
        raise Invalid({"spec": "A regrade fixes the key: keep the same number of options, items "
                               "or pairs so the answers given still mean the same"})
    version = edit_question(session, actor, question_id, form)
    report = attempts.regrade_to_version(session, question, version)
    audit.record(session, actor, "question.regrade", question, {"version_id": current.id},
                 {"version_id": version.id, "attempts": report.attempts,
                  "newly_passed": list(report.newly_passed),
                  "newly_failed": list(report.newly_failed)})
    return report


def regrade_reach(session: Session, actor: User | None, question_id: int) -> int:
    """How many attempts a regrade of the question would grade again: those that had any version
    of it (what the confirmation tells the instructor before `regrade_question`)."""
    question = _question_for_staff(session, actor, question_id)
    versions = set(session.exec(select(QuestionVersion.id)
                                .where(QuestionVersion.question_id == question.id)))
    layouts = session.exec(select(QuizAttempt.layout)
                           .join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id)
                           .join(Lesson, col(Lesson.id) == Quiz.lesson_id)
                           .join(Module, col(Module.id) == Lesson.module_id)
                           .where(Module.course_id == question.course_id))
    return sum(1 for layout in layouts if any(entry["version"] in versions for entry in layout))


def learner_names(session: Session, actor: User | None, course_id: int,
                  user_ids: Sequence[int]) -> list[str]:
    """The names of a regrade report's learners, for the course's staff."""
    authoring.course_for_editing(session, actor, course_id)
    if not user_ids:
        return []
    return sorted(session.exec(select(User.full_name).where(col(User.id).in_(list(user_ids)))))


def import_gift(session: Session, actor: User | None, course_id: int,
                questions: Sequence[gift.GiftQuestion]) -> list[Question]:
    """The questions read from a GIFT file (`gift.parse`), into the course's bank, all or none:
    one that the bank refuses names itself and rolls back the rest with the caller's
    transaction."""
    authoring.course_for_editing(session, actor, course_id)
    if not questions:
        raise Invalid({"gift": "There is no question to import"})
    added = []
    for number, question in enumerate(questions, start=1):
        try:
            added.append(add_question(session, actor, course_id, QuestionForm(
                question.kind, question.stem, question.spec, points=f"{question.points:g}",
                explanation=question.explanation, tags=question.tags)))
        except Invalid as exc:
            raise Invalid({"gift": f"Question {number} (“{question.title}”): {exc.message}"}
                          ) from exc
    return added


def export_gift(session: Session, actor: User | None, course_id: int, tag: str = "") -> str:
    """The bank (or its questions with `tag`) as a GIFT file, oldest first so that importing it
    keeps their order; Invalid naming each question GIFT cannot hold (gift.export)."""
    rows = list(reversed(bank(session, actor, course_id, tag)))
    if not rows:
        raise Invalid({"questions": "There is no question to export"})
    return gift.export(gift.GiftQuestion(kind=q.kind.value, title=gift.title_from(q.stem), stem=q.stem,
                                         points=q.points, spec=q.spec, explanation=q.explanation,
                                         tags=q.tags) for q in rows)


def _apply_settings(quiz: Quiz, form: QuizSettingsForm) -> None:
    errors: dict[str, str] = {}
    pass_percent = _optional_int(form.pass_percent, 0, 100, "pass_percent",
                                 "Enter a pass mark from 0 to 100", errors, required=True)
    max_attempts = _optional_int(form.max_attempts, 1, 100, "max_attempts",
                                 "Allow 1 to 100 attempts, or leave it empty for unlimited", errors)
    time_limit = _optional_int(form.time_limit_minutes, 1, 600, "time_limit_minutes",
                               "Enter a time limit of 1 to 600 minutes, or leave it empty", errors)
    draw_count = _optional_int(form.draw_count, 1, 200, "draw_count",
                               "Draw 1 to 200 questions, or leave it empty for all", errors)
    weight = _optional_int(form.weight, 0, 1000, "weight", "Enter a weight from 0 to 1000", errors,
                           required=True)
    if form.attempt_scoring not in AttemptScoring._value2member_map_:
        errors["attempt_scoring"] = "Choose how attempts count: highest, last, average or first"
    if form.show_answers not in ShowAnswers._value2member_map_:
        errors["show_answers"] = "Choose when answers are shown: after submitting, after " \
                                 "passing, or never"
    draw_tag = _tag(form.draw_tag) if str(form.draw_tag or "").strip() else ""
    try:
        closes_at = parse_local(str(form.closes_at or ""), required=False)
    except ValueError as exc:
        errors["closes_at"] = str(exc)
    if draw_tag and draw_count is None:
        errors["draw_count"] = "Say how many questions to draw from the tag"
    if errors:
        raise Invalid(errors)
    quiz.pass_percent, quiz.max_attempts, quiz.time_limit_minutes = pass_percent, max_attempts, \
        time_limit
    quiz.draw_count, quiz.draw_tag, quiz.weight = draw_count, draw_tag, weight
    quiz.attempt_scoring = AttemptScoring(form.attempt_scoring)
    quiz.show_answers = ShowAnswers(form.show_answers)
    quiz.shuffle_questions, quiz.shuffle_options = bool(form.shuffle_questions), \
        bool(form.shuffle_options)
    quiz.is_graded = bool(form.is_graded)
    quiz.closes_at_local = closes_at


def _optional_int(raw: Any, low: int, high: int, name: str, message: str,
                  errors: dict[str, str], *, required: bool = False) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text and not required:
        return None
    try:
        value = int(text)
    except ValueError:
        errors[name] = message
        return None
    if not low <= value <= high:
        errors[name] = message
        return None
    return value


def _question_values(form: QuestionForm) -> tuple[QuestionKind, dict[str, Any]]:
    errors: dict[str, str] = {}
    kind = None
    spec: dict[str, Any] = {}
    if form.kind not in QuestionKind._value2member_map_:
        errors["kind"] = "Choose a question type from the list"
    else:
        kind = QuestionKind(form.kind)
        try:
            spec = grading.validate_spec(kind, form.spec)
        except Invalid as exc:
            errors.update(exc.errors)
    stem = str(form.stem or "").strip()
    if not stem:
        errors["stem"] = "Write the question"
    elif len(stem) > MAX_STEM:
        errors["stem"] = f"Keep the question under {MAX_STEM:,} characters"
    points = grading.parse_number(str(form.points).strip() or "1")
    if points is None or not 0 < points <= MAX_POINTS:
        errors["points"] = f"Give it more than 0 and up to {MAX_POINTS} points"
    explanation = str(form.explanation or "").strip()
    if len(explanation) > MAX_EXPLANATION:
        errors["explanation"] = f"Keep the explanation under {MAX_EXPLANATION:,} characters"
    try:
        _tags(form.tags)
    except Invalid as exc:
        errors.update(exc.errors)
    if errors or kind is None:
        raise Invalid(errors)
    return kind, {"stem": stem, "spec": spec, "points": points, "explanation": explanation}


def _add_version(session: Session, actor: User | None, question: Question, number: int,
                 values: dict[str, Any]) -> QuestionVersion:
    version = QuestionVersion(question_id=question.id, number=number,
                              created_by_id=actor.id if actor else None, **values)
    session.add(version)
    session.flush()
    return version


def _tags(raw: tuple[str, ...] | list[str] | str) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else list(raw or ())
    tags = sorted({_tag(item) for item in items if str(item).strip()})
    if len(tags) > MAX_TAGS:
        raise Invalid({"tags": f"Give up to {MAX_TAGS} tags"})
    return tags


def _tag(raw: Any) -> str:
    tag = "-".join(str(raw or "").lower().split())
    if not tag or len(tag) > MAX_TAG:
        raise Invalid({"tags": f"Keep each tag under {MAX_TAG} characters"})
    return tag


def _title(raw: str) -> str:
    title = " ".join(str(raw or "").split())
    if not 1 <= len(title) <= 160:
        raise Invalid({"title": "Give the quiz a title of up to 160 characters"})
    return title


def quiz_for_staff(session: Session, actor: User | None, quiz_id: int
                   ) -> tuple[Quiz, Lesson, Course]:
    """A quiz, its lesson and course, for the course's instructor or an admin."""
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        require_staff(actor)
        raise NotFound("quiz", quiz_id)
    lesson, course = authoring.lesson_for_editing(session, actor, quiz.lesson_id)
    return quiz, lesson, course


def _question_for_staff(session: Session, actor: User | None, question_id: int) -> Question:
    question = session.get(Question, question_id)
    if question is None:
        require_staff(actor)
        raise NotFound("question", question_id)
    require_course_staff(actor, session.get_one(Course, question.course_id))
    if question.archived:
        raise Conflict("This question was removed from the bank")
    return question


def _quiz_question(session: Session, quiz_id: int, question_id: int) -> QuizQuestion | None:
    return session.exec(select(QuizQuestion).where(QuizQuestion.quiz_id == quiz_id,
                                                   QuizQuestion.question_id == question_id)).first()


def _latest_version(session: Session, question: Question) -> QuestionVersion:
    return session.exec(select(QuestionVersion).where(
        QuestionVersion.question_id == question.id,
        QuestionVersion.number == question.latest_version)).one()


def _bank_rows(session: Session, statement: Any) -> list[BankQuestion]:
    statement = statement.join(QuestionVersion, (col(QuestionVersion.question_id) == Question.id)
                               & (col(QuestionVersion.number) == Question.latest_version))
    return [BankQuestion(id=q.id, kind=q.kind, tags=tuple(q.tags), version_id=v.id,
                         version=v.number, stem=v.stem, points=v.points, spec=v.spec,
                         explanation=v.explanation, archived=q.archived)
            for q, v in session.exec(statement)]

