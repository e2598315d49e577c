"""A quiz's results for its instructor: attempts, pass rate, score histogram, and per question how
hard it was, how well it tells strong learners from weak ones, and the most chosen wrong answer;
every attempt as CSV.

Discrimination is the correlation (Pearson's r, the point-biserial one for a question scored right
or wrong) between a question's score and the attempt's percent over the submitted attempts that had
it: near 1 the learners who did well overall got it right, near 0 it tells nothing, below 0 the
strong learners missed it (a wrong key is the usual reason). None with fewer than two attempts or
when everyone scored the same.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from academy_app.models import (
    AttemptAnswer,
    Question,
    QuestionKind,
    QuestionVersion,
    QuizAttempt,
    User,
    as_utc,
)
from academy_app.services import attempts, grading
from academy_app.services.quizzes import quiz_for_staff
from academy_app.services.reports import spreadsheet_cell

HISTOGRAM_BINS = 10  # 0-9%, 10-19%, ..., 90-100%


@dataclass(frozen=True)
class QuestionStats:
    question_id: int
    kind: QuestionKind
    stem: str  # of the newest version seen in an attempt
    attempts: int  # submitted attempts that had it
    percent_correct: float  # the mean score on it, in percent of its points
    discrimination: float | None
    most_chosen_wrong: str | None  # the wrong answer chosen most often, as shown
    most_chosen_wrong_count: int


@dataclass(frozen=True)
class AttemptRow:
    attempt_id: int
    user_id: int
    learner: str
    number: int
    submitted_at: datetime
    percent: float
    passed: bool


@dataclass(frozen=True)
class QuizSummary:
    quiz_id: int
    title: str
    attempts: int  # submitted
    learners: int
    pass_rate: float | None  # percent of submitted attempts that passed
    mean_percent: float | None
    histogram: tuple[int, ...]  # attempts per HISTOGRAM_BINS band of percent
    questions: tuple[QuestionStats, ...]
    recent: tuple[AttemptRow, ...]  # newest submitted first


def quiz_summary(session: Session, actor: User | None, quiz_id: int, *,
                 now: datetime | None = None, recent: int = 50) -> QuizSummary:
    quiz, lesson, _ = quiz_for_staff(session, actor, quiz_id)
    attempts.close_expired_attempts(session, quiz, now)
    rows = session.exec(select(QuizAttempt, User.full_name)
                        .join(User, col(User.id) == QuizAttempt.user_id)
                        .where(QuizAttempt.quiz_id == quiz.id,
                               col(QuizAttempt.submitted_at).is_not(None))
                        .order_by(col(QuizAttempt.submitted_at).desc(),
                                  col(QuizAttempt.id).desc())).all()
    taken = [attempt for attempt, _ in rows]
    percents = [attempt.percent or 0.0 for attempt in taken]
    histogram = [0] * HISTOGRAM_BINS
    for percent in percents:
        histogram[min(HISTOGRAM_BINS - 1, int(percent // (100 / HISTOGRAM_BINS)))] += 1
    return QuizSummary(
        quiz_id=quiz.id, title=lesson.title, attempts=len(taken),
        learners=len({attempt.user_id for attempt in taken}),
        pass_rate=100 * sum(bool(a.passed) for a in taken) / len(taken) if taken else None,
        mean_percent=sum(percents) / len(percents) if percents else None,
        histogram=tuple(histogram), questions=_question_stats(session, taken),
        recent=tuple(AttemptRow(attempt_id=a.id, user_id=a.user_id, learner=name,
                                number=a.number, submitted_at=as_utc(a.submitted_at),
                                percent=a.percent or 0.0, passed=bool(a.passed))
                     for a, name in rows[:recent]))


def results_csv(session: Session, actor: User | None, quiz_id: int, *,
                now: datetime | None = None) -> str:
    """Every submitted attempt at the quiz, oldest first, for a spreadsheet."""
    quiz, _, _ = quiz_for_staff(session, actor, quiz_id)
    attempts.close_expired_attempts(session, quiz, now)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Attempt", "Submitted (UTC)", "Points", "Out of", "Percent",
                     "Passed"])
    for attempt, name, email in session.exec(
            select(QuizAttempt, User.full_name, User.email)
            .join(User, col(User.id) == QuizAttempt.user_id)
            .where(QuizAttempt.quiz_id == quiz.id, col(QuizAttempt.submitted_at).is_not(None))
            .order_by(col(QuizAttempt.submitted_at), col(QuizAttempt.id))):
        writer.writerow([spreadsheet_cell(name), spreadsheet_cell(email), attempt.number,
                         as_utc(attempt.submitted_at).strftime("%Y-%m-%d %H:%M:%S"),
                         f"{attempt.points or 0:g}", f"{attempt.max_points:g}",
                         f"{attempt.percent or 0:.1f}", "yes" if attempt.passed else "no"])
    return out.getvalue()


def _question_stats(session: Session, taken: Sequence[QuizAttempt]) -> tuple[QuestionStats, ...]:
    version_ids = {entry["version"] for attempt in taken for entry in attempt.layout}
    versions = {version.id: (version, kind) for version, kind in session.exec(
        select(QuestionVersion, Question.kind)
        .join(Question, col(Question.id) == QuestionVersion.question_id)
        .where(col(QuestionVersion.id).in_(version_ids)))} if version_ids else {}
    answers = {(a.attempt_id, a.question_version_id): a for a in session.exec(
        select(AttemptAnswer).where(col(AttemptAnswer.attempt_id).in_([t.id for t in taken])))} \
        if taken else {}
    scores: dict[int, list[tuple[float, float]]] = defaultdict(list)  # (question, attempt) pairs
    wrong: dict[int, Counter[str]] = defaultdict(Counter)
    newest: dict[int, QuestionVersion] = {}
    for attempt in taken:
        for entry in attempt.layout:
            version, kind = versions[entry["version"]]
            question_id = version.question_id
            if question_id not in newest or version.number > newest[question_id].number:
                newest[question_id] = version
            answer = answers.get((attempt.id, version.id))
            earned = answer.points if answer is not None and answer.points is not None else 0.0
            scores[question_id].append((earned / version.points, attempt.percent or 0.0))
            if answer is not None and answer.points is not None:
                wrong[question_id].update(_wrong_answers(kind, version.spec, answer.response))
    stats = []
    for question_id, pairs in scores.items():
        version = newest[question_id]
        common = wrong[question_id].most_common(1)
        stats.append(QuestionStats(
            question_id=question_id, kind=versions[version.id][1], stem=version.stem,
            attempts=len(pairs), percent_correct=100 * sum(s for s, _ in pairs) / len(pairs),
            discrimination=_correlation(pairs),
            most_chosen_wrong=common[0][0] if common else None,
            most_chosen_wrong_count=common[0][1] if common else 0))
    return tuple(sorted(stats, key=lambda s: s.question_id))


def _wrong_answers(kind: QuestionKind, spec: dict[str, Any], response: dict[str, Any]
                   ) -> list[str]:
    """The wrong things a response chose, as the learner saw them."""
    if kind is QuestionKind.SINGLE:
        option = spec["options"][response["choice"]]
        return [] if option["correct"] else [option["text"]]
    if kind is QuestionKind.MULTIPLE:
        return [spec["options"][i]["text"] for i in response["choices"]
                if not spec["options"][i]["correct"]]
    if kind is QuestionKind.TRUE_FALSE:
        return [] if response["value"] is spec["answer"] else [str(response["value"])]
    if kind in (QuestionKind.NUMERIC, QuestionKind.SHORT_TEXT):
        if grading.grade(kind, spec, response).correct:
            return []
        value = response.get("value", response.get("text"))
        return [f"{value:g}" if isinstance(value, float) else grading.normalize_text(str(value))]
    return []


def _correlation(pairs: Sequence[tuple[float, float]]) -> float | None:
    if len(pairs) < 2:
        return None
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    spread = math.sqrt(sum((x - mean_x) ** 2 for x in xs) * sum((y - mean_y) ** 2 for y in ys))
    return cov / spread if spread else None
