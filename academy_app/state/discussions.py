"""The discussion under a lesson: its threads, one open thread with its replies, and the forms.

Thin, like every state: each handler bounds its input and calls services/discussions.py as the
caller, which decides who may do what and what an anonymous post shows this viewer. A change made in
another tab reaches this one through the bus (the lesson's resource, state/live.py calls
`_refresh_live`): the list and the open thread update in place, and replies that arrived meanwhile
wait behind an "N new replies" marker, so the page does not jump under the reader. Such a change
reaches every tab watching the lesson at once, so what they read is shared: who of them may still
read it, the threads and the open thread are each read once per change, and the service writes each
tab's view of them (its anonymity, hidden posts, votes and follow).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import reflex as rx
from sqlmodel import Session

from academy_app.infra.presence import watchers
from academy_app.models import User
from academy_app.services import discussions
from academy_app.services.errors import Invalid, ServiceError
from academy_app.state.auth import AuthState, Events
from academy_app.state.live import Change
from academy_app.text import as_id, id_in

SORTS = [["newest", "Newest"], ["top", "Most upvoted"], ["unanswered", "Unanswered first"]]
HELD = "Sent: others see it once a moderator approves it"


@dataclass
class ThreadLine:
    id: int = 0
    kind: str = "question"
    title: str = ""
    author: str = ""
    lesson_title: str = ""
    replies: int = 0
    upvotes: int = 0
    answered: bool = False
    accepted: bool = False
    when: str = ""
    counts: str = ""  # "1 reply · 3 upvotes"
    hidden: bool = False
    held: bool = False  # waiting for review: only its author and staff have it


@dataclass
class PostLine:
    """A post as this viewer may see it: the service already replaced an anonymous author's name,
    and no author id is ever here."""

    id: int = 0
    author: str = ""
    staff: bool = False
    body_html: str = ""
    when: str = ""
    edited: bool = False
    deleted: bool = False
    upvotes: int = 0
    voted: bool = False
    accepted: bool = False
    endorsed: bool = False
    mine: bool = False
    can_edit: bool = False
    can_delete: bool = False
    can_accept: bool = False
    can_endorse: bool = False
    hidden: bool = False  # to a learner: a placeholder, author and text empty
    flagged: bool = False
    can_flag: bool = False
    can_hide: bool = False
    held: bool = False  # waiting for review: only its author and staff have it
    avatar: str = ""  # the author's picture ('' for none, or for an author the viewer is not told)
    initials: str = ""  # in place of the picture ('' likewise)


# A live change writes the same dates and counts into hundreds of tabs' lists: formatted once.
@lru_cache(maxsize=4096)
def when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC")


def counted(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


@lru_cache(maxsize=1024)
def _counts(replies: int, upvotes: int) -> str:
    return f"{counted(replies, 'reply', 'replies')} · {counted(upvotes, 'upvote', 'upvotes')}"


def _thread_line(row: discussions.ThreadRow) -> ThreadLine:
    return ThreadLine(id=row.id, kind=row.kind, title=row.title, author=row.author,
                      lesson_title=row.lesson_title, replies=row.replies, upvotes=row.upvotes,
                      answered=row.answered, accepted=row.accepted, when=when(row.created_at),
                      counts=_counts(row.replies, row.upvotes), hidden=row.hidden,
                      held=row.held)


def _post_line(row: discussions.PostRow) -> PostLine:
    return PostLine(id=row.id, author=row.author, staff=row.staff, body_html=row.body_html,
                    when=when(row.created_at), edited=row.edited, deleted=row.deleted,
                    upvotes=row.upvotes, voted=row.voted, accepted=row.accepted,
                    endorsed=row.endorsed, mine=row.mine, can_edit=row.can_edit,
                    can_delete=row.can_delete, can_accept=row.can_accept,
                    can_endorse=row.can_endorse, hidden=row.hidden, flagged=row.flagged,
                    can_flag=row.can_flag, can_hide=row.can_hide, held=row.held,
                    avatar=row.avatar, initials=row.initials)


def _text(value: object, limit: int) -> str:
    """Typed text as far as a form could send it; a crafted event's other values read as ''."""
    return value[:limit] if isinstance(value, str) else ""


def _new_request() -> str:
    """The id a form's post is stored under: a double click or a retry sends it again."""
    return uuid.uuid4().hex


class DiscussionState(AuthState):
    threads: list[ThreadLine] = []
    loaded: bool = False
    is_staff_here: bool = False  # display only: the service decides what staff may do
    sort: str = "newest"
    search: str = ""
    # The new-thread form
    composing: bool = False
    kind: str = "question"
    title: str = ""
    body: str = ""
    anonymous: bool = False
    errors: dict[str, str] = {}
    # The open thread
    open_id: int = 0
    opened: ThreadLine = ThreadLine()
    opening: PostLine = PostLine()
    replies: list[PostLine] = []
    new_replies: int = 0  # arrived from elsewhere, not shown yet
    following: bool = False
    reply_body: str = ""
    reply_anonymous: bool = False
    reply_error: str = ""
    # Editing one post of the caller's
    editing_id: int = 0
    edit_title: str = ""
    edit_body: str = ""
    edit_error: str = ""
    # Flagging one post for the moderators
    flagging_id: int = 0
    flag_reason: str = ""
    flag_error: str = ""
    _lesson_id: int = 0
    _thread_request: str = ""
    _reply_request: str = ""
    _shown_ids: list[int] = []  # replies on screen: the others are "new"
    # Set once a form was posted: the second click of a double click finds it emptied and must
    # neither post again nor answer with "write something".
    _just_posted: bool = False

    @rx.var
    def replies_heading(self) -> str:
        return counted(len(self.replies) + self.new_replies, "reply", "replies")

    # --- loading -------------------------------------------------------------------------------

    @rx.event
    async def load(self) -> Events:
        """on_load of the lesson page: the lesson's threads, and this tab listens for changes."""
        parts = self.router.url.path.strip("/").split("/")  # learn/<slug>/<lesson id>
        lesson_id = id_in(parts[2]) if len(parts) == 3 else 0
        if lesson_id != self._lesson_id:
            self._reset(lesson_id)
        await self._reload()
        if self.loaded:
            watchers.watch(discussions.lesson_resource(lesson_id),
                           self.router.session.client_token, type(self), self.router.url.path)
        return None

    async def _refresh_live(self, change: Change) -> None:
        """A change made elsewhere (state/live.py): what is shown updates in place; new replies
        wait behind the marker. Read once for every tab the change reaches in this worker, and
        written here for this tab's viewer; a tab that does not fit (its login no longer admits
        it, a thread of another lesson open) reads alone, as on any event."""
        lesson_id, thread_id, login = self._lesson_id, self.open_id, self._login()
        sort, search = discussions.ThreadSort.parse(self.sort), self.search
        read = AuthState._in_transaction  # in a worker thread; nothing there touches a tab's state
        try:
            access = await change.batched(("viewers", lesson_id), login, lambda logins: read(
                lambda session: discussions.admit_viewers(session, lesson_id, logins)))
            if not isinstance(access, discussions.Access) or access.user.id != self._user_id:
                await self._reload(keep_shown=True)
                return
            threads = await change.once(("threads", lesson_id, access.staff, sort, search),
                                        lambda: read(lambda session: discussions.thread_list(
                                            session, access, sort=sort, search=search)))
            posts = await change.once(("thread", thread_id), lambda: read(
                lambda session: discussions.thread_posts(session, access, thread_id))
            ) if thread_id else None
            rows = discussions.thread_rows(access, threads)
            view = discussions.thread_view(access, posts) if posts is not None else None
        except ServiceError:
            await self._reload(keep_shown=True)
            return
        self._show(rows, view, access.staff, keep_shown=True)

    def _reset(self, lesson_id: int) -> None:
        self._lesson_id, self.loaded, self.threads = lesson_id, False, []
        self.search, self.composing, self.errors = "", False, {}
        self.title, self.body, self.anonymous = "", "", False
        self._thread_request = _new_request()
        self._close()

    def _close(self) -> None:
        self.open_id, self.replies, self._shown_ids, self.new_replies = 0, [], [], 0
        self.reply_body, self.reply_error, self.editing_id = "", "", 0
        self.flagging_id, self.flag_error = 0, ""
        self._reply_request = _new_request()

    async def _reload(self, keep_shown: bool = False) -> None:
        lesson_id, thread_id = self._lesson_id, self.open_id
        sort, search = discussions.ThreadSort.parse(self.sort), self.search

        def read(session: Session, viewer: User | None):
            try:
                rows = discussions.list_threads(session, viewer, lesson_id, sort=sort,
                                                search=search)
            except ServiceError:
                return None
            try:
                view = discussions.open_thread(session, viewer, thread_id) if thread_id else None
            except ServiceError:  # a crafted id, or a thread of a course the viewer cannot read
                view = None
            return rows, view, discussions.is_staff_here(session, viewer, lesson_id)

        result, _away = await self._read_as(read, roles=None)
        if result is None:  # not allowed here (LearnState says why) or gone
            self.loaded, self.threads = False, []
            return
        self._show(*result, keep_shown)

    def _show(self, rows: list[discussions.ThreadRow], view: discussions.ThreadView | None,
              staff: bool, keep_shown: bool) -> None:
        self.threads, self.loaded = [_thread_line(row) for row in rows], True
        self.is_staff_here = staff
        if view is not None:
            self._show_thread(view, keep_shown)
        elif self.open_id:
            self._close()

    def _show_thread(self, view: discussions.ThreadView, keep_shown: bool) -> None:
        self.opened, self.opening = _thread_line(view.thread), _post_line(view.opening)
        self.following = view.following
        lines = [_post_line(row) for row in view.replies]
        if keep_shown:
            shown = set(self._shown_ids)
            self.replies = [line for line in lines if line.id in shown]
            self.new_replies = len(lines) - len(self.replies)
        else:
            self.replies, self.new_replies = lines, 0
            self._shown_ids = [line.id for line in lines]

    # --- the list ------------------------------------------------------------------------------

    @rx.event
    async def set_sort(self, value: str) -> None:
        self.sort = discussions.ThreadSort.parse(value).value
        await self._reload(keep_shown=True)

    @rx.event
    async def set_search(self, value: str) -> None:
        self.search = _text(value, discussions.MAX_SEARCH)
        await self._reload(keep_shown=True)

    @rx.event
    async def open_thread(self, thread_id: int) -> None:
        self._close()
        self.open_id = as_id(thread_id)
        await self._reload()

    @rx.event
    def close_thread(self) -> None:
        self._close()

    @rx.event
    async def show_new_replies(self) -> None:
        await self._reload()

    # --- a new thread --------------------------------------------------------------------------

    @rx.event
    def toggle_compose(self) -> None:
        self.composing, self.errors = not self.composing, {}

    @rx.event
    def set_kind(self, value: str) -> None:
        self.kind = value if value in ("question", "discussion") else "question"

    @rx.event
    def set_title(self, value: str) -> None:
        self.title, self._just_posted = _text(value, discussions.MAX_TITLE + 20), False

    @rx.event
    def set_body(self, value: str) -> None:
        self.body, self._just_posted = _text(value, discussions.MAX_BODY + 100), False

    @rx.event
    def set_anonymous(self, value: bool) -> None:
        self.anonymous = value is True

    @rx.event
    async def post_thread(self) -> Events:
        if self._just_posted:
            return None
        lesson_id, request = self._lesson_id, self._thread_request
        kind, title, body, anonymous = self.kind, self.title, self.body, self.anonymous
        thread, refused = await self._write("post_thread", lambda session, user:
                                            discussions.start_thread(
                                                session, user, lesson_id, kind=kind, title=title,
                                                body=body, anonymous=anonymous,
                                                request_id=request), self._thread_errors)
        if thread is None:
            return refused
        self.title, self.body, self.anonymous, self.composing = "", "", False, False
        self._thread_request, self._just_posted = _new_request(), True
        self._close()
        self.open_id = thread.id
        await self._reload()
        return rx.toast.success(HELD if self.opening.held else "Posted")

    def _thread_errors(self, errors: dict[str, str]) -> None:
        self.errors = errors

    # --- replying ------------------------------------------------------------------------------

    @rx.event
    def set_reply_body(self, value: str) -> None:
        self.reply_body, self._just_posted = _text(value, discussions.MAX_BODY + 100), False

    @rx.event
    def set_reply_anonymous(self, value: bool) -> None:
        self.reply_anonymous = value is True

    @rx.event
    async def post_reply(self) -> Events:
        if self._just_posted:
            return None
        thread_id, request = self.open_id, self._reply_request
        body, anonymous = self.reply_body, self.reply_anonymous
        held, refused = await self._write("post_reply", lambda session, user: discussions.reply(
            session, user, thread_id, body=body, anonymous=anonymous,
            request_id=request).held_at is not None, self._reply_errors)
        if held is None:
            return refused
        self.reply_body, self.reply_anonymous, self.reply_error = "", False, ""
        self._reply_request, self._just_posted = _new_request(), True
        await self._reload()
        return rx.toast.success(HELD) if held else None

    def _reply_errors(self, errors: dict[str, str]) -> None:
        self.reply_error = "; ".join(errors.values())

    # --- acting on posts -----------------------------------------------------------------------

    @rx.event
    async def vote(self, post_id: int, up: bool) -> Events:
        return await self._on_post("vote", post_id, lambda session, user, pid:
                                   discussions.set_vote(session, user, pid, up is True))

    @rx.event
    async def accept(self, post_id: int) -> Events:
        return await self._on_post("accept", post_id, discussions.accept_answer,
                                   "Answer accepted")

    @rx.event
    async def endorse(self, post_id: int, endorsed: bool) -> Events:
        return await self._on_post("endorse", post_id, lambda session, user, pid:
                                   discussions.set_endorsed(session, user, pid, endorsed is True))

    @rx.event
    async def delete_post(self, post_id: int) -> Events:
        return await self._on_post("delete_post", post_id, discussions.delete_post, "Deleted")

    @rx.event
    async def set_following(self, follow: bool) -> Events:
        thread_id = self.open_id
        _, refused = await self._act_as("set_following", lambda session, user:
                                        discussions.set_following(session, user, thread_id,
                                                                  follow is True), shown=())
        await self._reload(keep_shown=True)
        return refused

    async def _on_post(self, name: str, post_id: int,
                       action: Callable[[Session, User, int], object], success: str = "") -> Events:
        pid = as_id(post_id)
        _, refused = await self._act_as(name, lambda session, user: action(session, user, pid),
                                        shown=())
        await self._reload(keep_shown=True)
        if refused:
            return refused
        return rx.toast.success(success) if success else None

    # --- moderation ----------------------------------------------------------------------------

    @rx.event
    def start_flag(self, post_id: int) -> None:
        self.flagging_id, self.flag_reason, self.flag_error = as_id(post_id), "", ""

    @rx.event
    def cancel_flag(self) -> None:
        self.flagging_id, self.flag_error = 0, ""

    @rx.event
    def set_flag_reason(self, value: str) -> None:
        self.flag_reason = _text(value, discussions.MAX_REASON + 20)

    @rx.event
    async def send_flag(self) -> Events:
        if not self.flagging_id:
            return None  # the second click of a double click: the form has closed
        pid, reason = self.flagging_id, self.flag_reason
        flag, refused = await self._write("flag_post", lambda session, user:
                                          discussions.flag_post(session, user, pid, reason),
                                          self._flag_errors)
        if flag is None:
            return refused
        self.flagging_id, self.flag_reason = 0, ""
        await self._reload(keep_shown=True)
        return rx.toast.success("Thanks: the moderators will take a look")

    def _flag_errors(self, errors: dict[str, str]) -> None:
        self.flag_error = "; ".join(errors.values())

    @rx.event
    async def hide_post(self, post_id: int, hidden: bool) -> Events:
        """Staff only, as the service decides: a learner's crafted event is refused and logged."""
        return await self._on_post("hide_post", post_id, lambda session, user, pid:
                                   discussions.set_post_hidden(session, user, pid, hidden is True),
                                   "Hidden from learners" if hidden is True else "Shown again")

    @rx.event
    async def hide_thread(self, hidden: bool) -> Events:
        """Staff only, as the service decides: a learner's crafted event is refused and logged."""
        thread_id = self.open_id
        _, refused = await self._act_as("hide_thread", lambda session, user:
                                        discussions.set_thread_hidden(session, user, thread_id,
                                                                      hidden is True), shown=())
        await self._reload(keep_shown=True)
        if refused:
            return refused
        return rx.toast.success("Thread hidden from learners" if hidden is True
                                else "Thread shown again")

    # --- editing -------------------------------------------------------------------------------

    @rx.event
    async def start_edit(self, post_id: int) -> Events:
        """Open the edit form of one of the caller's own posts (the service says whether it is)."""
        pid = as_id(post_id)
        text, refused = await self._act_as("start_edit", lambda session, user:
                                           discussions.post_body(session, user, pid), shown=())
        if refused:
            return refused
        self.editing_id, self.edit_body, self.edit_error = pid, text or "", ""
        self.edit_title = self.opened.title if pid == self.opening.id else ""
        return None

    @rx.event
    def cancel_edit(self) -> None:
        self.editing_id, self.edit_error = 0, ""

    @rx.event
    def set_edit_title(self, value: str) -> None:
        self.edit_title = _text(value, discussions.MAX_TITLE + 20)

    @rx.event
    def set_edit_body(self, value: str) -> None:
        self.edit_body = _text(value, discussions.MAX_BODY + 100)

    @rx.event
    async def save_edit(self) -> Events:
        if not self.editing_id:
            return None
        pid, body = self.editing_id, self.edit_body
        title = self.edit_title if pid == self.opening.id else None
        post, refused = await self._write("save_edit", lambda session, user: discussions.edit_post(
            session, user, pid, body=body, title=title), self._edit_errors)
        if post is None:
            return refused
        self.editing_id = 0
        await self._reload(keep_shown=True)
        return None

    def _edit_errors(self, errors: dict[str, str]) -> None:
        self.edit_error = "; ".join(errors.values())

    async def _write(self, name: str, action: Callable[[Session, User], object],
                     show_errors: Callable[[dict[str, str]], None]) -> tuple[object, Events]:
        """Run a form's action: (its result, None), or (None, the refusal) with bad input shown
        beside the form's fields."""
        try:
            result, refused = await self._act_as(name, action)
        except Invalid as exc:
            show_errors(exc.errors)
            return None, None
        return result, refused
