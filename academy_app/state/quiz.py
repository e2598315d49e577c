"""A quiz lesson for the learner: its settings and past attempts, taking an attempt, the result.

What this state holds of an open attempt is what attempts.AttemptView gives: the texts of the
options, items and sides, never which is right (every public var reaches the browser). The attempt
being taken is a private var set from the service's answer, so a client can only ever name a
question of its own attempt; any other is refused and logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import reflex as rx
from sqlmodel import Session

from academy_app.infra import clock
from academy_app.infra.markdown import render_markdown
from academy_app.models import AttemptScoring, ShowAnswers, User
from academy_app.services import attempts, lessons
from academy_app.services.attempts import AttemptResult, AttemptView, QuestionView, QuizStatus
from academy_app.services.errors import Invalid, ServiceError
from academy_app.services.grading import MAX_ANSWER_TEXT, MAX_NUMBER_TEXT
from academy_app.services.lessons import LessonView
from academy_app.state.auth import Events
from academy_app.state.learn import LearnState
from academy_app.state.rows import iso_utc

SCORING_LABELS = {AttemptScoring.HIGHEST: "your best attempt counts",
                  AttemptScoring.LAST: "your last attempt counts",
                  AttemptScoring.AVERAGE: "the average of your attempts counts",
                  AttemptScoring.FIRST: "your first attempt counts"}
# The end of "Answers and explanations …": "shown: never" read as a form, not a sentence.
SHOWN_LABELS = {ShowAnswers.AFTER_SUBMIT: "are shown after each attempt",
                ShowAnswers.AFTER_PASS: "are shown once you pass", ShowAnswers.NEVER: "are not shown"}
KIND_HINTS = {"single": "Choose one answer.", "multiple": "Choose every answer that applies.",
              "true_false": "True or false?", "numeric": "Enter a number.",
              "short_text": "Type a short answer.",
              "ordering": "Put the items in order with the Move up and Move down buttons.",
              "matching": "Match each item on the left with one on the right."}
CLOCK_CHECK = 30.0  # seconds between the server clock's looks at whether its attempt is still open
# A deadline further away than this is a due date, not a time limit (600 minutes at most): no timer.
COUNTDOWN_HORIZON = 12 * 3600.0
NOT_IN_ATTEMPT = Invalid({"question": "This question is not part of your attempt"})


@dataclass
class ChoiceRow:
    key: str = ""  # the option's index in the question, as the controls give it back
    text: str = ""


@dataclass
class QuestionRow:
    version_id: int = 0
    label: str = ""  # "Question 2 of 7": the name of its controls
    kind: str = ""
    hint: str = ""
    stem_html: str = ""
    points: str = ""
    choices: list[ChoiceRow] = field(default_factory=list)  # matching: the left sides
    targets: list[ChoiceRow] = field(default_factory=list)  # matching: the right sides
    value: str = ""  # single: the chosen key; true/false: "true"/"false"; numeric, short: text
    chosen: list[str] = field(default_factory=list)  # multiple: the chosen keys
    order: list[ChoiceRow] = field(default_factory=list)  # ordering: the items as arranged
    matches: list[str] = field(default_factory=list)  # matching: the key chosen per left side
    answered: bool = False
    error: str = ""


@dataclass
class AttemptRow:
    number: int = 0
    started: str = ""
    score: str = ""
    outcome: str = ""


@dataclass
class ResultRow:
    label: str = ""
    stem_html: str = ""
    given: str = ""
    verdict: str = ""
    correct: bool = False
    points: str = ""
    key: str = ""
    explanation_html: str = ""
    feedback: str = ""


def _points(value: float) -> str:
    """Points as a person writes them: 2, 1.5, 0.33 (partial credit is often a third)."""
    return f"{round(value, 2):g}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC")


def _question_row(question: QuestionView, number: int, count: int) -> QuestionRow:
    kind, response = question.kind.value, question.response or {}
    choices = [ChoiceRow(str(c.index), c.text) for c in question.choices]
    row = QuestionRow(version_id=question.version_id, label=f"Question {number} of {count}",
                      kind=kind, hint=KIND_HINTS[kind], stem_html=render_markdown(question.stem),
                      points=_points(question.points), choices=choices,
                      targets=[ChoiceRow(str(c.index), c.text) for c in question.targets],
                      answered=question.response is not None)
    if kind == "single" and "choice" in response:
        row.value = str(response["choice"])
    elif kind == "true_false" and "value" in response:
        row.value = "true" if response["value"] else "false"
    elif kind == "numeric" and "value" in response:
        row.value = f"{response['value']:g}"
    elif kind == "short_text":
        row.value = response.get("text", "")
    row.chosen = [str(i) for i in response.get("choices", [])]
    by_key = {c.key: c for c in choices}
    row.order = [by_key[str(i)] for i in response["order"]] if "order" in response else choices
    saved = response.get("matches", {})
    row.matches = [str(saved[c.key]) if c.key in saved else "" for c in choices]
    return row


def _response(row: QuestionRow) -> dict[str, Any]:
    """What the service stores, from what the controls show (the service checks it again)."""
    if row.kind == "single":
        return {"choice": int(row.value)}
    if row.kind == "multiple":
        return {"choices": [int(key) for key in row.chosen]}
    if row.kind == "true_false":
        return {"value": row.value == "true"}
    if row.kind == "numeric":
        return {"value": row.value}
    if row.kind == "short_text":
        return {"text": row.value}
    if row.kind == "ordering":
        return {"order": [int(item.key) for item in row.order]}
    return {"matches": {left.key: int(right) for left, right in zip(row.choices, row.matches,
                                                                    strict=True) if right}}


def _given(question: QuestionView) -> str:
    """The learner's answer in words, for the result."""
    response = question.response
    if response is None:
        return "Not answered"
    texts = {c.index: c.text for c in question.choices}
    kind = question.kind.value
    if kind == "single":
        return texts.get(response["choice"], "")
    if kind == "multiple":
        return "; ".join(texts[i] for i in response["choices"] if i in texts) or "Nothing chosen"
    if kind == "true_false":
        return "True" if response["value"] else "False"
    if kind == "numeric":
        return f"{response['value']:g}"
    if kind == "short_text":
        return response["text"] or "Left empty"
    if kind == "ordering":
        return " → ".join(texts[i] for i in response["order"] if i in texts)
    rights = {c.index: c.text for c in question.targets}
    return "; ".join(f"{texts[int(left)]} → {rights[right]}"
                     for left, right in sorted(response["matches"].items()))


def _whole(value: object) -> bool:
    """An int a client sent (JSON true is a bool, and a bool is an int to Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _verdict(points: float, max_points: float, answered: bool) -> str:
    if not answered:
        return "Not answered"
    if points >= max_points:
        return "Correct"
    return "Partly correct" if points > 0 else "Incorrect"


class QuizState(LearnState):
    is_quiz: bool = False
    mode: str = ""  # "overview", "taking" or "result"
    # The settings and the learner's record on the quiz
    pass_mark: str = ""
    attempts_left: str = ""
    time_limit: str = ""
    counting: str = ""
    answers_shown_when: str = ""
    past: list[AttemptRow] = []
    kept_score: str = ""
    quiz_passed: bool = False
    has_open_attempt: bool = False
    can_start: bool = False
    # When the quiz closes for this learner (ISO 8601, UTC; "" for never): the browser words it
    # in its own zone, "Due …" or, once `closed`, "Closed on …" (services/deadlines.py).
    due_at: str = ""
    closed: bool = False
    extended: bool = False  # that close is an extension the instructor gave this learner
    # The attempt being taken
    attempt_number: int = 0
    questions: list[QuestionRow] = []
    # The seconds left when the attempt was shown (-1: no time limit). Sent once: the browser
    # counts down from it by itself (pages/quiz.py), the server grades at the deadline.
    seconds_left: int = -1
    # The result of the attempt just submitted (or read)
    result_score: str = ""
    result_passed: bool = False
    result_points: str = ""
    result_answers_shown: bool = False
    results: list[ResultRow] = []
    _quiz_id: int = 0
    _attempt_id: int = 0
    _deadline: datetime | None = None
    _clock: int = 0  # which countdown is current: an older one stops

    @rx.var
    def unanswered(self) -> int:
        return sum(not question.answered for question in self.questions)

    @rx.event
    async def load(self) -> AsyncIterator[Events]:
        """After LearnState.load: the quiz panel of a quiz lesson (an open attempt is resumed)."""
        self.is_quiz, self.mode, self._attempt_id = False, "", 0
        self._clock += 1  # a countdown of the lesson open before stops
        if self.loading or self.lesson_kind != "quiz" or not self.is_enrolled:
            return
        lesson_id = self._lesson_id
        try:
            status, away = await self._read_as(lambda session, learner: self._status(
                session, learner, attempts.quiz_id_for_lesson(session, lesson_id)))
        except ServiceError:  # no longer enrolled since the lesson loaded: its page says so
            return
        if away or status is None:
            yield away
            return
        self.is_quiz = True
        self._show_status(status)
        if status.open_attempt_id is not None:
            yield QuizState.start

    @staticmethod
    def _status(session: Session, learner: User | None, quiz_id: int | None) -> QuizStatus | None:
        return attempts.quiz_status(session, learner, quiz_id) if quiz_id is not None else None

    def _show_status(self, status: QuizStatus) -> None:
        self._quiz_id = status.quiz_id
        self.mode = "overview"
        submitted = sum(a.submitted_at is not None for a in status.attempts)
        self.pass_mark = f"{status.pass_percent}%"
        self.attempts_left = "Unlimited" if status.max_attempts is None else \
            f"{max(status.max_attempts - submitted, 0)} of {status.max_attempts} left"
        minutes = status.time_limit_minutes
        self.time_limit = f"{minutes} minute{'' if minutes == 1 else 's'}" if minutes else "None"
        self.counting = SCORING_LABELS[status.attempt_scoring].capitalize()
        self.answers_shown_when = SHOWN_LABELS[status.show_answers]
        self.past = [AttemptRow(number=a.number, started=_when(a.started_at),
                                score=_percent(a.percent) if a.submitted_at else "In progress",
                                outcome="" if a.passed is None
                                else ("Passed" if a.passed else "Not passed"))
                     for a in status.attempts]
        self.kept_score = _percent(status.kept_percent)
        self.quiz_passed = status.passed
        self.has_open_attempt = status.open_attempt_id is not None
        self.can_start = status.can_start
        self.due_at = iso_utc(status.due_at) if status.due_at else ""
        self.closed, self.extended = status.closed, status.extended

    @rx.event
    async def start(self) -> Events:
        """Start an attempt, or resume the open one (a double click resumes what the first began)."""
        if not self.is_quiz or self.mode == "taking":
            return None
        quiz_id = self._quiz_id
        view, refused = await self._act_as("start_quiz", lambda session, learner:
                                           attempts.start_attempt(session, learner, quiz_id),
                                           shown=())
        if refused or view is None:
            return refused
        return self._show_attempt(view)

    def _show_attempt(self, view: AttemptView) -> Events:
        self._attempt_id, self._deadline = view.attempt_id, view.deadline
        self.attempt_number = view.number
        count = len(view.questions)
        self.questions = [_question_row(q, n, count) for n, q in enumerate(view.questions, 1)]
        self.mode = "taking"
        left = (view.deadline - clock.now()).total_seconds() if view.deadline else None
        if left is None or left > COUNTDOWN_HORIZON:
            # No deadline, or a due date days away: the panel says "Due …" and the service stops
            # the attempt there; no countdown waits that long on the server.
            self.seconds_left = -1
            return None
        self._clock += 1
        self.seconds_left = max(int(left + 0.999), 0)
        return QuizState.count_down

    @rx.event(background=True)
    async def count_down(self) -> None:
        """The server's clock: at the deadline the attempt is graded with what was saved (by the
        service: it closes an attempt whose deadline passed) and the result shown. It sends
        nothing before: the browser shows the seconds itself. It wakes every CLOCK_CHECK seconds
        to end early once the attempt is submitted or the learner has moved on."""
        async with self:
            countdown, deadline, attempt_id = self._clock, self._deadline, self._attempt_id
        if deadline is None:  # no limit (or a crafted call): nothing to count
            return
        while True:
            while (left := (deadline - clock.now()).total_seconds()) > 0:
                await asyncio.sleep(min(left, CLOCK_CHECK))
                async with self:
                    if countdown != self._clock or self.mode != "taking":
                        return
            async with self:
                if countdown != self._clock or self.mode != "taking":
                    return
                view, _ = await self._act_as("quiz_time_up", lambda session, learner:
                                             attempts.attempt_view(session, learner, attempt_id),
                                             shown=())
                moved = view.deadline if view is not None and not view.submitted else None
                if moved is not None and moved > deadline:
                    # The instructor extended the learner's due date meanwhile: count on to it
                    # (or, days away, leave it to the "Due …" notice and the service).
                    deadline = self._deadline = moved
                    left = (moved - clock.now()).total_seconds()
                    self.seconds_left = max(int(left + 0.999), 0) \
                        if left <= COUNTDOWN_HORIZON else -1
                    if left > COUNTDOWN_HORIZON:
                        return
                    continue
                result, _ = await self._act_as("quiz_time_up", lambda session, learner:
                                               attempts.attempt_result(session, learner,
                                                                       attempt_id), shown=())
                if result is not None:
                    await self._show_result(result)
                return

    # Answering: one handler per kind of control, each checking what the client sent.

    @rx.event
    async def choose(self, version_id: int, value: str) -> Events:
        """A radio button: single choice (an option's key) or true/false ("true"/"false")."""
        return await self._change(version_id, value, lambda row: (
            replace(row, value=value) if isinstance(value, str) and (
                (row.kind == "single" and value in {c.key for c in row.choices})
                or (row.kind == "true_false" and value in ("true", "false"))) else None))

    @rx.event
    async def toggle(self, version_id: int, key: str, checked: bool) -> Events:
        """A checkbox of a multiple choice question."""
        def change(row: QuestionRow) -> QuestionRow | None:
            if row.kind != "multiple" or not isinstance(key, str) \
                    or key not in {c.key for c in row.choices} or not isinstance(checked, bool):
                return None
            chosen = [k for k in row.chosen if k != key] + ([key] if checked else [])
            return replace(row, chosen=sorted(chosen, key=int))
        return await self._change(version_id, key, change)

    @rx.event
    async def type_answer(self, version_id: int, text: str) -> Events:
        """A numeric or short text answer, saved when the field is left."""
        def change(row: QuestionRow) -> QuestionRow | None:
            if row.kind not in ("numeric", "short_text") or not isinstance(text, str):
                return None
            limit = MAX_NUMBER_TEXT if row.kind == "numeric" else MAX_ANSWER_TEXT
            if len(text) > limit:
                return replace(row, value=text[:limit], error=f"Keep the answer under {limit} "
                               "characters")
            if (text.strip() == "" and not row.answered) or (text == row.value and row.answered):
                return row  # nothing new to save
            return replace(row, value=text)
        return await self._change(version_id, text, change)

    @rx.event
    async def move(self, version_id: int, position: int, step: int) -> Events:
        """Move an ordering item one place up (-1) or down (+1)."""
        def change(row: QuestionRow) -> QuestionRow | None:
            if row.kind != "ordering" or not _whole(step) or step not in (-1, 1) \
                    or not _whole(position) or not 0 <= position < len(row.order) \
                    or not 0 <= position + step < len(row.order):
                return None
            order = list(row.order)
            order[position], order[position + step] = order[position + step], order[position]
            return replace(row, order=order)
        return await self._change(version_id, position, change)

    @rx.event
    async def keep_order(self, version_id: int) -> Events:
        """Answer an ordering question with the order shown, when the learner moves nothing."""
        return await self._change(version_id, None, lambda row: (
            replace(row) if row.kind == "ordering" else None))

    @rx.event
    async def match(self, version_id: int, left: int, right: str) -> Events:
        """The right side chosen for one left side of a matching question ("" to clear it)."""
        def change(row: QuestionRow) -> QuestionRow | None:
            if row.kind != "matching" or not _whole(left) or not 0 <= left < len(row.choices) \
                    or not isinstance(right, str) or right not in {"", *(t.key for t in row.targets)}:
                return None
            matches = list(row.matches)
            matches[left] = right
            return replace(row, matches=matches)
        return await self._change(version_id, right, change)

    async def _change(self, version_id: int, given: object,
                      change: Callable[[QuestionRow], QuestionRow | None]) -> Events:
        """Apply a control's change to its question and save the whole answer. A question not in
        this attempt, or a value no control gives, is refused and logged; nothing is saved."""
        rows: list[QuestionRow] = list(self.get_value("questions"))  # plain rows, no proxies
        index = next((i for i, row in enumerate(rows)
                      if _whole(version_id) and row.version_id == version_id), None)
        if self.mode != "taking" or index is None:
            return self._refuse("quiz_answer", NOT_IN_ATTEMPT)
        if isinstance(given, str) and len(given) > MAX_ANSWER_TEXT * 4:
            return self._refuse("quiz_answer", Invalid({"response": "This answer is too long"}))
        unchanged = replace(rows[index], error="")  # a new answer replaces the last one's error
        row = change(unchanged)
        if row is None:
            return self._refuse("quiz_answer", Invalid(
                {"response": "This answer does not fit the question"}))
        if row is unchanged:
            return None
        if not row.error:
            attempt_id, response = self._attempt_id, _response(row)
            try:
                _, refused = await self._act_as("quiz_answer", lambda session, learner:
                                                attempts.save_answer(session, learner, attempt_id,
                                                                     version_id, response))
            except Invalid as exc:  # a numeric answer that is not a number: told by its field
                row = replace(row, error=next(iter(exc.errors.values())))
            else:
                if refused:
                    return refused
                row = replace(row, answered=True, error="")
        rows[index] = row
        self.questions = rows
        return None

    @rx.event
    async def submit(self) -> Events:
        """Grade the attempt. A second click finds it submitted: the same result, graded once."""
        if self.mode != "taking" or not self._attempt_id:
            return None
        attempt_id = self._attempt_id
        result, refused = await self._act_as("quiz_submit", lambda session, learner:
                                             attempts.submit_attempt(session, learner, attempt_id),
                                             shown=())
        if refused or result is None:
            return refused
        opened = await self._show_result(result)
        if result.quiz_passed and self.course_complete:
            return rx.toast.success(f"You completed {self.course_title}. Congratulations!")
        now_open = f" Now open: {', '.join(opened)}" if opened else ""
        return rx.toast.success(f"Quiz passed. Well done!{now_open}") if result.quiz_passed \
            else None

    async def _show_result(self, result: AttemptResult) -> list[str]:
        """Show the graded attempt; the titles of the lessons that passing it opened."""
        self._clock += 1  # stops the countdown
        self.mode, self.seconds_left = "result", -1
        self.result_score = _percent(result.percent)
        self.result_passed = result.passed
        self.result_points = f"{_points(result.points)} of {_points(result.max_points)} points"
        self.result_answers_shown = result.answers_shown
        count = len(result.questions)
        self.results = [ResultRow(
            label=f"Question {n} of {count}", stem_html=render_markdown(q.question.stem),
            given=_given(q.question), correct=q.correct,
            verdict=_verdict(q.points, q.max_points, q.question.response is not None),
            points=f"{_points(q.points)} / {_points(q.max_points)}", key=q.key,
            explanation_html=render_markdown(q.explanation) if q.explanation else "",
            feedback=" ".join(q.feedback)) for n, q in enumerate(result.questions, 1)]
        self.questions = []
        return await self._refresh()

    async def _refresh(self) -> list[str]:
        """The settings panel's record, the syllabus's checkmarks and locks after a graded
        attempt; the titles of the lessons that opened."""
        quiz_id, lesson_id, slug = self._quiz_id, self._lesson_id, self.course_slug

        def read(session: Session, learner: User | None) -> tuple[QuizStatus, LessonView]:
            view = lessons.open_lesson(session, learner, slug, lesson_id)
            return attempts.quiz_status(session, learner, quiz_id), view

        try:
            found, _ = await self._read_as(read)
        except ServiceError:  # locked or left since: the next page load says so
            return []
        if found is None:
            return []
        status, view = found
        mode = self.mode
        self._show_status(status)
        self.mode = mode
        self._show_progress(view.progress)
        return self._show_locks(view.access) if view.access else []

    @rx.event
    def back_to_quiz(self) -> None:
        if self.mode == "result":
            self.mode, self.results = "overview", []

