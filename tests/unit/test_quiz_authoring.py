"""The services behind the instructor's quiz pages: GIFT import and export of the bank, how many
attempts a regrade touches, and the names in a regrade's report."""

from __future__ import annotations

import pytest
from sqlmodel import select

from academy_app.models import Question
from academy_app.services import gift, quizzes
from academy_app.services.errors import Invalid, PermissionDenied
from tests.factories import make_user
from tests.unit import test_quizzes as base
from tests.unit.test_quizzes import FORMS, RIGHT, WRONG, count, make_quiz, take

# The fixtures of the quiz service tests: a course with one module, and a learner enrolled in it.
course, module, learner = base.course, base.module, base.learner

SMALL_GIFT = """// two questions and a broken one
$CATEGORY: $course$/top/Capitals

::Capital::What is the capital of France? {=Paris ~Lyon ~Nice}

Is the sky green? {F}

An essay with no answers {}
"""


def test_gift_import_adds_every_question_or_none(db, instructor, course):
    read = gift.parse(SMALL_GIFT)
    assert [e.line for e in read.errors] == [8]
    added = quizzes.import_gift(db, instructor, course.id, read.questions)
    db.commit()
    assert [q.kind.value for q in added] == ["single", "true_false"]
    assert [q.tags for q in added] == [["capitals"], ["capitals"]]
    bad = gift.GiftQuestion("numeric", "Broken", "How many?", 1.0, {"answer": "many"}, "", ())
    with pytest.raises(Invalid, match=r"Question 2 .“Broken”.: Give the right answer as a number"):
        quizzes.import_gift(db, instructor, course.id, [read.questions[0], bad])
    db.rollback()
    assert count(db, Question) == 2
    with pytest.raises(Invalid, match="no question"):
        quizzes.import_gift(db, instructor, course.id, [])


def test_gift_export_keeps_the_bank_order_and_names_what_gift_cannot_hold(db, instructor,
                                                                          course):
    quizzes.import_gift(db, instructor, course.id, gift.parse(SMALL_GIFT).questions)
    db.commit()
    exported = quizzes.export_gift(db, instructor, course.id)
    assert [q.stem for q in gift.parse(exported).questions] == [
        "What is the capital of France?", "Is the sky green?"]
    assert quizzes.export_gift(db, instructor, course.id, tag="capitals") == exported
    quizzes.add_question(db, instructor, course.id, FORMS["ordering"])
    db.commit()
    with pytest.raises(Invalid, match="“Order these”: GIFT has no ordering questions"):
        quizzes.export_gift(db, instructor, course.id)
    with pytest.raises(Invalid, match="no question to export"):
        quizzes.export_gift(db, instructor, course.id, tag="nothing-here")


def test_the_regrade_reach_counts_the_attempts_that_had_the_question(db, instructor, module,
                                                                     learner):
    quiz = make_quiz(db, instructor, module, kinds=("single", "true_false"))
    single, _ = quizzes.quiz_for_editing(db, instructor, quiz.id).questions
    assert quizzes.regrade_reach(db, instructor, single.id) == 0
    take(db, learner, quiz, WRONG)
    take(db, learner, quiz, RIGHT)
    quizzes.edit_question(db, instructor, single.id, FORMS["single"])  # a newer version
    db.commit()
    assert quizzes.regrade_reach(db, instructor, single.id) == 2
    report = quizzes.regrade_question(db, instructor, single.id, FORMS["single"])
    assert report.attempts == 2
    assert quizzes.learner_names(db, instructor, module.course_id, [learner.id]) == [
        learner.full_name]


def test_someone_elses_course_is_refused(db, instructor, course, module, learner):
    quiz = make_quiz(db, instructor, module, kinds=("single",))
    question = quizzes.quiz_for_editing(db, instructor, quiz.id).questions[0]
    other = make_user(db, role="instructor")
    db.commit()
    for user in (other, learner):
        with pytest.raises(PermissionDenied):
            quizzes.regrade_reach(db, user, question.id)
        with pytest.raises(PermissionDenied):
            quizzes.export_gift(db, user, course.id)
        with pytest.raises(PermissionDenied):
            quizzes.import_gift(db, user, course.id, gift.parse(SMALL_GIFT).questions)
        with pytest.raises(PermissionDenied):
            quizzes.learner_names(db, user, course.id, [learner.id])
    assert len(db.exec(select(Question)).all()) == 1
