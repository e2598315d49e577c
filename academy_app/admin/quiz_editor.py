"""/admin/quizzes/[quiz_id] — a quiz's settings and its questions: add one of every type, edit
(a new version: attempts already taken keep theirs), reorder, remove, and regrade with a fixed key.

Handlers act on the server-held `_quiz_id` and `_question_id`; every id is checked again by the
quiz services against the caller, so a crafted event naming another course's quiz is refused and
logged (StaffState._act / AuthState._act_as).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx
from sqlmodel import Session

from academy_app.admin.workspace import admin_page
from academy_app.components.layout import labelled, link_button
from academy_app.infra.markdown import plain_text, render_markdown
from academy_app.models import User
from academy_app.services import gift, grading, quizzes
from academy_app.services.errors import Invalid, ServiceError
from academy_app.services.permissions import STAFF
from academy_app.state.auth import Events
from academy_app.state.staff import StaffState
from academy_app.text import as_id, id_in

SETTING_TEXTS = ("pass_percent", "max_attempts", "time_limit_minutes", "draw_count", "draw_tag",
                 "weight", "attempt_scoring", "show_answers", "closes_at")
SETTING_FLAGS = ("shuffle_questions", "shuffle_options", "is_graded")
KINDS = [("single", "Single choice"), ("multiple", "Multiple choice"),
         ("true_false", "True or false"), ("numeric", "Numeric"), ("short_text", "Short text"),
         ("ordering", "Ordering"), ("matching", "Matching")]
KIND_LABELS = dict(KINDS)
SCORINGS = [("highest", "Highest attempt"), ("last", "Last attempt"),
            ("average", "Average of attempts"), ("first", "First attempt")]
SHOW_ANSWERS = [("after_submit", "After submitting"), ("after_pass", "After passing"),
                ("never", "Never")]
# The question form's text fields; the lists (options, items, pairs) are kept beside it.
QUESTION_TEXTS = ("kind", "stem", "points", "explanation", "tags", "scoring", "penalty",
                  "answer", "tolerance", "tolerance_kind", "accepted", "regex", "case_sensitive",
                  "tf_answer", "feedback_true", "feedback_false")
MAX_TEXT = 20_000
MAX_ROWS = grading.MAX_OPTIONS
VERSION_NOTE = "Saving makes a new version. Attempts already taken keep the version they were " \
               "taken with; to change their grades, use “Regrade with this fix”."


@dataclass
class OptionRow:
    text: str = ""
    correct: bool = False
    feedback: str = ""


@dataclass
class EditorQuestion:
    id: int = 0
    number: int = 0
    kind: str = ""
    label: str = ""  # the start of the stem: what its buttons are named after
    points: str = ""
    tags: str = ""
    version: int = 1
    key: str = ""


def blank_question(kind: str = "single") -> tuple[dict[str, str], list[OptionRow], list[str],
                                                   list[list[str]]]:
    """An empty form of `kind` with room for the usual answers (two options, three items...)."""
    form = {"kind": kind, "stem": "", "points": "1", "explanation": "", "tags": "",
            "scoring": "all_or_nothing", "penalty": "0", "answer": "", "tolerance": "0",
            "tolerance_kind": "absolute", "accepted": "", "regex": "", "case_sensitive": "false",
            "tf_answer": "true", "feedback_true": "", "feedback_false": ""}
    return form, [OptionRow(), OptionRow()], ["", "", ""], [["", ""], ["", ""]]


def spec_of(form: dict[str, str], options: list[OptionRow], items: list[str],
            pairs: list[list[str]]) -> dict[str, Any]:
    """The answer key as typed, in grading.py's spec format (which validates it)."""
    kind = form.get("kind", "")
    if kind in ("single", "multiple"):
        spec: dict[str, Any] = {"options": [{"text": o.text, "correct": o.correct,
                                             "feedback": o.feedback} for o in options]}
        if kind == "multiple":
            spec |= {"scoring": form.get("scoring", ""), "penalty": form.get("penalty", "")}
        return spec
    if kind == "true_false":
        return {"answer": form.get("tf_answer") == "true",
                "feedback_true": form.get("feedback_true", ""),
                "feedback_false": form.get("feedback_false", "")}
    if kind == "numeric":
        return {"answer": form.get("answer", ""), "tolerance": form.get("tolerance", "") or "0",
                "tolerance_kind": form.get("tolerance_kind", "")}
    if kind == "short_text":
        return {"accepted": [line for line in form.get("accepted", "").splitlines()
                             if line.strip()],
                "regex": form.get("regex", ""), "case_sensitive": form.get("case_sensitive") == "true"}
    if kind == "ordering":
        return {"items": list(items)}
    return {"pairs": [list(pair) for pair in pairs]}


def form_of(question: quizzes.BankQuestion) -> tuple[dict[str, str], list[OptionRow], list[str],
                                                      list[list[str]]]:
    """The form that edits a saved question: `spec_of` read backwards."""
    form, options, items, pairs = blank_question(question.kind.value)
    spec = question.spec
    form |= {"stem": question.stem, "points": f"{question.points:g}",
             "explanation": question.explanation, "tags": ", ".join(question.tags)}
    if "options" in spec:
        options = [OptionRow(o["text"], o["correct"], o["feedback"]) for o in spec["options"]]
        form |= {"scoring": spec["scoring"], "penalty": f"{spec['penalty']:g}"}
    elif "items" in spec:
        items = list(spec["items"])
    elif "pairs" in spec:
        pairs = [list(pair) for pair in spec["pairs"]]
    elif "accepted" in spec:
        form |= {"accepted": "\n".join(spec["accepted"]), "regex": spec["regex"],
                 "case_sensitive": "true" if spec["case_sensitive"] else "false"}
    elif "tolerance" in spec:
        form |= {"answer": f"{spec['answer']:g}", "tolerance": f"{spec['tolerance']:g}",
                 "tolerance_kind": spec["tolerance_kind"]}
    else:
        form |= {"tf_answer": "true" if spec["answer"] else "false",
                 "feedback_true": spec["feedback_true"], "feedback_false": spec["feedback_false"]}
    return form, options, items, pairs


Editing = tuple[quizzes.QuizEditor, list[quizzes.BankQuestion]]


def editing(session: Session, staff: User, quiz_id: int) -> Editing:
    """The quiz as the editor shows it, and the bank questions it could add."""
    return (quizzes.quiz_for_editing(session, staff, quiz_id),
            quizzes.attachable_questions(session, staff, quiz_id))


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


class QuizEditorState(StaffState):
    loading: bool = True
    not_found: bool = False
    quiz_id: int = 0  # for links only; handlers act on the server-held _quiz_id
    course_id: int = 0
    title: str = ""
    course_title: str = ""
    settings: dict[str, str] = {}
    flags: dict[str, bool] = {}
    setting_errors: dict[str, str] = {}
    questions: list[EditorQuestion] = []
    # The course's bank questions this quiz does not have: [id, label] for the select.
    bank_choices: list[list[str]] = []
    bank_choice: str = ""
    # The question form: a new question while `editing_number` is 0, else the one it edits.
    qform: dict[str, str] = {}
    options: list[OptionRow] = []
    items: list[str] = []
    pairs: list[list[str]] = []
    q_errors: dict[str, str] = {}
    editing_number: int = 0
    # The regrade: its confirmation (open while `regrade_count` >= 0) and what it changed.
    regrade_count: int = -1
    regrade_report: str = ""
    newly_passed: list[str] = []
    newly_failed: list[str] = []
    _quiz_id: int = 0
    _course_id: int = 0
    _question_id: int = 0
    _bank: dict[int, quizzes.BankQuestion] = {}

    @rx.var
    def stem_preview(self) -> str:
        return render_markdown(self.qform.get("stem", ""))

    @rx.event
    async def load(self) -> Events:
        self.loading = True
        yield
        quiz_id = id_in(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])

        def read(session: Session, staff: User) -> Editing | None:
            try:
                return editing(session, staff, quiz_id)
            except ServiceError:
                return None

        editor, away = await self._read_as(read, roles=STAFF)
        if away:
            yield away
            return
        self.not_found = editor is None
        if editor is not None:
            self._show(*editor)
            self._new_question()
            self.setting_errors, self.regrade_report = {}, ""
        self.loading = False

    @rx.event
    async def reload(self) -> Events:
        """The quiz as it is now, the forms being typed kept."""
        quiz_id = self._quiz_id
        editor, refused = await self._act_as("quiz_editor.reload", lambda session, staff:
                                             editing(session, staff, quiz_id))
        if refused or editor is None:
            return refused
        self._show(*editor)
        return None

    def _show(self, editor: quizzes.QuizEditor, attachable: list[quizzes.BankQuestion]) -> None:
        quiz = editor.quiz
        self._quiz_id = self.quiz_id = quiz.id
        self._course_id = self.course_id = editor.course.id
        self.title, self.course_title = editor.lesson.title, editor.course.title
        self.settings = {
            "pass_percent": str(quiz.pass_percent), "max_attempts": _optional(quiz.max_attempts),
            "time_limit_minutes": _optional(quiz.time_limit_minutes),
            "draw_count": _optional(quiz.draw_count), "draw_tag": quiz.draw_tag,
            "weight": str(quiz.weight), "attempt_scoring": quiz.attempt_scoring.value,
            "show_answers": quiz.show_answers.value,
            "closes_at": f"{quiz.closes_at_local:%Y-%m-%dT%H:%M}" if quiz.closes_at_local else ""}
        self.flags = {name: bool(getattr(quiz, name)) for name in SETTING_FLAGS}
        self._bank = {q.id: q for q in editor.questions}
        self.questions = [EditorQuestion(
            id=q.id, number=number, kind=KIND_LABELS[q.kind.value],
            label=gift.title_from(plain_text(q.stem)),  # "What is 7 // 2?", not "`7 // 2`"
            points=f"{q.points:g}", tags=", ".join(q.tags), version=q.version,
            key=grading.describe_key(q.kind, q.spec))
            for number, q in enumerate(editor.questions, start=1)]
        self.bank_choices = [[str(q.id), f"{gift.title_from(plain_text(q.stem))} · "
                              f"{KIND_LABELS[q.kind.value]}"] for q in attachable]
        if not any(choice[0] == self.bank_choice for choice in self.bank_choices):
            self.bank_choice = ""

    # --- settings ------------------------------------------------------------------------------

    @rx.event
    def set_setting(self, name: str, value: str) -> None:
        if name in SETTING_TEXTS and isinstance(value, str):
            self.settings = {**self.settings, name: value[:100]}
            self.setting_errors = {k: v for k, v in self.setting_errors.items() if k != name}

    @rx.event
    def set_flag(self, name: str, value: bool) -> None:
        if name in SETTING_FLAGS and isinstance(value, bool):
            self.flags = {**self.flags, name: value}

    @rx.event
    async def save_settings(self) -> Events:
        form = quizzes.QuizSettingsForm(**{n: self.settings.get(n, "") for n in SETTING_TEXTS},
                                        **{n: self.flags.get(n, False) for n in SETTING_FLAGS})
        quiz_id = self._quiz_id
        try:
            _, refused = await self._act_as("quiz_editor.save_settings", lambda session, staff:
                                            quizzes.update_quiz_settings(session, staff, quiz_id,
                                                                         form))
        except Invalid as exc:
            self.setting_errors = exc.errors
            return rx.toast.error("Please correct the highlighted settings")
        if refused:
            return refused
        self.setting_errors = {}
        return [rx.toast.success("Settings saved"), QuizEditorState.reload]

    # --- the list of questions -----------------------------------------------------------------

    @rx.event
    async def move(self, question_id: int, direction: int) -> Events:
        quiz_id, question = self._quiz_id, as_id(question_id)
        return await self._change("quiz_editor.move", lambda s, a: quizzes.move_question(
            s, a, quiz_id, question, 1 if direction == 1 else -1))

    @rx.event
    async def remove(self, question_id: int) -> Events:
        quiz_id, question = self._quiz_id, as_id(question_id)
        if question == self._question_id:
            self._new_question()
        return await self._change("quiz_editor.remove", lambda s, a: quizzes.detach_question(
            s, a, quiz_id, question), "Question removed from the quiz (it stays in the bank)")

    @rx.event
    def choose_from_bank(self, value: str) -> None:
        if isinstance(value, str) and any(choice[0] == value for choice in self.bank_choices):
            self.bank_choice = value

    @rx.event
    async def add_from_bank(self) -> Events:
        """Add the chosen bank question at the end. The choice is cleared at once, so a double
        click adds nothing more (and the service attaches a question to a quiz only once)."""
        if not self.bank_choice:
            return None
        quiz_id, question = self._quiz_id, id_in(self.bank_choice)
        self.bank_choice = ""
        return await self._change("quiz_editor.add_from_bank", lambda s, a: quizzes.attach_question(
            s, a, quiz_id, question), "Question added from the bank")

    async def _change(self, name: str, action: Callable[[Session, User], object],
                      success: str = "") -> Events:
        return await self._act(name, action, success, QuizEditorState.reload)

    # --- the question form ---------------------------------------------------------------------

    def _new_question(self, kind: str = "single") -> None:
        self.qform, self.options, self.items, self.pairs = blank_question(kind)
        self.q_errors, self.editing_number, self._question_id = {}, 0, 0

    @rx.event
    def new_question(self) -> None:
        self._new_question()

    @rx.event
    def edit(self, question_id: int) -> None:
        question = self._bank.get(as_id(question_id))
        if question is None:  # not a question of this quiz (as last read)
            return
        self.qform, self.options, self.items, self.pairs = form_of(question)
        self._question_id, self.q_errors, self.regrade_report = question.id, {}, ""
        self.editing_number = next((q.number for q in self.questions if q.id == question.id), 1)

    @rx.event
    def set_kind(self, kind: str) -> None:
        """A new question's type; a saved question keeps its own."""
        if isinstance(kind, str) and kind in KIND_LABELS and not self._question_id:
            stem, points = self.qform.get("stem", ""), self.qform.get("points", "1")
            self._new_question(kind)
            self.qform = {**self.qform, "stem": stem, "points": points}

    @rx.event
    def set_q(self, name: str, value: str) -> None:
        if name in QUESTION_TEXTS and name != "kind" and isinstance(value, str):
            self.qform = {**self.qform, name: _text(value)}
            self.q_errors = {k: v for k, v in self.q_errors.items() if k != name}

    @rx.event
    def set_option(self, index: int, name: str, value: str | bool) -> None:
        if isinstance(index, int) and 0 <= index < len(self.options) and \
                name in ("text", "feedback", "correct"):
            option = self.options[index]
            if name == "correct" and isinstance(value, bool):
                option = OptionRow(option.text, value, option.feedback)
            elif name == "text" and isinstance(value, str):
                option = OptionRow(_text(value, grading.MAX_OPTION_TEXT), option.correct,
                                   option.feedback)
            elif name == "feedback" and isinstance(value, str):
                option = OptionRow(option.text, option.correct, _text(value, grading.MAX_FEEDBACK))
            self.options = [option if i == index else o for i, o in enumerate(self.options)]

    @rx.event
    def add_option(self) -> None:
        if len(self.options) < MAX_ROWS:
            self.options = [*self.options, OptionRow()]

    @rx.event
    def remove_option(self, index: int) -> None:
        self.options = [o for i, o in enumerate(self.options) if i != index]

    @rx.event
    def set_item(self, index: int, value: str) -> None:
        if isinstance(index, int) and 0 <= index < len(self.items) and isinstance(value, str):
            self.items = [_text(value, grading.MAX_OPTION_TEXT) if i == index else item
                          for i, item in enumerate(self.items)]

    @rx.event
    def add_item(self) -> None:
        if len(self.items) < MAX_ROWS:
            self.items = [*self.items, ""]

    @rx.event
    def remove_item(self, index: int) -> None:
        self.items = [item for i, item in enumerate(self.items) if i != index]

    @rx.event
    def set_pair(self, index: int, side: int, value: str) -> None:
        if isinstance(index, int) and 0 <= index < len(self.pairs) and side in (0, 1) and \
                isinstance(value, str):
            self.pairs = [[_text(value, grading.MAX_OPTION_TEXT) if s == side else text
                           for s, text in enumerate(pair)] if i == index else pair
                          for i, pair in enumerate(self.pairs)]

    @rx.event
    def add_pair(self) -> None:
        if len(self.pairs) < MAX_ROWS:
            self.pairs = [*self.pairs, ["", ""]]

    @rx.event
    def remove_pair(self, index: int) -> None:
        self.pairs = [pair for i, pair in enumerate(self.pairs) if i != index]

    def _question_form(self) -> quizzes.QuestionForm:
        return quizzes.QuestionForm(
            kind=self.qform.get("kind", ""), stem=self.qform.get("stem", ""),
            spec=spec_of(self.qform, self.options, self.items, self.pairs),
            points=self.qform.get("points", ""), explanation=self.qform.get("explanation", ""),
            tags=self.qform.get("tags", ""))

    @rx.event
    async def save_question(self) -> Events:
        form, quiz_id, question_id = self._question_form(), self._quiz_id, self._question_id
        try:
            _, refused = await self._act_as("quiz_editor.save_question", lambda session, staff: (
                quizzes.edit_question(session, staff, question_id, form) if question_id else
                quizzes.add_quiz_question(session, staff, quiz_id, form)))
        except Invalid as exc:
            self.q_errors = exc.errors
            return rx.toast.error("Please correct the question")
        if refused:
            return [*refused, QuizEditorState.reload]
        self._new_question(form.kind)
        return [rx.toast.success("New version saved" if question_id else "Question added"),
                QuizEditorState.reload]

    # --- regrading -----------------------------------------------------------------------------

    @rx.event
    async def ask_regrade(self) -> Events:
        """Say how many attempts the fix will grade again before doing it."""
        question_id = self._question_id
        reach, refused = await self._act_as("quiz_editor.ask_regrade", lambda session, staff:
                                            quizzes.regrade_reach(session, staff, question_id))
        if refused or reach is None:
            return refused
        self.regrade_count = reach
        return None

    @rx.event
    def cancel_regrade(self) -> None:
        self.regrade_count = -1

    @rx.event
    async def confirm_regrade(self) -> Events:
        self.regrade_count = -1
        form, question_id, course_id = self._question_form(), self._question_id, self._course_id

        def regrade(session: Session, staff: User) -> tuple[int, list[str], list[str]]:
            report = quizzes.regrade_question(session, staff, question_id, form)
            return (report.attempts,
                    quizzes.learner_names(session, staff, course_id, report.newly_passed),
                    quizzes.learner_names(session, staff, course_id, report.newly_failed))

        try:
            done, refused = await self._act_as("quiz_editor.regrade", regrade)
        except Invalid as exc:
            self.q_errors = exc.errors
            return rx.toast.error("Please correct the question")
        if refused or done is None:
            return [*(refused or []), QuizEditorState.reload]
        count, self.newly_passed, self.newly_failed = done
        self.regrade_report = f"Regraded {count} attempt{'s' if count != 1 else ''} with the fix."
        self._new_question()
        return [rx.toast.success("Question fixed and attempts regraded"), QuizEditorState.reload]


def _optional(value: int | None) -> str:
    return "" if value is None else str(value)


# --- the page --------------------------------------------------------------------------------

S = QuizEditorState


def _text_field(label: str, field_id: str, name: str, values: rx.Var, errors: rx.Var,
                setter: rx.EventHandler, hint: str = "", **props: Any) -> rx.Component:
    """A text input for `values[name]` with its label, hint and error (`errors[name]`); typing
    calls `setter(name, text)`. The settings and the question form are made of these."""
    return labelled(label, field_id, rx.input(
        id=field_id, value=values.get(name, ""), width="100%",
        on_change=lambda value: setter(name, value),
        aria_invalid=rx.cond(errors.contains(name), "true", "false"),
        aria_describedby=f"{field_id}-error", **props), errors.get(name, ""), hint)


def _setting(label: str, name: str, hint: str = "", **props: Any) -> rx.Component:
    return _text_field(label, name, name, S.settings, S.setting_errors, S.set_setting, hint,
                       **props)


def _setting_choice(label: str, name: str, choices: list[tuple[str, str]]) -> rx.Component:
    return _select(label, name, choices, S.settings.get(name, ""),
                   lambda value: S.set_setting(name, value), S.setting_errors.get(name, ""))


def _select(label: str, field_id: str, choices: list[tuple[str, str]], value: rx.Var,
            on_change: Callable[[str], Any], error: rx.Var, **props: Any) -> rx.Component:
    return labelled(label, field_id, rx.select.root(
        rx.select.trigger(id=field_id, aria_label=label, width="100%",
                          aria_invalid=rx.cond(error != "", "true", "false")),
        rx.select.content(*[rx.select.item(text, value=v) for v, text in choices]),
        value=value, on_change=on_change, **props), error)


def _flag(label: str, name: str) -> rx.Component:
    return rx.checkbox(label, checked=S.flags.get(name, False),
                       on_change=lambda value: S.set_flag(name, value))


def settings_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Settings", size="4", as_="h2"),
        rx.grid(
            _setting("Pass mark (%)", "pass_percent", inputmode="numeric"),
            _setting("Attempts allowed", "max_attempts", "Empty: unlimited.", inputmode="numeric"),
            _setting_choice("How attempts count", "attempt_scoring", SCORINGS),
            _setting("Time limit (minutes)", "time_limit_minutes", "Empty: no limit.",
                     inputmode="numeric"),
            _setting("Questions drawn per attempt", "draw_count", "Empty: every question.",
                     inputmode="numeric"),
            _setting("Draw from tag", "draw_tag", "Empty: from this quiz's questions."),
            _setting_choice("Show answers", "show_answers", SHOW_ANSWERS),
            _setting("Weight", "weight", "In the overall grade, when weighted by quiz.",
                     inputmode="numeric"),
            _setting("Closes on", "closes_at", "The course's time zone (see Pacing). Empty: "
                     "never closes.", type="datetime-local"),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        rx.hstack(
            _flag("Shuffle questions", "shuffle_questions"),
            _flag("Shuffle options", "shuffle_options"),
            _flag("Graded (must be passed for the certificate)", "is_graded"),
            spacing="5",
            wrap="wrap",
        ),
        rx.hstack(rx.spacer(), rx.button("Save settings", on_click=S.save_settings), width="100%"),
        spacing="4",
        width="100%",
    ), width="100%")


def question_line(question: EditorQuestion) -> rx.Component:
    name = "question " + question.number.to_string() + ": " + question.label
    return rx.hstack(
        rx.text(question.number.to_string() + ".", weight="bold", size="2", min_width="24px"),
        rx.vstack(
            rx.text(question.label, size="2", weight="medium"),
            rx.hstack(
                rx.badge(question.kind, variant="soft"),
                rx.text(question.points + " pt · v" + question.version.to_string(), size="1",
                        color_scheme="gray"),
                rx.cond(question.tags != "", rx.text("Tags: " + question.tags, size="1",
                                                     color_scheme="gray")),
                rx.text("Key: " + question.key, size="1", color_scheme="gray", trim="both"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.icon_button(rx.icon("arrow-up", size=14), size="1", variant="ghost",
                       aria_label="Move up " + name, on_click=S.move(question.id, -1)),
        rx.icon_button(rx.icon("arrow-down", size=14), size="1", variant="ghost",
                       aria_label="Move down " + name, on_click=S.move(question.id, 1)),
        rx.button("Edit", size="1", variant="soft", aria_label="Edit " + name,
                  on_click=S.edit(question.id)),
        rx.button("Remove", size="1", variant="soft", color_scheme="red",
                  aria_label="Remove " + name, on_click=S.remove(question.id)),
        align="center",
        width="100%",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def bank_picker() -> rx.Component:
    """A question the course's bank already has, added at the end of the quiz."""
    return rx.cond(S.bank_choices.length() > 0, rx.hstack(
        rx.box(labelled("Add from the question bank", "bank-question", rx.select.root(
            rx.select.trigger(id="bank-question", aria_label="Add from the question bank",
                              placeholder="Choose a question", width="100%"),
            rx.select.content(rx.foreach(S.bank_choices, lambda choice: rx.select.item(
                choice[1], value=choice[0]))),
            value=S.bank_choice, on_change=S.choose_from_bank), ""), flex="1", min_width="0"),
        rx.button(rx.icon("plus", size=14), "Add to quiz", variant="outline",
                  on_click=S.add_from_bank, disabled=S.bank_choice == ""),
        align="end",
        width="100%",
    ))


def questions_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Questions", size="4", as_="h2"),
        rx.cond(S.questions.length() > 0,
                rx.el.ol(rx.foreach(S.questions, lambda q: rx.el.li(question_line(q))),
                         style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
                         aria_label="Questions in order"),
                rx.text("No questions yet: add the first one below.", size="2",
                        color_scheme="gray")),
        bank_picker(),
        rx.cond(S.regrade_report != "", rx.callout(rx.vstack(
            rx.text(S.regrade_report, weight="medium"),
            rx.text("Now passing: ", rx.cond(S.newly_passed.length() > 0,
                                             S.newly_passed.join(", "), "nobody new")),
            rx.text("Now failing: ", rx.cond(S.newly_failed.length() > 0,
                                             S.newly_failed.join(", "), "nobody new")),
            spacing="1"), icon="circle-check", color_scheme="green", role="status", width="100%")),
        spacing="3",
        width="100%",
    ), width="100%")


def _q_input(label: str, name: str, hint: str = "", **props: Any) -> rx.Component:
    return _text_field(label, f"q-{name}", name, S.qform, S.q_errors, S.set_q, hint, **props)


def _answer_row(*controls: rx.Component, remove: rx.Var, on_remove: Any) -> rx.Component:
    """One option, item or pair of the answer key, with its Remove button named after it."""
    return rx.hstack(
        *controls,
        rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                       aria_label=remove, on_click=on_remove),
        align="center",
        width="100%",
    )


def option_row(option: OptionRow, index: rx.Var) -> rx.Component:
    number = (index + 1).to_string()
    return _answer_row(
        rx.checkbox("Correct", checked=option.correct,
                    on_change=lambda value: S.set_option(index, "correct", value),
                    aria_label="Option " + number + " is correct"),
        rx.input(value=option.text, aria_label="Option " + number, placeholder="Option text",
                 on_change=lambda value: S.set_option(index, "text", value), flex="2"),
        rx.input(value=option.feedback, aria_label="Feedback for option " + number,
                 placeholder="Feedback when chosen (optional)",
                 on_change=lambda value: S.set_option(index, "feedback", value), flex="2"),
        remove="Remove option " + number, on_remove=S.remove_option(index))


def item_row(item: rx.Var, index: rx.Var) -> rx.Component:
    number = (index + 1).to_string()
    return _answer_row(
        rx.text(number + ".", size="2", min_width="24px"),
        rx.input(value=item, aria_label="Item " + number, flex="1",
                 on_change=lambda value: S.set_item(index, value)),
        remove="Remove item " + number, on_remove=S.remove_item(index))


def pair_row(pair: rx.Var, index: rx.Var) -> rx.Component:
    number = (index + 1).to_string()
    return _answer_row(
        rx.input(value=pair[0], aria_label="Pair " + number + " left", flex="1",
                 on_change=lambda value: S.set_pair(index, 0, value)),
        rx.icon("arrow-right", size=14, aria_hidden="true"),
        rx.input(value=pair[1], aria_label="Pair " + number + " right", flex="1",
                 on_change=lambda value: S.set_pair(index, 1, value)),
        remove="Remove pair " + number, on_remove=S.remove_pair(index))


def answer_key() -> rx.Component:
    """The part of the form that changes with the question's type."""
    kind = S.qform.get("kind", "")
    return rx.vstack(
        rx.text("Answer key", weight="medium", size="2"),
        rx.match(
            kind,
            ("true_false", rx.vstack(
                _select("The statement is", "q-tf_answer", [("true", "True"), ("false", "False")],
                        S.qform.get("tf_answer", ""), lambda v: S.set_q("tf_answer", v), ""),
                rx.grid(_q_input("Feedback for “True”", "feedback_true"),
                        _q_input("Feedback for “False”", "feedback_false"),
                        columns="2", spacing="3", width="100%"),
                width="100%")),
            ("numeric", rx.grid(
                _q_input("Right answer", "answer", inputmode="decimal"),
                _q_input("Tolerance", "tolerance", inputmode="decimal"),
                _select("Tolerance is", "q-tolerance_kind",
                        [("absolute", "Absolute (±)"), ("percent", "Percent of the answer")],
                        S.qform.get("tolerance_kind", ""),
                        lambda v: S.set_q("tolerance_kind", v), ""),
                columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%")),
            ("short_text", rx.vstack(
                labelled("Accepted answers", "q-accepted", rx.text_area(
                    id="q-accepted", value=S.qform.get("accepted", ""), rows="3", width="100%",
                    on_change=lambda v: S.set_q("accepted", v)), "",
                    "One per line. Spaces and (unless case matters) case are ignored."),
                _q_input("Or a pattern (regular expression)", "regex",
                         placeholder="e.g. colou?r"),
                rx.checkbox("Case matters", checked=S.qform.get("case_sensitive", "") == "true",
                            on_change=lambda v: S.set_q("case_sensitive",
                                                        rx.cond(v, "true", "false"))),
                width="100%")),
            ("ordering", rx.vstack(
                rx.text("Enter the items in the right order; learners see them shuffled.",
                        size="2", color_scheme="gray"),
                rx.foreach(S.items, item_row),
                rx.button(rx.icon("plus", size=14), "Add item", size="1", variant="outline",
                          on_click=S.add_item),
                width="100%")),
            ("matching", rx.vstack(
                rx.text("Each left side goes with its right side; learners see the right sides "
                        "shuffled.", size="2", color_scheme="gray"),
                rx.foreach(S.pairs, pair_row),
                rx.button(rx.icon("plus", size=14), "Add pair", size="1", variant="outline",
                          on_click=S.add_pair),
                width="100%")),
            rx.vstack(
                rx.foreach(S.options, option_row),
                rx.button(rx.icon("plus", size=14), "Add option", size="1", variant="outline",
                          on_click=S.add_option),
                rx.cond(kind == "multiple", rx.grid(
                    _select("Scoring", "q-scoring",
                            [("all_or_nothing", "All or nothing"),
                             ("per_option", "Per option, with a penalty")],
                            S.qform.get("scoring", ""), lambda v: S.set_q("scoring", v), ""),
                    _q_input("Penalty per wrong option (0 to 1)", "penalty",
                             inputmode="decimal"),
                    columns="2", spacing="3", width="100%")),
                width="100%"),
        ),
        rx.cond(S.q_errors.contains("spec"),
                rx.text(S.q_errors["spec"], id="q-spec-error", color_scheme="red", size="2",
                        role="alert")),
        spacing="2",
        width="100%",
        role="group",
        aria_label="Answer key",
    )


def question_form() -> rx.Component:
    editing = S.editing_number > 0
    return rx.card(rx.vstack(
        rx.heading(rx.cond(editing, "Edit question " + S.editing_number.to_string(),
                           "Add question"), size="4", as_="h2"),
        rx.cond(editing, rx.callout(VERSION_NOTE, icon="info", size="1", width="100%")),
        rx.grid(
            _select("Question type", "q-kind", KINDS, S.qform.get("kind", ""), S.set_kind,
                    S.q_errors.get("kind", ""), disabled=editing),
            _q_input("Points", "points", inputmode="decimal"),
            _q_input("Tags", "tags", "Separated by commas."),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
        rx.grid(
            labelled("Question", "q-stem", rx.text_area(
                id="q-stem", value=S.qform.get("stem", ""), rows="4", width="100%",
                on_change=lambda v: S.set_q("stem", v), placeholder="Markdown",
                aria_invalid=rx.cond(S.q_errors.contains("stem"), "true", "false"),
                aria_describedby="q-stem-error"), S.q_errors.get("stem", ""), "Markdown."),
            rx.box(rx.html(S.stem_preview, class_name="markdown"),
                   border=f"1px solid {rx.color('gray', 5)}", border_radius="8px",
                   padding="12px", min_height="80px", width="100%", role="region",
                   aria_label="Question preview"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        answer_key(),
        labelled("Explanation", "q-explanation", rx.text_area(
            id="q-explanation", value=S.qform.get("explanation", ""), rows="2", width="100%",
            on_change=lambda v: S.set_q("explanation", v),
            aria_describedby="q-explanation-error"), S.q_errors.get("explanation", ""),
            "Shown with the answers, as the quiz's settings say."),
        rx.hstack(
            rx.spacer(),
            rx.cond(editing, rx.fragment(
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.new_question),
                rx.button("Regrade with this fix", variant="outline", color_scheme="amber",
                          on_click=S.ask_regrade),
                rx.button("Save new version", on_click=S.save_question),
            ), rx.button(rx.icon("plus", size=14), "Add question", on_click=S.save_question)),
            width="100%",
            spacing="2",
        ),
        spacing="3",
        width="100%",
    ), width="100%")


def regrade_dialog() -> rx.Component:
    count = S.regrade_count.to_string()
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title("Regrade with this fix?"),
        rx.alert_dialog.description(
            "The fixed key becomes the question's new version and " + count +
            " attempt(s) that had this question are graded again with it. Learners whose pass "
            "or fail changes are told; certificates are issued to those who now qualify."),
        rx.hstack(
            rx.spacer(),
            rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                             on_click=S.cancel_regrade)),
            rx.alert_dialog.action(rx.button("Regrade " + count + " attempt(s)",
                                             color_scheme="amber", on_click=S.confirm_regrade)),
            width="100%",
            padding_top="12px",
        ),
    ), open=S.regrade_count >= 0)


def quiz_editor_page() -> rx.Component:
    return admin_page(
        rx.cond(S.title != "", S.title, "Quiz"),
        "Settings, questions and answer keys of a quiz.",
        rx.cond(
            S.not_found,
            rx.callout("This quiz does not exist, or it is not yours to edit.",
                       icon="circle-alert", color_scheme="red", role="alert"),
            rx.cond(
                S.loading,
                rx.skeleton(rx.box(height="400px", width="100%"), loading=True),
                rx.vstack(
                    rx.hstack(
                        rx.link("← " + S.course_title,
                                href="/admin/courses/" + S.course_id.to_string()),
                        rx.spacer(),
                        link_button("Question bank", "/admin/courses/" + S.course_id.to_string()
                                    + "/questions", variant="soft", size="2"),
                        link_button("Results", "/admin/quizzes/" + S.quiz_id.to_string()
                                    + "/results", variant="soft", size="2"),
                        width="100%",
                        align="center",
                    ),
                    settings_card(),
                    questions_card(),
                    question_form(),
                    regrade_dialog(),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )
