"""The "Broadcast update" card on a published course's editor page."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import labelled
from academy_app.services import announcements
from academy_app.services.errors import Invalid
from academy_app.state.auth import Refusal
from academy_app.state.staff import StaffState
from academy_app.text import id_in


class BroadcastState(StaffState):
    title: str = ""
    message: str = ""
    errors: dict[str, str] = {}
    _course_id: int = 0
    # Set once an update went out from the form: the second click of a double click then finds the
    # form emptied and must not answer with "give it a title".
    _just_sent: bool = False

    @rx.event
    def load(self) -> None:
        """on_load of /admin/courses/<id>: the course the card sends for (checked again on send)."""
        key = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self._course_id = id_in(key)  # "new" (no course yet) reads as 0
        self.title, self.message, self.errors, self._just_sent = "", "", {}, False

    @rx.event
    def set_title(self, value: str) -> None:
        self.title = value[:announcements.MAX_TITLE + 20] if isinstance(value, str) else ""
        self.errors, self._just_sent = {k: v for k, v in self.errors.items() if k != "title"}, False

    @rx.event
    def set_message(self, value: str) -> None:
        self.message = value[:announcements.MAX_MESSAGE + 100] if isinstance(value, str) else ""
        self.errors, self._just_sent = {k: v for k, v in self.errors.items() if k != "message"}, False

    @rx.event
    async def send(self) -> Refusal | rx.event.EventSpec | None:
        if self._just_sent:
            return None
        course_id, title, message = self._course_id, self.title, self.message
        try:
            count, refused = await self._act_as("broadcast_update", lambda session, staff:
                                                announcements.broadcast_update(
                                                    session, staff, course_id, title, message))
        except Invalid as exc:
            self.errors = exc.errors
            return None
        if refused:
            return refused
        self.title, self.message, self.errors, self._just_sent = "", "", {}, True
        return rx.toast.success(f"Update sent to {count} learner{'' if count == 1 else 's'}")


def broadcast_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Broadcast update", size="4", as_="h2"),
        rx.text("Tell every enrolled learner what is new. Learners online see it at once; the others "
                "find it in their notifications.", size="2", color_scheme="gray"),
        labelled("Update title", "update-title", rx.input(
            id="update-title", value=BroadcastState.title, on_change=BroadcastState.set_title,
            placeholder="e.g. New module: testing your app", width="100%",
            aria_describedby="update-title-error"), BroadcastState.errors.get("title", "")),
        labelled("Message", "update-message", rx.text_area(
            id="update-message", value=BroadcastState.message, on_change=BroadcastState.set_message,
            rows="3", width="100%", aria_describedby="update-message-error"),
            BroadcastState.errors.get("message", "")),
        rx.hstack(rx.spacer(), rx.button(rx.icon("megaphone", size=14), "Broadcast update",
                                         on_click=BroadcastState.send), width="100%"),
        spacing="3",
        width="100%",
    ), width="100%")
