"""bench/quizzes.py at a tiny size, in process: the quiz it builds has every question type, its
attempts are graded whole, and its table says what was measured."""

from __future__ import annotations

from collections import Counter

from bench.quizzes import (
    QUESTION_SPECS,
    QUESTIONS,
    Burst,
    build_lab,
    grade_in_process,
    question_kinds,
    submitted_attempts,
    table,
)


def test_the_quiz_mixes_every_kind_into_twenty_questions() -> None:
    kinds = Counter(question_kinds())
    assert sum(kinds.values()) == QUESTIONS and set(kinds) == set(QUESTION_SPECS)
    assert min(kinds.values()) >= 2


def test_every_attempt_is_answered_and_graded_once(engine, db) -> None:
    lab = build_lab(engine, learners=3)
    assert lab.lesson_path.startswith("/learn/") and len(lab.learners) == 3
    times = grade_in_process(engine, lab, lab.learners[:2])
    assert len(times) == 2 and all(t > 0 for t in times)
    assert submitted_attempts(engine, lab.quiz_id, [user for user, _ in lab.learners]) == 2


def test_the_table_marks_a_burst_that_lost_or_missed_an_attempt() -> None:
    fine = table([5.0, 6.0], [9.0, 10.0], Burst(times=[20.0, 30.0], recorded=2, last_ms=800.0,
                                                   instructor_ms=900.0), size=2)
    assert "**" not in fine and "2 of 2" in fine and "800 ms" in fine and "900 ms" in fine
    short = table([5.0, 6.0], [9.0, 10.0], Burst(times=[20.0], lost=1, recorded=1), size=2)
    assert "**1 without a score**" in short and "**1 of 2**" in short
    assert "**not within 30 s**" in short
