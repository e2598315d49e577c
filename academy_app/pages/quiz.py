"""The quiz panel of a quiz lesson: settings and past attempts, the questions, the result.

Every control is named after its question ("Question 2 of 7") or its item, so a screen reader and
the browser tests find it by role and name; ordering is done with buttons, never by dragging.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var, VarData

from academy_app.components.course import in_browser_zone
from academy_app.components.layout import icon_either
from academy_app.state.quiz import AttemptRow, ChoiceRow, QuestionRow, QuizState, ResultRow


def _seconds_left() -> Var:
    """The seconds left, counted down in the browser from `QuizState.seconds_left` (the seconds
    left when the attempt was shown): a state update every second for every learner would cost
    the server and the network for nothing. The deadline stays the server's: it grades at it
    (QuizState.count_down), and the service refuses answers after it. Hooks of the component
    that shows it: a one-second tick, and the end as this browser's clock reads it, taken anew
    whenever the server sends another `seconds_left` (so a wrong clock on the device is harmless)."""
    sent = QuizState.seconds_left
    clock = VarData(imports={"react": ["useState", "useEffect", "useMemo"]}, hooks={
        "const [quizClockNow, setQuizClockNow] = useState(() => Date.now());": None,
        "useEffect(() => { const tick = setInterval(() => setQuizClockNow(Date.now()), 1000); "
        "return () => clearInterval(tick); }, []);": None,
        f"const quizClockEnds = useMemo(() => Date.now() + {sent._js_expr} * 1000, "
        f"[{sent._js_expr}]);": sent._get_all_var_data(),
    })
    return Var(_js_expr="Math.max(0, Math.ceil((quizClockEnds - quizClockNow) / 1000))",
               _var_type=int, _var_data=clock).guess_type()


def _minutes_and_seconds(seconds: Var) -> Var:
    """4:05"""
    return Var(_js_expr=f"`${{Math.floor({seconds._js_expr} / 60)}}:"
                        f"${{String({seconds._js_expr} % 60).padStart(2, '0')}}`",
               _var_type=str, _var_data=seconds._get_all_var_data()).guess_type()


def _timer() -> rx.Component:
    left = _seconds_left()
    shown = _minutes_and_seconds(left)
    return rx.badge(rx.icon("timer", size=14), "Time left ", shown, size="2",
                    color_scheme=rx.cond(left < 60, "red", "gray"), role="timer",
                    aria_label="Time left " + shown)


def _fact(label: str, value: rx.Var) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                     rx.text(value, size="2", weight="medium"), spacing="0")


def _attempt_row(attempt: AttemptRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(f"Attempt {attempt.number}"),
        rx.table.cell(attempt.started),
        rx.table.cell(attempt.score),
        rx.table.cell(rx.cond(attempt.outcome == "Passed",
                              rx.badge("Passed", color_scheme="green"),
                              rx.cond(attempt.outcome != "",
                                      rx.badge(attempt.outcome, color_scheme="red"), ""))),
    )


def due_notice() -> rx.Component:
    """When the quiz closes for this learner, on their own clock; nothing if it never does."""
    return rx.cond(QuizState.due_at != "", rx.callout(
        rx.text(in_browser_zone(rx.cond(QuizState.closed, "Closed on", "Due"), QuizState.due_at),
                rx.cond(QuizState.extended, " (extended for you)", ""),
                rx.cond(QuizState.closed, "", ". An attempt still open then stops there.")),
        icon="calendar-clock", color_scheme=rx.cond(QuizState.closed, "red", "blue"),
        size="1", width="100%", role="status"))


def overview() -> rx.Component:
    return rx.vstack(
        rx.grid(
            _fact("Pass mark", QuizState.pass_mark),
            _fact("Attempts", QuizState.attempts_left),
            _fact("Time limit", QuizState.time_limit),
            _fact("Your score", QuizState.kept_score),
            columns=rx.breakpoints(initial="2", sm="4"), spacing="4", width="100%",
        ),
        due_notice(),
        rx.text(QuizState.counting, ". Answers and explanations ", QuizState.answers_shown_when,
                ".", size="2", color_scheme="gray"),
        rx.cond(QuizState.quiz_passed,
                rx.callout("You passed this quiz.", icon="circle-check", color_scheme="green",
                           width="100%", role="status")),
        rx.cond(
            QuizState.past.length() > 0,
            rx.table.root(
                rx.el.caption("Your attempts", style={"text_align": "left", "font_weight": "600",
                                                      "font_size": "14px", "padding": "4px 0"}),
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Attempt"),
                    rx.table.column_header_cell("Started"),
                    rx.table.column_header_cell("Score"),
                    rx.table.column_header_cell("Result"))),
                rx.table.body(rx.foreach(QuizState.past, _attempt_row)),
                width="100%", size="1",
            ),
        ),
        rx.cond(
            QuizState.can_start,
            rx.button(rx.icon("play", size=16),
                      rx.cond(QuizState.has_open_attempt, "Resume attempt",
                              rx.cond(QuizState.past.length() > 0, "Start a new attempt",
                                      "Start the quiz")),
                      on_click=QuizState.start, size="3"),
            rx.cond(~QuizState.quiz_passed,
                    rx.text(rx.cond(QuizState.closed,
                                    "This quiz has closed: no new attempt can start.",
                                    "You have used every attempt at this quiz."), size="2")),
        ),
        spacing="4", width="100%", align="start",
    )


# The controls of each kind of question

def _radio(key: str | rx.Var, text: str | rx.Var) -> rx.Component:
    return rx.text(rx.flex(rx.radio_group.item(value=key), text, spacing="2"), as_="label",
                   size="3")


def _radios(question: QuestionRow, *items: rx.Component) -> rx.Component:
    return rx.radio_group.root(
        rx.flex(*items, direction="column", spacing="2"),
        value=question.value,
        on_change=lambda value: QuizState.choose(question.version_id, value),
        aria_label=question.label,
    )


def _checkboxes(question: QuestionRow) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(question.label, class_name="visually-hidden",
                     style={"position": "absolute", "width": "1px", "height": "1px",
                            "overflow": "hidden", "clip": "rect(0 0 0 0)"}),
        rx.flex(rx.foreach(question.choices, lambda choice: rx.checkbox(
            choice.text, checked=question.chosen.contains(choice.key), size="3",
            on_change=lambda checked: QuizState.toggle(question.version_id, choice.key, checked))),
            direction="column", spacing="2"),
        style={"border": "none", "padding": "0", "margin": "0"},
    )


def _text_input(question: QuestionRow, numeric: bool) -> rx.Component:
    error_id = "answer-error-" + question.version_id.to_string()
    return rx.vstack(
        rx.input(default_value=question.value, aria_label=question.label,
                 input_mode="decimal" if numeric else "text",
                 max_length=40 if numeric else 200, width=["100%", "320px"],
                 aria_invalid=rx.cond(question.error != "", "true", "false"),
                 aria_describedby=error_id,
                 on_blur=lambda text: QuizState.type_answer(question.version_id, text)),
        rx.cond(question.error != "",
                rx.text(question.error, id=error_id, color_scheme="red", size="2", role="alert")),
        spacing="1", width="100%",
    )


def _ordering(question: QuestionRow) -> rx.Component:
    def item(choice: ChoiceRow, position: rx.Var) -> rx.Component:
        return rx.el.li(rx.flex(
            rx.text(position + 1, ".", size="2", color_scheme="gray", min_width="20px"),
            rx.text(choice.text, size="3", flex="1"),
            rx.icon_button(rx.icon("arrow-up", size=16), variant="soft", size="2",
                           disabled=position == 0, aria_label="Move up " + choice.text,
                           on_click=QuizState.move(question.version_id, position, -1)),
            rx.icon_button(rx.icon("arrow-down", size=16), variant="soft", size="2",
                           disabled=position == question.order.length() - 1,
                           aria_label="Move down " + choice.text,
                           on_click=QuizState.move(question.version_id, position, 1)),
            align="center", spacing="2", padding="8px 12px",
            border=f"1px solid {rx.color('gray', 5)}", border_radius="8px",
            background=rx.color("gray", 1)))
    return rx.vstack(
        rx.el.ol(rx.foreach(question.order, item), aria_label=question.label,
                 style={"list_style": "none", "padding": "0", "margin": "0", "display": "flex",
                        "flex_direction": "column", "gap": "8px", "width": "100%"}),
        # Moving an item saves the order; an order left as shown is saved by saying so.
        rx.cond(~question.answered,
                rx.button("Keep this order", variant="soft", size="2",
                          on_click=QuizState.keep_order(question.version_id))),
        spacing="2", width="100%",
    )


def _matching(question: QuestionRow) -> rx.Component:
    def pair(left: ChoiceRow, position: rx.Var) -> rx.Component:
        return rx.flex(
            rx.text(left.text, size="3", weight="medium", min_width="120px"),
            rx.el.select(
                rx.el.option("Choose a match", value=""),
                rx.foreach(question.targets, lambda target: rx.el.option(target.text,
                                                                        value=target.key)),
                value=question.matches[position], aria_label="Match for " + left.text,
                on_change=lambda value: QuizState.match(question.version_id, position, value),
                style={"padding": "6px 8px", "border_radius": "6px", "min_width": "180px",
                       "max_width": "100%", "font_size": "15px",
                       "border": f"1px solid {rx.color('gray', 7)}",
                       "background": rx.color("gray", 1), "color": rx.color("gray", 12)},
            ),
            align=rx.breakpoints(initial="start", sm="center"), spacing="3",
            direction=rx.breakpoints(initial="column", sm="row"), width="100%",
        )
    return rx.vstack(rx.foreach(question.choices, pair), spacing="3", width="100%",
                     role="group", aria_label=question.label)


def _control(question: QuestionRow) -> rx.Component:
    return rx.match(
        question.kind,
        ("single", _radios(question, rx.foreach(question.choices,
                                                lambda choice: _radio(choice.key, choice.text)))),
        ("true_false", _radios(question, _radio("true", "True"), _radio("false", "False"))),
        ("multiple", _checkboxes(question)),
        ("numeric", _text_input(question, numeric=True)),
        ("short_text", _text_input(question, numeric=False)),
        ("ordering", _ordering(question)),
        ("matching", _matching(question)),
        rx.fragment(),
    )


def _card(label: rx.Var, badges: list[rx.Component], *body: rx.Component) -> rx.Component:
    """A question, while answered or in the result: its heading and badges over its body."""
    return rx.el.section(
        rx.vstack(
            rx.flex(rx.heading(label, as_="h2", size="3", white_space="nowrap"), rx.spacer(),
                    *badges, align="center", spacing="2", width="100%", wrap="wrap"),
            *body,
            spacing="3", width="100%",
        ),
        aria_label=label,
        style={"padding": "16px", "border": f"1px solid {rx.color('gray', 4)}",
               "border_radius": "12px", "background": rx.color("gray", 1), "width": "100%"},
    )


def _question(question: QuestionRow) -> rx.Component:
    return _card(
        question.label,
        [rx.text(question.points, " pt", size="1", color_scheme="gray", white_space="nowrap"),
         rx.cond(question.answered & (question.error == ""),
                 rx.badge(rx.icon("check", size=12), "Saved", color_scheme="green",
                          variant="soft"),
                 rx.badge("Not answered", color_scheme="gray", variant="soft"))],
        rx.html(question.stem_html, class_name="markdown"),
        rx.text(question.hint, size="2", color_scheme="gray"),
        _control(question),
    )


def _submit() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Submit attempt", size="3")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Submit this attempt?"),
            rx.alert_dialog.description(rx.cond(
                QuizState.unanswered > 0,
                rx.text(QuizState.unanswered, rx.cond(QuizState.unanswered == 1,
                                                      " question is", " questions are"),
                        " not answered yet. Unanswered questions score nothing."),
                rx.text("Every question is answered. You cannot change answers afterwards."))),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Keep answering", variant="soft",
                                                 color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Submit", on_click=QuizState.submit)),
                spacing="3", justify="end", margin_top="16px",
            ),
        ),
    )


def taking() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading("Attempt ", QuizState.attempt_number, as_="h2", size="4"),
            rx.spacer(),
            rx.cond(QuizState.seconds_left >= 0, _timer()),
            align="center", width="100%",
        ),
        rx.text("Each answer is saved as you give it.", size="2", color_scheme="gray"),
        due_notice(),
        rx.foreach(QuizState.questions, _question),
        rx.flex(rx.text(QuizState.unanswered, " unanswered", size="2", color_scheme="gray",
                        role="status"),
                rx.spacer(), _submit(), align="center", width="100%"),
        spacing="4", width="100%",
    )


def _result_row(row: ResultRow) -> rx.Component:
    return _card(
        row.label,
        [rx.badge(row.verdict, color_scheme=rx.cond(
            row.correct, "green", rx.cond(row.verdict == "Partly correct", "amber", "red"))),
         rx.text(row.points, size="1", color_scheme="gray", white_space="nowrap")],
        rx.html(row.stem_html, class_name="markdown"),
        rx.text(rx.text.strong("Your answer: "), row.given, size="2"),
        rx.cond(row.key != "", rx.text(rx.text.strong("Correct answer: "), row.key, size="2")),
        rx.cond(row.feedback != "", rx.text(row.feedback, size="2", color_scheme="gray")),
        rx.cond(row.explanation_html != "",
                rx.box(rx.html(row.explanation_html, class_name="markdown"), padding="8px 12px",
                       border_left=f"3px solid {rx.color('accent', 7)}", width="100%")),
    )


def result() -> rx.Component:
    return rx.vstack(
        rx.callout.root(
            rx.callout.icon(icon_either(QuizState.result_passed, "circle-check", "circle-x")),
            rx.callout.text(rx.cond(QuizState.result_passed, "Passed", "Not passed"), ": ",
                            QuizState.result_score, " (", QuizState.result_points,
                            "). The pass mark is ", QuizState.pass_mark, "."),
            color_scheme=rx.cond(QuizState.result_passed, "green", "red"),
            role="status", width="100%", size="2",
        ),
        rx.cond(~QuizState.result_answers_shown,
                rx.text("The correct answers are not shown for this quiz.", size="2",
                        color_scheme="gray")),
        rx.foreach(QuizState.results, _result_row),
        rx.flex(
            rx.button("Back to the quiz", variant="soft", on_click=QuizState.back_to_quiz),
            rx.cond(QuizState.can_start & ~QuizState.quiz_passed,
                    rx.button("Try again", on_click=QuizState.start)),
            spacing="3", wrap="wrap",
        ),
        spacing="4", width="100%",
    )


def quiz_panel() -> rx.Component:
    """Shown in a quiz lesson's content, where a reading lesson has its text."""
    return rx.cond(
        QuizState.is_quiz,
        rx.box(rx.match(QuizState.mode, ("taking", taking()), ("result", result()), overview()),
               width="100%"),
        # Course staff preview lessons without an enrollment: there is no attempt to take.
        rx.cond((QuizState.lesson_kind == "quiz") & ~QuizState.is_enrolled & ~QuizState.loading,
                rx.callout("Enrolled learners take this quiz here; its questions and results "
                           "are in the workspace.", icon="info", width="100%")),
    )
