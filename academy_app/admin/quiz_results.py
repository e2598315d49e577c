"""/admin/quizzes/[quiz_id]/results — a quiz's results for its instructor, live: attempts, pass
rate, the score histogram, per question how hard it was, its discrimination and the most chosen
wrong answer; recent attempts to open one by one, and every attempt as CSV.

The services mark the bus resource `attempts.RESULTS_RESOURCE` changed when an attempt is
submitted or regraded; an open results page watches it (infra/presence.watchers, as kit lists do)
and state/live.py runs its `refresh` on every backend worker that holds the tab, so new attempts
appear without a reload.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session

from academy_app.admin.workspace import admin_page, data_table
from academy_app.components.layout import empty_state, link_button, stat_card
from academy_app.infra.markdown import plain_text
from academy_app.infra.presence import watchers
from academy_app.models import QuestionKind, User
from academy_app.services import attempts, gift, quiz_reports, quizzes
from academy_app.services.errors import ServiceError
from academy_app.services.permissions import STAFF
from academy_app.state.auth import Events, Refusal
from academy_app.state.staff import StaffState
from academy_app.text import as_id, id_in

BIN_WIDTH = 100 // quiz_reports.HISTOGRAM_BINS


@dataclass
class HistogramBar:
    band: str = ""
    count: int = 0
    share: int = 0  # percent of the tallest bar: the bar's length


@dataclass
class QuestionLine:
    number: int = 0
    label: str = ""
    kind: str = ""
    attempts: int = 0
    percent: str = ""
    discrimination: str = ""
    wrong: str = ""


@dataclass
class AttemptLine:
    id: int = 0
    learner: str = ""
    number: int = 0
    submitted: str = ""
    percent: str = ""
    passed: bool = False


@dataclass
class AnswerLine:
    label: str = ""
    answer: str = ""
    key: str = ""
    points: str = ""
    correct: bool = False


def answer_text(view: attempts.QuestionView) -> str:
    """What the learner answered, in words (a response names positions in the spec)."""
    response = view.response
    if response is None:
        return "No answer"
    texts = {choice.index: choice.text for choice in view.choices}
    if view.kind is QuestionKind.SINGLE:
        return texts.get(response["choice"], "")
    if view.kind is QuestionKind.MULTIPLE:
        return "; ".join(texts.get(i, "") for i in response["choices"]) or "Nothing chosen"
    if view.kind is QuestionKind.TRUE_FALSE:
        return "True" if response["value"] else "False"
    if view.kind is QuestionKind.NUMERIC:
        return str(response["value"])
    if view.kind is QuestionKind.SHORT_TEXT:
        return response["text"]
    if view.kind is QuestionKind.ORDERING:
        return " → ".join(texts.get(i, "") for i in response["order"])
    targets = {choice.index: choice.text for choice in view.targets}
    return "; ".join(f"{texts.get(int(left), '')} → {targets.get(right, '')}"
                     for left, right in response["matches"].items())


class QuizResultsState(StaffState):
    not_found: bool = False
    quiz_id: int = 0
    course_id: int = 0
    title: str = ""
    attempts: int = 0
    learners: int = 0
    pass_rate: str = "–"
    mean: str = "–"
    histogram: list[HistogramBar] = []
    questions: list[QuestionLine] = []
    recent: list[AttemptLine] = []
    # The attempt opened from the recent list (0: none).
    opened_id: int = 0
    opened_title: str = ""
    opened_answers: list[AnswerLine] = []
    _quiz_id: int = 0

    @rx.event
    async def load(self) -> Events:
        quiz_id = id_in(self.router.url.path.rstrip("/").split("/")[-2])

        def read(session: Session, staff: User) -> tuple[quiz_reports.QuizSummary, int] | None:
            try:
                summary = quiz_reports.quiz_summary(session, staff, quiz_id)
            except ServiceError:
                return None
            _, _, course = quizzes.quiz_for_staff(session, staff, quiz_id)
            return summary, course.id

        found, away = await self._read_as(read, roles=STAFF)
        if away:
            return away
        self.opened_id = 0
        if found is None:
            self.reset()
            self.not_found = True
            return None
        summary, self.course_id = found
        self.not_found, self._quiz_id, self.quiz_id = False, quiz_id, quiz_id
        self._show(summary)
        watchers.watch(attempts.RESULTS_RESOURCE, self.router.session.client_token, type(self),
                       self.router.url.path)
        return None

    @rx.event
    async def refresh(self) -> None:
        """The figures as they are now: what a submitted attempt pushes (state/live.py)."""
        quiz_id = self._quiz_id
        if not quiz_id:  # nothing loaded on this tab: nothing to refresh
            return
        try:
            summary, _ = await self._read_as(lambda session, staff: quiz_reports.quiz_summary(
                session, staff, quiz_id), roles=STAFF)
        except ServiceError:  # the quiz went (its lesson deleted) or the caller lost the course
            return
        if summary is not None:
            self._show(summary)

    def _show(self, summary: quiz_reports.QuizSummary) -> None:
        self.title, self.attempts, self.learners = summary.title, summary.attempts, summary.learners
        self.pass_rate = "–" if summary.pass_rate is None else f"{summary.pass_rate:.0f}%"
        self.mean = "–" if summary.mean_percent is None else f"{summary.mean_percent:.0f}%"
        tallest = max(summary.histogram) or 1
        last = len(summary.histogram) - 1
        self.histogram = [HistogramBar(
            band=f"{i * BIN_WIDTH}–{100 if i == last else i * BIN_WIDTH + BIN_WIDTH - 1}%",
            count=count, share=max(1, round(100 * count / tallest)) if count else 0)
            for i, count in enumerate(summary.histogram)]
        self.questions = [QuestionLine(
            number=n, label=gift.title_from(plain_text(q.stem)), kind=q.kind.value.replace("_", " "),
            attempts=q.attempts, percent=f"{q.percent_correct:.0f}%",
            discrimination="–" if q.discrimination is None else f"{q.discrimination:.2f}",
            wrong=f"{q.most_chosen_wrong} ({q.most_chosen_wrong_count}×)"
            if q.most_chosen_wrong else "–")
            for n, q in enumerate(summary.questions, start=1)]
        self.recent = [AttemptLine(id=a.attempt_id, learner=a.learner, number=a.number,
                                   submitted=a.submitted_at.strftime("%d %b %Y, %H:%M UTC"),
                                   percent=f"{a.percent:.0f}%", passed=a.passed)
                       for a in summary.recent]

    @rx.event
    async def open_attempt(self, attempt_id: int) -> Events:
        wanted = as_id(attempt_id)
        result, refused = await self._act_as("quiz_results.open_attempt", lambda session, staff:
                                             attempts.attempt_for_staff(session, staff, wanted))
        if refused or result is None:
            return refused
        learner = next((a.learner for a in self.recent if a.id == wanted), "")
        self.opened_id = wanted
        self.opened_title = (f"{learner} · attempt {result.number} · {result.percent:.0f}% · "
                             + ("passed" if result.passed else "not passed"))
        self.opened_answers = [AnswerLine(
            label=gift.title_from(plain_text(q.question.stem)), answer=answer_text(q.question), key=q.key,
            points=f"{q.points:g} / {q.max_points:g}", correct=q.correct)
            for q in result.questions]
        return None

    @rx.event
    def close_attempt(self) -> None:
        self.opened_id = 0

    @rx.event
    async def export_csv(self) -> Refusal | rx.event.EventSpec:
        quiz_id = self._quiz_id
        data, refused = await self._act_as("quiz_results.export_csv", lambda session, staff:
                                           quiz_reports.results_csv(session, staff, quiz_id))
        return refused or rx.download(data=data, filename=f"quiz-{quiz_id}-results.csv")


S = QuizResultsState


def histogram() -> rx.Component:
    """Bars with their numbers as text: a table, so a screen reader reads every band."""
    return rx.card(
        rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("Score"),
                                         rx.table.column_header_cell("Attempts"))),
            rx.table.body(rx.foreach(S.histogram, lambda bar: rx.table.row(
                rx.table.row_header_cell(bar.band, white_space="nowrap"),
                rx.table.cell(rx.hstack(
                    rx.box(width=bar.share.to_string() + "%", height="14px",
                           background=rx.color("accent", 9), border_radius="3px",
                           aria_hidden="true", max_width="85%"),
                    rx.text(bar.count, size="2"),
                    align="center", width="100%")),
            ))),
            size="1",
            width="100%",
            aria_label="Score histogram",
        ),
        width="100%",
    )


def question_row(line: QuestionLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(line.number.to_string() + ". " + line.label, size="2", weight="medium"),
            rx.text(line.kind, size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(line.attempts),
        rx.table.cell(line.percent),
        rx.table.cell(line.discrimination),
        rx.table.cell(line.wrong),
    )


def attempt_row(line: AttemptLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.learner),
        rx.table.cell(line.number),
        rx.table.cell(line.submitted, white_space="nowrap"),
        rx.table.cell(line.percent),
        rx.table.cell(rx.cond(line.passed, rx.badge("Passed", color_scheme="green"),
                              rx.badge("Not passed", color_scheme="gray"))),
        rx.table.cell(rx.button("Open", size="1", variant="soft",
                                aria_label="Open attempt " + line.number.to_string() + " of "
                                + line.learner, on_click=S.open_attempt(line.id))),
    )


def attempt_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Attempt"),
        rx.dialog.description(S.opened_title),
        rx.vstack(
            rx.foreach(S.opened_answers, lambda line: rx.box(
                rx.hstack(rx.icon(rx.cond(line.correct, "circle-check", "circle-x"), size=16,
                                  color=rx.cond(line.correct, rx.color("green", 10),
                                                rx.color("red", 10)), aria_hidden="true"),
                          rx.text(line.label, weight="medium", size="2", flex="1"),
                          rx.text(line.points, size="2"), align="center", width="100%"),
                rx.text("Answered: " + line.answer, size="2"),
                rx.text("Key: " + line.key, size="2", color_scheme="gray"),
                padding_y="6px", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%")),
            rx.hstack(rx.spacer(), rx.button("Close", variant="soft", on_click=S.close_attempt),
                      width="100%"),
            spacing="2",
            padding_top="8px",
        ),
        max_width="720px",
    ), open=S.opened_id != 0,
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), S.close_attempt()))


def quiz_results_page() -> rx.Component:
    return admin_page(
        rx.cond(S.title != "", "Results: " + S.title, "Quiz results"),
        "Attempts appear here as learners submit them.",
        rx.cond(
            S.not_found,
            rx.callout("This quiz does not exist, or it is not yours.", icon="circle-alert",
                       color_scheme="red", role="alert"),
            rx.vstack(
                rx.hstack(
                    rx.link("← Quiz editor", href="/admin/quizzes/" + S.quiz_id.to_string()),
                    rx.spacer(),
                    rx.button(rx.icon("download", size=14), "Export CSV", variant="soft",
                              on_click=S.export_csv),
                    width="100%",
                    align="center",
                ),
                rx.grid(stat_card("Attempts", S.attempts), stat_card("Learners", S.learners),
                        stat_card("Pass rate", S.pass_rate), stat_card("Mean score", S.mean),
                        columns=rx.breakpoints(initial="2", md="4"), spacing="4", width="100%",
                        role="status", aria_label="Summary", aria_live="polite"),
                # Each part a heading over its table's card, as Recent attempts is: the tables
                # were a card in a card, and Scores a table short of its card's edge.
                rx.vstack(
                    rx.heading("Questions", size="4", as_="h2"),
                    rx.text("Discrimination near 1: strong learners get it right; near 0 or "
                            "below: check the key.", size="2", color_scheme="gray"),
                    spacing="1",
                ),
                data_table(S.questions, question_row,
                           ["Question", "Attempts", "Correct", "Discrimination",
                            "Most chosen wrong answer"],
                           rx.text("No attempt yet.", size="2", color_scheme="gray")),
                rx.heading("Scores", size="4", as_="h2"),
                histogram(),
                rx.heading("Recent attempts", size="4", as_="h2"),
                data_table(S.recent, attempt_row,
                           ["Learner", "Attempt", "Submitted", "Score", "Result", "Answers"],
                           empty_state("list-checks", "No attempts yet",
                                       "Submitted attempts appear here as they arrive."),
                           ),
                attempt_dialog(),
                link_button("Back to the course", "/admin/courses/" + S.course_id.to_string(),
                            variant="ghost", size="2"),
                spacing="4",
                width="100%",
            ),
        ),
    )
