"""/admin/courses/[course_id]/questions — a course's question bank: filter by tag, import GIFT
(pasted or from a file, previewed with the reader's line-numbered errors and warnings before
anything is saved) and export GIFT."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session

from academy_app.admin.reports import CourseReportState, course_header, course_missing
from academy_app.admin.workspace import admin_page, data_table
from academy_app.components.layout import empty_state, labelled
from academy_app.infra.markdown import plain_text
from academy_app.models import User
from academy_app.services import gift, grading, quizzes
from academy_app.services.errors import Invalid
from academy_app.services.permissions import STAFF
from academy_app.state.auth import Events

GIFT_UPLOAD_ID = "gift-file"
ALL_TAGS = "all"


@dataclass
class BankLine:
    id: int = 0
    kind: str = ""
    label: str = ""
    tags: str = ""
    points: str = ""
    version: int = 1


@dataclass
class PreviewLine:
    number: int = 0
    kind: str = ""
    title: str = ""
    key: str = ""
    tags: str = ""


def _kind_label(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


class QuestionBankState(CourseReportState):
    rows: list[BankLine] = []
    tags: list[str] = []
    tag: str = ALL_TAGS
    gift_text: str = ""
    preview: list[PreviewLine] = []
    gift_errors: list[str] = []
    gift_warnings: list[str] = []
    previewed: bool = False
    import_error: str = ""
    export_error: str = ""
    _parsed: list[gift.GiftQuestion] = []

    @rx.event
    async def load(self) -> Events:
        rows, away = await self._read_course(
            lambda session, staff, course_id: quizzes.bank(session, staff, course_id))
        if away:
            return away
        if rows is not None:
            self.tags = sorted({tag for row in rows for tag in row.tags})
            if self.tag != ALL_TAGS and self.tag not in self.tags:
                self.tag = ALL_TAGS
            self.rows = [BankLine(id=q.id, kind=_kind_label(q.kind.value),
                                  label=gift.title_from(plain_text(q.stem)),
                                  tags=", ".join(q.tags),
                                  points=f"{q.points:g}", version=q.version)
                         for q in rows if self.tag == ALL_TAGS or self.tag in q.tags]
        return None

    @rx.event
    def set_tag(self, tag: str) -> rx.event.EventHandler:
        self.tag = tag if isinstance(tag, str) and (tag in self.tags or tag == ALL_TAGS) \
            else ALL_TAGS
        self.export_error = ""
        return QuestionBankState.load

    @rx.event
    def set_gift_text(self, text: str) -> None:
        self.gift_text = text[:gift.MAX_BYTES + 1] if isinstance(text, str) else ""
        self.previewed, self.import_error = False, ""

    @rx.event
    async def preview_gift(self) -> Events:
        """Read the text as GIFT and show what would be imported; nothing is saved yet."""
        text = self.gift_text
        read, away = await self._read_as(lambda _session, _staff: gift.parse(text), roles=STAFF)
        if away or read is None:
            return away
        self._parsed = read.questions
        self.preview = [PreviewLine(number=n, kind=_kind_label(q.kind), title=q.title,
                                    key=grading.describe_key(q.kind, q.spec),
                                    tags=", ".join(q.tags))
                        for n, q in enumerate(read.questions, start=1)]
        self.gift_errors = [f"Line {e.line}: {e.message}" for e in read.errors]
        self.gift_warnings = [f"Line {w.line}: {w.message}" for w in read.warnings]
        self.previewed, self.import_error = True, ""
        return None

    @rx.event
    async def upload_gift(self, files: list[rx.UploadFile]) -> Events:
        """Upload handler: a .gift or .txt file read into the text box, then previewed."""
        # Only the upload endpoint brings files; the same handler named over the WebSocket brings
        # whatever the client sent, which is no file.
        if not (isinstance(files, list) and files and isinstance(files[0], rx.UploadFile)):
            return None
        data = await files[0].read(gift.MAX_BYTES + 1)
        if len(data) > gift.MAX_BYTES:
            self.import_error = "The file is larger than 1 MB: split it into smaller files"
            return rx.clear_selected_files(GIFT_UPLOAD_ID)
        try:
            self.gift_text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.import_error = "The file is not UTF-8 text: save it as UTF-8 and try again"
            return rx.clear_selected_files(GIFT_UPLOAD_ID)
        return [rx.clear_selected_files(GIFT_UPLOAD_ID), QuestionBankState.preview_gift]

    @rx.event
    async def import_gift(self) -> Events:
        if not self.previewed:
            return None
        course_id, questions = self._course_id, list(self._parsed)
        try:
            added, refused = await self._act_as("question_bank.import", lambda session, staff: len(
                quizzes.import_gift(session, staff, course_id, questions)))
        except Invalid as exc:
            self.import_error = exc.message
            return None
        if refused:
            return refused
        self.gift_text, self.preview, self.gift_errors, self.gift_warnings = "", [], [], []
        self.previewed, self._parsed = False, []
        return [rx.toast.success(f"{added} question{'s' if added != 1 else ''} imported"),
                QuestionBankState.load]

    @rx.event
    def cancel_import(self) -> None:
        self.previewed, self.preview, self._parsed = False, [], []

    @rx.event
    async def export_gift(self) -> Events:
        course_id, tag = self._course_id, "" if self.tag == ALL_TAGS else self.tag

        def export(session: Session, staff: User) -> str:
            return quizzes.export_gift(session, staff, course_id, tag)

        try:
            text, refused = await self._act_as("question_bank.export", export)
        except Invalid as exc:
            self.export_error = exc.message
            return None
        if refused or text is None:
            return refused
        self.export_error = ""
        return rx.download(data=text, filename=f"questions-{course_id}.gift")


S = QuestionBankState


def bank_row(line: BankLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.label),
        rx.table.cell(line.kind),
        rx.table.cell(line.tags),
        rx.table.cell(line.points),
        rx.table.cell("v" + line.version.to_string()),
    )


def bank_card() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.el.label("Tag", html_for="bank-tag", style={"font_weight": "500"}),
            rx.select.root(
                rx.select.trigger(id="bank-tag", aria_label="Filter by tag", min_width="200px"),
                rx.select.content(rx.select.item("All tags", value=ALL_TAGS),
                                  rx.foreach(S.tags, lambda t: rx.select.item(t, value=t))),
                value=S.tag, on_change=S.set_tag),
            rx.spacer(),
            rx.button(rx.icon("download", size=14), "Export GIFT", variant="soft",
                      on_click=S.export_gift),
            wrap="wrap",  # a phone puts Export GIFT on a line of its own, not past the edge
            width="100%",
            align="center",
        ),
        rx.cond(S.export_error != "", rx.callout(S.export_error, icon="triangle-alert",
                                                 color_scheme="amber", role="alert",
                                                 width="100%")),
        data_table(S.rows, bank_row, ["Question", "Type", "Tags", "Points", "Version"],
                   empty_state("library", "No questions yet",
                               "Add questions in a quiz, or import a GIFT file below.")),
        spacing="3",
        width="100%",
    )


def preview_row(line: PreviewLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.number.to_string() + ". " + line.title),
        rx.table.cell(line.kind),
        rx.table.cell(line.key),
        rx.table.cell(line.tags),
    )


def _messages(lines: rx.Var, title: str, color: str, icon: str) -> rx.Component:
    return rx.cond(lines.length() > 0, rx.callout(rx.vstack(
        rx.text(title, weight="medium"),
        rx.el.ul(rx.foreach(lines, lambda line: rx.el.li(line)), style={"margin": 0}),
        spacing="1"), icon=icon, color_scheme=color, width="100%", role="alert"))


def import_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Import GIFT", size="4", as_="h2"),
        rx.text("Paste questions in Moodle's GIFT format, or choose a .gift or .txt file. You see "
                "what will be imported before anything is saved.", size="2", color_scheme="gray"),
        labelled("GIFT text", "gift-text", rx.text_area(
            id="gift-text", value=S.gift_text, on_change=S.set_gift_text, rows="8",
            width="100%", font_family="monospace",
            placeholder="::Capital::What is the capital of France? {=Paris ~Lyon}"), ""),
        rx.hstack(
            # The dropzone's file input takes no props of its own: a label around it names it
            # after the button.
            rx.el.label(rx.upload.root(
                rx.button(rx.icon("paperclip", size=14), "Choose a GIFT file", variant="outline",
                          type="button"),
                id=GIFT_UPLOAD_ID, accept={"text/plain": [".gift", ".txt"]}, max_files=1,
                max_size=gift.MAX_BYTES, multiple=False, no_drag=True,
                on_drop=S.upload_gift(rx.upload_files(upload_id=GIFT_UPLOAD_ID)),
            )),
            rx.spacer(),
            rx.button("Preview import", on_click=S.preview_gift),
            width="100%",
        ),
        rx.cond(S.previewed, rx.vstack(
            _messages(S.gift_errors, "Not imported (fix these lines and preview again):", "red",
                      "circle-alert"),
            _messages(S.gift_warnings, "Imported with changes:", "amber", "triangle-alert"),
            data_table(S.preview, preview_row, ["Question", "Type", "Answer", "Tags"],
                       rx.text("No question could be read.", size="2", color_scheme="gray")),
            rx.cond(S.import_error != "", rx.callout(S.import_error, icon="circle-alert",
                                                     color_scheme="red", role="alert",
                                                     width="100%")),
            rx.hstack(
                rx.spacer(),
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.cancel_import),
                rx.cond(S.preview.length() > 0, rx.button(
                    "Import " + S.preview.length().to_string() + " question"
                    + rx.cond(S.preview.length() == 1, "", "s"), on_click=S.import_gift)),
                width="100%",
            ),
            spacing="3",
            width="100%",
            role="region",
            aria_label="Import preview",
        )),
        rx.cond(~S.previewed & (S.import_error != ""),
                rx.callout(S.import_error, icon="circle-alert", color_scheme="red",
                           role="alert", width="100%")),
        spacing="3",
        width="100%",
    ), width="100%")


def question_bank_page() -> rx.Component:
    return admin_page(
        "Question bank",
        "The course's questions: every quiz of the course can use them, or draw them by tag.",
        rx.cond(S.not_found, course_missing(), rx.vstack(
            course_header(QuestionBankState),
            bank_card(),
            import_card(),
            spacing="4",
            width="100%",
        )),
    )


