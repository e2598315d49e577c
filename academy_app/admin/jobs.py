"""/admin/jobs — background work for admins: what waits, what was sent, what failed, and Retry."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from academy_app.admin.kit.page import pager
from academy_app.admin.workspace import admin_page, data_table
from academy_app.components.layout import empty_state, stat_card
from academy_app.models import EmailStatus, as_utc
from academy_app.services import jobs
from academy_app.services.permissions import ADMINS
from academy_app.state.auth import Refusal
from academy_app.state.staff import StaffState
from academy_app.text import as_id

STATUS_COLORS = {"queued": "amber", "sent": "green", "failed": "red"}


def waiting_label(data: jobs.JobsOverview) -> str:
    """The "Waiting in the queue" card: a count, or why there is none. Without a broker nothing
    waits (tasks run in the web process): that is the embedded default, not a fault."""
    if data.waiting is not None:
        return str(data.waiting)
    return "Runs in the web process (no broker)" if data.broker_answers else "Broker not answering"


@dataclass
class EmailLine:
    id: int = 0
    kind: str = ""
    recipient: str = ""
    subject: str = ""
    status: str = ""
    attempts: int = 0
    error: str = ""
    when: str = ""


class JobsState(StaffState):
    rows: list[EmailLine] = []
    waiting: str = ""
    waiting_counted: bool = False  # a count, drawn as a figure; else a sentence, as text
    queued: int = 0
    failed: int = 0
    sent_last_day: int = 0
    certificates_drawing: int = 0
    status_filter: str = "all"
    loading: bool = True
    # Keyset paging (services/emails.newest), as the admin kit's lists page: where this page
    # starts, where the pages before it started, and where the next one starts.
    summary: str = ""  # e.g. "51-100 of 1,234"
    has_next: bool = False
    has_previous: bool = False
    _cursor: str = ""
    _previous: list[str] = []
    _next: str = ""

    @rx.event
    async def load(self) -> Refusal | None:
        """on_load: the newest emails."""
        self._cursor, self._previous = "", []
        return await self._read_page()

    @rx.event
    async def refresh(self) -> Refusal | None:
        """The page being read, as it is now (after a retry)."""
        refused = await self._read_page()
        if not refused and not self.rows and self._previous:  # its last row left the filter
            self._cursor, self._previous = self._previous[-1], self._previous[:-1]
            refused = await self._read_page()
        return refused

    @rx.event
    async def set_status_filter(self, value: str) -> Refusal | None:
        self.status_filter = value if value in ("all", *EmailStatus._value2member_map_) else "all"
        self._cursor, self._previous = "", []
        return await self._read_page()

    @rx.event
    async def next_page(self) -> Refusal | None:
        if not self._next:
            return None
        self._cursor, self._previous = self._next, [*self._previous, self._cursor]
        return await self._read_page()

    @rx.event
    async def previous_page(self) -> Refusal | None:
        if not self._previous:
            return None
        self._cursor, self._previous = self._previous[-1], self._previous[:-1]
        return await self._read_page()

    @rx.event
    async def retry(self, email_id: int) -> Refusal:
        return await self._act("retry_email", lambda session, actor: jobs.retry_email(
            session, actor, as_id(email_id)), "Queued again", JobsState.refresh)

    async def _read_page(self) -> Refusal | None:
        status = EmailStatus(self.status_filter) if self.status_filter != "all" else None
        cursor = self._cursor
        data, away = await self._read_as(
            lambda session, actor: jobs.overview(session, actor, status, cursor), roles=ADMINS)
        if away:
            return away
        self.waiting, self.waiting_counted = waiting_label(data), data.waiting is not None
        self.queued, self.failed, self.sent_last_day = data.queued, data.failed, data.sent_last_day
        self.certificates_drawing = data.certificates_drawing
        self.rows = [EmailLine(id=r.id, kind=r.kind, recipient=r.to_address, subject=r.subject,
                               status=r.status, attempts=r.attempts, error=r.last_error[:300],
                               when=as_utc(r.sent_at or r.created_at).strftime("%d %b, %H:%M UTC"))
                     for r in data.recent]
        self._next, self.has_next = data.next_cursor, bool(data.next_cursor)
        self.has_previous = bool(self._previous)
        first = len(self._previous) * jobs.PAGE_SIZE + 1
        self.summary = (f"{first:,}–{first + len(self.rows) - 1:,} of {data.listed:,}"
                        if self.rows else "")
        self.loading = False
        return None


def email_line(line: EmailLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(line.subject, weight="medium", size="2"),
                                           rx.text(line.kind, size="1", color_scheme="gray"),
                                           spacing="0")),
        rx.table.cell(rx.text(line.recipient, size="2")),
        rx.table.cell(rx.badge(line.status, color_scheme=rx.match(
            line.status, *STATUS_COLORS.items(), "gray"))),
        rx.table.cell(line.attempts),
        rx.table.cell(rx.text(line.error, size="1", color_scheme="red", max_width="320px")),
        rx.table.cell(rx.text(line.when, size="2")),
        rx.table.cell(rx.cond(line.status == "failed", rx.button(
            "Retry", size="1", variant="soft", aria_label="Retry email to " + line.recipient,
            on_click=JobsState.retry(line.id)))),
        align="center",
    )


def jobs_page() -> rx.Component:
    return admin_page(
        "Jobs",
        "Background work: emails waiting, sent and failed, and certificates being drawn. A failed "
        "email can be sent again.",
        # "Runs in the web process (no broker)" set as large as a count filled its card with
        # three lines of bold.
        rx.grid(rx.cond(JobsState.waiting_counted,
                        stat_card("Waiting in the queue", JobsState.waiting),
                        stat_card("Waiting in the queue", JobsState.waiting, size="3")),
                stat_card("Queued emails", JobsState.queued),
                stat_card("Failed emails", JobsState.failed),
                stat_card("Sent in the last 24 h", JobsState.sent_last_day),
                stat_card("Certificates pending", JobsState.certificates_drawing),
                columns=rx.breakpoints(initial="1", sm="2", lg="5"), spacing="4", width="100%"),
        rx.select.root(
            rx.select.trigger(aria_label="Show emails"),
            rx.select.content(rx.select.item("All emails", value="all"),
                              *[rx.select.item(s.value.capitalize(), value=s.value)
                                for s in EmailStatus]),
            value=JobsState.status_filter,
            on_change=JobsState.set_status_filter,
        ),
        data_table(JobsState.rows, email_line,
                   ["Email", "To", "Status", "Attempts", "Last error", "When", ""],
                   empty_state("mail", "No emails yet", "Emails appear here as they are sent."),
                   loading=JobsState.loading),
        pager(JobsState),
    )
