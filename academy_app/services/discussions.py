"""Lesson discussions: questions and conversations under a lesson, their replies, votes and answers.

Who may read and write a course's discussions: its enrolled learners (active or finished), its
instructor and admins; everyone else is refused, whatever the page or event asked. Every read returns
display rows already written for the viewer: an anonymous post is "Anonymous" to other learners and
carries no author id at all, so its author can never reach a peer's browser; the course's staff always
see the name.

Writes are safe to repeat: a post carries the request id its form was opened with (unique per author),
a vote is "up" or "not up" (one row per user and post, by a unique key), and acceptance and
endorsement set a value. After commit every tab with the lesson's discussion open reloads it through
the bus (`lesson_resource`), and open instructor inboxes reload too (`INBOX`). Those tabs share one
read per change: `admit_viewers` checks all their viewers at once, `thread_list` and `thread_posts`
read what every viewer's page is made from, and `thread_rows` and `thread_view` write it for each
viewer without the database, as `list_threads` and `open_thread` do for one.

Moderation: a reader flags a post with a reason, one open flag per post and reader (a partial
unique key; after a dismissal they may flag it again); the course's staff see open flags in the
inbox and hide or unhide a post (an opening post alone too: its replies stay) or a whole thread,
each action audited and its author told. What is hidden never leaves the service for a learner: its
rows carry a placeholder instead of the author, title and text. Learners' posting is rate-limited in
the shared limiter (`infra/ratelimit.py`: Redis when configured, else in process).

Held for review (`ACADEMY_DISCUSSION_HOLD_LINKS_DAYS`): a new account's post with a link, before
any of theirs was published, is saved but shown only to its author (marked) and the course's staff
(`_shown_to`, the one rule every read applies for its viewer); nothing is told or pushed until the
staff approve it, which publishes it as if posted then, or reject it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, delete, func, or_, select, update

from academy_app.db import insert_or_get
from academy_app.infra import bus, clock
from academy_app.infra.markdown import has_link, render_markdown
from academy_app.infra.ratelimit import limiter
from academy_app.models import (
    Course,
    DiscussionFlag,
    DiscussionFollow,
    DiscussionPost,
    DiscussionThread,
    DiscussionVote,
    Enrollment,
    Lesson,
    Module,
    Notification,
    Role,
    ThreadKind,
    User,
    as_utc,
    utcnow,
)
from academy_app.services import accounts, audit, emails, profile
from academy_app.services.access import can_open, is_gated
from academy_app.services.accounts import require_user
from academy_app.services.catalog import escape_like, is_course_staff
from academy_app.services.enrollment import LEARNING_STATUSES
from academy_app.services.errors import (
    Conflict,
    Invalid,
    Locked,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
)
from academy_app.services.notifications import notify, notify_many
from academy_app.services.permissions import require_staff
from academy_app.settings import get_settings

MAX_TITLE = 160
MAX_BODY = 20_000  # characters: a long answer with code fits; a 100 KB paste does not
MAX_SEARCH = 100
THREADS_SHOWN = 50
POSTS_SHOWN = 200
INBOX_SHOWN = 100
INBOX = "discussions:inbox"
NOTIFIED_KINDS = ("discussion.reply", "discussion.accepted", "discussion.mention")
# A follower who has not opened the bell this long after a notification is taken to be away: the
# digest tells them by email. Those who read it live are not emailed.
DIGEST_AFTER = timedelta(minutes=30)
DIGEST_WINDOW = timedelta(days=1)
DIGEST_LINES = 5
ANONYMOUS = "Anonymous"
HIDDEN = "Hidden by a moderator"
UNNAMED = "a thread hidden by a moderator"  # what followers' news calls it
WAITING = "Waiting for review"
MAX_REASON = 500
MODERATION_SHOWN = 100
_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")


def lesson_resource(lesson_id: int) -> str:
    """The bus resource of one lesson's discussion: its open tabs reload on every change."""
    return f"discussions:lesson:{lesson_id}"


class ThreadSort(StrEnum):
    NEWEST = "newest"
    TOP = "top"
    UNANSWERED = "unanswered"

    @classmethod
    def parse(cls, value: object) -> ThreadSort:
        return cls(value) if isinstance(value, str) and value in cls._value2member_map_ \
            else cls.NEWEST


@dataclass(frozen=True)
class ThreadRow:
    """A thread as the list shows it to one viewer."""

    id: int
    kind: str
    title: str
    author: str
    lesson_title: str
    href: str
    replies: int
    upvotes: int
    answered: bool
    accepted: bool
    created_at: datetime
    hidden: bool = False  # learners get the placeholder only; staff see it marked
    held: bool = False  # waiting for review: only its author and the course's staff get the row


@dataclass(frozen=True)
class PostRow:
    """A post as one viewer sees it: the author's name or "Anonymous", never an id, and what the
    viewer may do with it."""

    id: int
    author: str
    staff: bool  # written by the course's staff
    body_html: str
    created_at: datetime
    edited: bool
    deleted: bool
    upvotes: int
    voted: bool
    accepted: bool
    endorsed: bool
    mine: bool
    can_edit: bool
    can_delete: bool
    can_accept: bool
    can_endorse: bool
    hidden: bool = False  # learners get the placeholder only; staff see it marked
    flagged: bool = False  # the viewer flagged it
    can_flag: bool = False
    can_hide: bool = False  # the course's staff, on a published post (an opening one alone too)
    held: bool = False  # waiting for review: only its author and the course's staff get the row
    # Beside the post: the author's picture and initials, both '' when this viewer is not told who
    # wrote it (an anonymous post to a peer: a face names its author as surely as a name).
    avatar: str = ""
    initials: str = ""


@dataclass(frozen=True)
class ThreadView:
    thread: ThreadRow
    opening: PostRow
    replies: list[PostRow]
    following: bool


@dataclass(frozen=True)
class InboxRow:
    thread_id: int
    course_title: str
    lesson_title: str
    title: str
    asker: str
    body_html: str
    href: str
    asked_at: datetime


@dataclass(frozen=True)
class FlaggedRow:
    """A post in the moderation queue: waiting for review, flagged and not yet looked at, or
    hidden."""

    post_id: int
    thread_id: int
    opening: bool  # its thread can be hidden too
    course_title: str
    lesson_title: str
    thread_title: str
    author: str
    body_html: str
    href: str
    flags: int  # open flags
    reasons: list[str]
    hidden: bool  # the post itself
    flagged_at: datetime | None
    thread_hidden: bool = False
    held_at: datetime | None = None  # waiting for review since


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class Access:
    """A viewer admitted to a course's discussions, and whether they are its staff; `lesson_id`:
    the lesson whose discussion they were admitted to (its access rule checked), 0 for none yet."""

    user: User
    course: Course
    staff: bool
    lesson_id: int = 0


@dataclass(frozen=True)
class ThreadList:
    """A lesson's threads read once for every viewer of one audience (the course's staff, or its
    learners), before anything in them is written for one viewer (`thread_rows`): anonymous
    authors' names are still in it, so it never leaves the server as it is."""

    lesson_id: int
    staff: bool  # read for the staff: hidden threads included
    # Each thread with its opening post, that post's author's name and the lesson's title.
    rows: tuple[tuple[DiscussionThread, DiscussionPost, str, str], ...]
    # Rows already written, by thread and `_thread_viewer` key: most viewers share them all, so
    # hundreds of tabs cost one writing per thread, not one per thread and tab.
    _written: dict[tuple[int, bool, bool], ThreadRow] = field(default_factory=dict, compare=False,
                                                          repr=False)


@dataclass(frozen=True)
class ThreadPosts:
    """A thread and its posts read once for every viewer, before anything in them is written for one
    viewer (`thread_view`): who wrote what, hidden text, and each reader's votes, flags and follow
    are all in it, so it never leaves the server as it is."""

    thread: DiscussionThread
    lesson_title: str
    # Each post (the opening first) with its author's name, whether the course's staff wrote it,
    # its body as HTML (rendered once, not once per viewer) and the author's avatar key.
    posts: tuple[tuple[DiscussionPost, str, bool, str, str], ...]
    votes: frozenset[tuple[int, int]]  # (post id, user id)
    flags: frozenset[tuple[int, int]]  # (post id, user id)
    followers: frozenset[int]  # users following it now


# --- who may ----------------------------------------------------------------------------------------

def _admit(session: Session, actor: User | None, course: Course) -> Access:
    user = require_user(actor)
    access = _admitted(session, course, [user]).get(user.id)
    if access is None:
        raise PermissionDenied("Enroll in this course to join its discussions")
    return access


def _admitted(session: Session, course: Course, users: Collection[User]) -> dict[int, Access]:
    """Those of `users` admitted to the course's discussions (its staff, its learning learners), by
    id: one query, however many."""
    staff = {user.id: Access(user, course, staff=True) for user in users
             if is_course_staff(user, course)}
    learners = {user.id: user for user in users if user.id not in staff}
    enrolled = set(session.exec(select(Enrollment.user_id).where(
        col(Enrollment.user_id).in_(list(learners)), Enrollment.course_id == course.id,
        col(Enrollment.status).in_(LEARNING_STATUSES)))) if learners else set()
    return staff | {user_id: Access(user, course, staff=False)
                    for user_id, user in learners.items() if user_id in enrolled}


def _lesson_access(session: Session, actor: User | None, lesson_id: int) -> tuple[Lesson, Access]:
    lesson, course = _lesson_and_course(session, lesson_id)
    return lesson, _require_lesson_open(session, _admit(session, actor, course), lesson.id)


def _lesson_and_course(session: Session, lesson_id: int) -> tuple[Lesson, Course]:
    row = session.exec(select(Lesson, Course).join(Module, col(Module.id) == Lesson.module_id)
                       .join(Course, col(Course.id) == Module.course_id)
                       .where(Lesson.id == lesson_id)).first()
    if row is None:
        raise NotFound("lesson", lesson_id)
    return row[0], row[1]


def admit_viewers(session: Session, lesson_id: int, logins: Collection[str]) -> dict[str, Access]:
    """Which of these tabs (their login hashes, as `accounts.user_for_login` takes one) may read the
    lesson's discussion now, each with its access: `list_threads`' rule for every tab one live
    change reaches, in a few queries however many they are. The others are left out."""
    lesson, course = _lesson_and_course(session, lesson_id)
    users = accounts.users_for_logins(session, logins)
    admitted = _admitted(session, course, users.values())
    gated = is_gated(session, course.id)
    viewers: dict[str, Access] = {}
    for login, user in users.items():
        if user.id in admitted:
            with contextlib.suppress(Locked):
                viewers[login] = _require_lesson_open(session, admitted[user.id], lesson.id,
                                                      gated=gated)
    return viewers


def _thread_access(session: Session, actor: User | None, thread_id: int,
                   *, lock: bool = False) -> tuple[DiscussionThread, Access]:
    statement = select(DiscussionThread).where(DiscussionThread.id == thread_id)
    thread = session.exec(statement.with_for_update() if lock else statement).one_or_none()
    if thread is None:
        raise NotFound("thread", thread_id)
    access = _admit(session, actor, session.get(Course, thread.course_id))
    access = _require_lesson_open(session, access, thread.lesson_id)
    if not _shown_to(access, _opening(session, thread.id)):
        raise NotFound("thread", thread_id)
    return thread, access


def _require_lesson_open(session: Session, access: Access, lesson_id: int, *,
                         gated: bool | None = None) -> Access:
    """A learner joins a lesson's discussion once the lesson is open to them (the one access
    rule, services/access.py): its questions could give away what it teaches. Returns the access
    to that lesson's discussion. `gated`: whether the course is, when the caller knows."""
    if not access.staff and (is_gated(session, access.course.id) if gated is None else gated):
        opened = can_open(session, access.user, lesson_id, clock.now())
        if not opened.is_open:
            raise Locked(opened.reason, opened.opens_at)
    return replace(access, lesson_id=lesson_id)


def _post_access(session: Session, actor: User | None, post_id: int
                 ) -> tuple[DiscussionPost, DiscussionThread, Access]:
    post = session.get(DiscussionPost, post_id)
    if post is None:
        raise NotFound("post", post_id)
    thread, access = _thread_access(session, actor, post.thread_id)
    if not _shown_to(access, post):
        raise NotFound("post", post_id)
    return post, thread, access


# --- input -----------------------------------------------------------------------------------------

def _body(text: object) -> str:
    body = text.strip() if isinstance(text, str) else ""
    if not body:
        raise Invalid({"body": "Write something first"})
    if len(body) > MAX_BODY:
        raise Invalid({"body": f"Keep it under {MAX_BODY:,} characters"})
    return body


def _title(text: object) -> str:
    title = " ".join(text.split()) if isinstance(text, str) else ""
    if not title:
        raise Invalid({"title": "Give your post a title"})
    if len(title) > MAX_TITLE:
        raise Invalid({"title": f"Keep the title under {MAX_TITLE} characters"})
    return title


def _request_id(value: object) -> str:
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise Invalid({"request": "This form has expired: reload the page"})
    return value


# --- writing ---------------------------------------------------------------------------------------

def start_thread(session: Session, actor: User | None, lesson_id: int, *, kind: str, title: str,
                 body: str, anonymous: bool, request_id: str) -> DiscussionThread:
    """Open a question or discussion under a lesson; the asker follows it. The same request id
    again returns the thread it made the first time."""
    lesson, access = _lesson_access(session, actor, lesson_id)
    if not isinstance(kind, str) or kind not in ThreadKind._value2member_map_:
        raise Invalid({"kind": "Choose question or discussion"})
    title, body, request = _title(title), _body(body), _request_id(request_id)
    existing = _post_by_request(session, access.user.id, request)
    if existing is not None:
        return session.get(DiscussionThread, existing.thread_id)
    _count_post(access)
    now = utcnow()
    thread = DiscussionThread(course_id=access.course.id, lesson_id=lesson.id,
                              author_id=access.user.id, kind=ThreadKind(kind), title=title,
                              created_at=now, last_activity_at=now)
    session.add(thread)
    session.flush()
    post = DiscussionPost(thread_id=thread.id, author_id=access.user.id, request_id=request,
                          is_opening=True, body=body, created_at=now,
                          anonymous=bool(anonymous) and not access.staff,
                          held_at=now if _to_hold(session, access, body) else None)
    saved, created = insert_or_get(session, post, lambda: _post_by_request(
        session, access.user.id, request))
    if not created:  # a twin request won the race: it made the thread
        session.delete(thread)
        return session.get(DiscussionThread, saved.thread_id)
    _follow_once(session, thread.id, access.user.id)
    _publish_or_hold(session, access, thread, saved)
    return thread


def reply(session: Session, actor: User | None, thread_id: int, *, body: str, anonymous: bool,
          request_id: str) -> DiscussionPost:
    """Reply to a thread; the replier follows it and its other followers hear of the reply."""
    thread, access = _thread_access(session, actor, thread_id, lock=True)
    body, request = _body(body), _request_id(request_id)
    existing = _post_by_request(session, access.user.id, request)
    if existing is not None:
        return existing
    _open_for_writing(thread)
    _require_published(_opening(session, thread.id))
    _count_post(access)
    now = utcnow()
    post, created = insert_or_get(
        session, DiscussionPost(thread_id=thread.id, author_id=access.user.id, request_id=request,
                                body=body, created_at=now,
                                anonymous=bool(anonymous) and not access.staff,
                                held_at=now if _to_hold(session, access, body) else None),
        lambda: _post_by_request(session, access.user.id, request))
    if not created:
        return post
    _follow_once(session, thread.id, access.user.id)
    _publish_or_hold(session, access, thread, post)
    return post


def _publish_or_hold(session: Session, author: Access, thread: DiscussionThread,
                     post: DiscussionPost) -> None:
    """A post just written: published, or, when held, only the moderators' queues reload."""
    if post.held_at is None:
        _publish(session, author, thread, post)
    else:
        _changed(session, thread, post)


def _publish(session: Session, author: Access, thread: DiscussionThread,
             post: DiscussionPost) -> None:
    """What a new post sets off, once, when it is written or when a held one is approved: a reply
    counts in its thread (a staff one answers its question) and tells its followers; a mention
    tells the instructor; every open tab of the lesson reloads."""
    if not post.is_opening:
        values: dict = {"reply_count": DiscussionThread.reply_count + 1,
                        "last_activity_at": post.created_at}
        if author.staff and thread.kind is ThreadKind.QUESTION and thread.answered_at is None:
            values["answered_at"] = post.created_at
        session.execute(update(DiscussionThread).where(col(DiscussionThread.id) == thread.id)
                        .values(**values))
        session.refresh(thread)
    mentioned = _notify_mentions(session, author, thread, post)
    if not post.is_opening:
        _notify_followers(session, thread, author.user.id, skip=mentioned,
                          kind="discussion.reply",
                          title=f"New reply: {_followers_title(session, thread)}",
                          body=_who(post, author) + " replied.")
    _changed(session, thread)


def edit_post(session: Session, actor: User | None, post_id: int, *, body: str,
              title: str | None = None) -> DiscussionPost:
    """Its author may edit a post within the edit window (`title`: the thread's, for an opening)."""
    post, thread, access = _post_access(session, actor, post_id)
    if post.author_id != access.user.id:
        raise PermissionDenied("You can only edit your own posts")
    if post.deleted_at is not None:
        raise Conflict("This post was deleted")
    _visible(post, thread)
    if not _within_edit_window(post):
        raise Conflict("The time to edit this post has passed")
    post.body = _body(body)
    if title is not None and post.is_opening:
        thread.title = _title(title)
        session.add(thread)
    post.edited_at = utcnow()
    session.add(post)
    _changed(session, thread, post)
    return post


def delete_post(session: Session, actor: User | None, post_id: int) -> DiscussionPost:
    """Blank a post (its author, or the course's staff, which is audited); the thread stays."""
    post, thread, access = _post_access(session, actor, post_id)
    if post.author_id != access.user.id and not access.staff:
        raise PermissionDenied("You can only delete your own posts")
    if post.deleted_at is not None:
        return post
    if post.author_id != access.user.id:
        _require_published(post)  # the staff approve or reject it, and its author is told
    post.deleted_at = utcnow()
    session.add(post)
    if thread.accepted_post_id == post.id:
        thread.accepted_post_id = None
        session.add(thread)
    if post.author_id != access.user.id:
        audit.record(session, access.user, "discussion.post.delete", post,
                     after={"thread_id": thread.id})
    _changed(session, thread, post)
    return post


def accept_answer(session: Session, actor: User | None, post_id: int) -> DiscussionThread:
    """Mark a reply as the accepted answer of its question: the asker or the course's staff only."""
    post, thread, access = _post_access(session, actor, post_id)
    if thread.author_id != access.user.id and not access.staff:
        raise PermissionDenied("Only the person who asked, or the course's staff, can accept an "
                               "answer")
    if thread.kind is not ThreadKind.QUESTION:
        raise Conflict("Only a question has an accepted answer")
    if post.is_opening or post.deleted_at is not None:
        raise Conflict("Choose a reply to accept")
    _visible(post, thread)
    _require_published(post)
    if thread.accepted_post_id == post.id:
        return thread
    thread.accepted_post_id = post.id
    thread.answered_at = thread.answered_at or utcnow()
    session.add(thread)
    _notify_followers(session, thread, access.user.id, skip=set(),
                      kind="discussion.accepted",
                      title=f"Answer accepted: {_followers_title(session, thread)}",
                      body="The question has an accepted answer.")
    _changed(session, thread)
    return thread


def set_endorsed(session: Session, actor: User | None, post_id: int,
                 endorsed: bool) -> DiscussionPost:
    """The course's staff mark a reply as a good answer (or take the mark back)."""
    post, thread, access = _post_access(session, actor, post_id)
    if not access.staff:
        raise PermissionDenied("Only the course's staff can endorse an answer")
    if post.is_opening or post.deleted_at is not None:
        raise Conflict("Choose a reply to endorse")
    _require_published(post)
    if (post.endorsed_at is not None) != bool(endorsed):
        post.endorsed_at = utcnow() if endorsed else None
        session.add(post)
        _changed(session, thread)
    return post


def set_vote(session: Session, actor: User | None, post_id: int, up: bool) -> int:
    """Upvote a post or take the vote back: one vote per user and post, however often asked.
    Returns the post's count."""
    post, thread, access = _post_access(session, actor, post_id)
    if post.author_id == access.user.id:
        raise Conflict("You cannot upvote your own post")
    if post.deleted_at is not None:
        raise Conflict("This post was deleted")
    _visible(post, thread)
    _require_published(post)
    if up:
        _, changed = insert_or_get(session, DiscussionVote(post_id=post.id, user_id=access.user.id),
                                   lambda: _vote(session, post.id, access.user.id))
    else:
        changed = session.execute(delete(DiscussionVote).where(
            col(DiscussionVote.post_id) == post.id,
            col(DiscussionVote.user_id) == access.user.id)).rowcount > 0
    if changed:
        session.execute(update(DiscussionPost).where(col(DiscussionPost.id) == post.id)
                        .values(upvotes=DiscussionPost.upvotes + (1 if up else -1)))
        _changed(session, thread)
    session.refresh(post)
    return post.upvotes


def set_following(session: Session, actor: User | None, thread_id: int, follow: bool) -> bool:
    thread, access = _thread_access(session, actor, thread_id)
    row, created = insert_or_get(session, DiscussionFollow(thread_id=thread.id,
                                                           user_id=access.user.id,
                                                           active=bool(follow)),
                                 lambda: _follow(session, thread.id, access.user.id))
    if not created and row.active != bool(follow):
        row.active = bool(follow)
        session.add(row)
    return bool(follow)


# --- moderation ------------------------------------------------------------------------------------

def flag_post(session: Session, actor: User | None, post_id: int, reason: str) -> DiscussionFlag:
    """Report a post to the course's staff, with why. One open flag per post and reader: asking
    again (a double click, a second tab) returns it; once the staff dismissed it, the reader may
    flag the post again."""
    post, thread, access = _post_access(session, actor, post_id)
    if post.author_id == access.user.id:
        raise Conflict("You cannot flag your own post")
    if post.deleted_at is not None:
        raise Conflict("This post was deleted")
    _visible(post, thread)
    _require_published(post)
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not text:
        raise Invalid({"reason": "Say what is wrong with this post"})
    if len(text) > MAX_REASON:
        raise Invalid({"reason": f"Keep the reason under {MAX_REASON} characters"})
    flag, created = insert_or_get(
        session, DiscussionFlag(post_id=post.id, user_id=access.user.id, reason=text),
        lambda: _open_flag(session, post.id, access.user.id))
    if created:
        bus.changed(session, INBOX)
    return flag


def set_post_hidden(session: Session, actor: User | None, post_id: int,
                    hidden: bool) -> DiscussionPost:
    """The course's staff hide a post from learners (its open flags are then resolved), or show it
    again; audited, and its author told. An opening post hidden alone takes the thread's title with
    it, and its replies stay (`set_thread_hidden` hides them all). Asking for what is already so
    changes nothing."""
    post, thread, access = _post_access(session, actor, post_id)
    _require_moderator(access)
    _require_published(post)
    if (post.hidden_at is not None) == bool(hidden):
        return post
    post.hidden_at = utcnow() if hidden else None
    session.add(post)
    if hidden:
        _resolve_flags(session, [post.id])
        if post.is_opening:
            _unname_in_bells(session, thread)
    audit.record(session, access.user, "discussion.post." + ("hide" if hidden else "unhide"), post,
                 before={"hidden": not hidden}, after={"hidden": bool(hidden),
                                                       "thread_id": thread.id})
    _tell_author(session, access, thread, post.author_id, _hidden_news("post", bool(hidden)))
    _changed(session, thread)
    bus.changed(session, INBOX)
    return post


def set_thread_hidden(session: Session, actor: User | None, thread_id: int,
                      hidden: bool) -> DiscussionThread:
    """The course's staff hide a whole thread from learners (the open flags on its posts are then
    resolved), or show it again; audited, and its author told."""
    thread, access = _thread_access(session, actor, thread_id, lock=True)
    _require_moderator(access)
    _require_published(_opening(session, thread.id))
    if (thread.hidden_at is not None) == bool(hidden):
        return thread
    thread.hidden_at = utcnow() if hidden else None
    session.add(thread)
    if hidden:
        _resolve_flags(session, list(session.exec(select(DiscussionPost.id).where(
            DiscussionPost.thread_id == thread.id))))
        _unname_in_bells(session, thread)
    audit.record(session, access.user, "discussion.thread." + ("hide" if hidden else "unhide"),
                 thread, before={"hidden": not hidden}, after={"hidden": bool(hidden)})
    _tell_author(session, access, thread, thread.author_id,
                 _hidden_news("thread", bool(hidden)))
    _changed(session, thread)
    bus.changed(session, INBOX)
    return thread


def dismiss_flags(session: Session, actor: User | None, post_id: int) -> int:
    """The course's staff looked at a flagged post and leave it up: its open flags are resolved
    (audited). Returns how many were open."""
    post, _thread, access = _post_access(session, actor, post_id)
    _require_moderator(access)
    resolved = _resolve_flags(session, [post.id])
    if resolved:
        audit.record(session, access.user, "discussion.flags.dismiss", post,
                     after={"flags": resolved})
        bus.changed(session, INBOX)
    return resolved


def review_post(session: Session, actor: User | None, post_id: int,
                approve: bool) -> DiscussionPost:
    """The course's staff decide on a post held for review. Approving publishes it as if it were
    written now: it moves to now, its thread's followers and a mentioned instructor are told, and
    every open tab of the lesson shows it. Rejecting takes it out of its author's view too. Either
    is audited and its author told. One decision per post, by a conditional update: a double
    click, a second moderator or the other button finds it decided and changes nothing."""
    post = session.get(DiscussionPost, post_id)
    if post is None:
        raise NotFound("post", post_id)
    thread = session.get(DiscussionThread, post.thread_id)
    # Not `_post_access`: a rejected post is shown to nobody, and a second click must find it.
    access = _admit(session, actor, session.get(Course, thread.course_id))
    _require_moderator(access)
    now = utcnow()
    waiting = update(DiscussionPost).where(col(DiscussionPost.id) == post.id,
                                           col(DiscussionPost.held_at).isnot(None),
                                           col(DiscussionPost.deleted_at).is_(None))
    decided = session.execute(waiting.values(held_at=None, created_at=now) if approve
                              else waiting.values(deleted_at=now)).rowcount
    session.refresh(post)
    if not decided:
        return post
    audit.record(session, access.user, "discussion.post." + ("approve" if approve else "reject"),
                 post, before={"held": True}, after={"published": bool(approve),
                                                     "thread_id": thread.id})
    what = "question or discussion" if post.is_opening else "reply"
    _tell_author(session, access, thread, post.author_id,
                 f"Your {what} is published" if approve
                 else f"Your {what} was not published by the moderators")
    if approve:
        if post.is_opening:  # the thread, too, is new from now
            thread.created_at = thread.last_activity_at = now
            session.add(thread)
        writer = session.get(User, post.author_id)
        _publish(session, Access(writer, access.course, is_course_staff(writer, access.course)),
                 thread, post)
    else:
        _changed(session, thread)  # the author's open tabs let it go
    bus.changed(session, INBOX)
    return post


def moderation_queue(session: Session, actor: User | None) -> list[FlaggedRow]:
    """Posts of the actor's courses (every course, for an admin) waiting for review, oldest
    first, then those with open flags, oldest flag first, then what is hidden, newest first."""
    staff = require_staff(actor)
    open_flags = select(DiscussionFlag.post_id).where(col(DiscussionFlag.resolved_at).is_(None))
    held = sa.and_(col(DiscussionPost.held_at).isnot(None), col(DiscussionPost.deleted_at).is_(None))
    where = [or_(held, col(DiscussionPost.id).in_(open_flags),
                 col(DiscussionPost.hidden_at).isnot(None),
                 sa.and_(col(DiscussionPost.is_opening), col(DiscussionThread.hidden_at).isnot(None)))]
    if staff.role is not Role.ADMIN:
        where.append(Course.instructor_id == staff.id)
    rows = session.exec(
        select(DiscussionPost, DiscussionThread, User.full_name, Course.title, Course.slug,
               Lesson.title)
        .join(DiscussionThread, col(DiscussionThread.id) == DiscussionPost.thread_id)
        .join(User, col(User.id) == DiscussionPost.author_id)
        .join(Course, col(Course.id) == DiscussionThread.course_id)
        .join(Lesson, col(Lesson.id) == DiscussionThread.lesson_id)
        .where(*where).order_by(col(DiscussionPost.id).desc()).limit(MODERATION_SHOWN)).all()
    flags: dict[int, list[DiscussionFlag]] = defaultdict(list)
    for flag in session.exec(select(DiscussionFlag).where(
            col(DiscussionFlag.resolved_at).is_(None),
            col(DiscussionFlag.post_id).in_([post.id for post, *_ in rows]))
            .order_by(col(DiscussionFlag.created_at))):
        flags[flag.post_id].append(flag)
    queue = [FlaggedRow(
        post_id=post.id, thread_id=thread.id, opening=post.is_opening, course_title=course_title,
        lesson_title=lesson_title, thread_title=thread.title, author=name,
        body_html=render_markdown(post.body), href=f"/learn/{slug}/{thread.lesson_id}",
        flags=len(flags[post.id]), reasons=[flag.reason for flag in flags[post.id][:3]],
        hidden=post.hidden_at is not None,
        flagged_at=as_utc(flags[post.id][0].created_at) if flags[post.id] else None,
        thread_hidden=thread.hidden_at is not None,
        held_at=as_utc(post.held_at) if post.held_at and not post.deleted_at else None)
        for post, thread, name, course_title, slug, lesson_title in rows]
    held_rows = sorted((row for row in queue if row.held_at), key=lambda row: row.held_at)
    flagged = sorted((row for row in queue if row.flags and not row.held_at),
                     key=lambda row: row.flagged_at)
    return held_rows + flagged + [row for row in queue if not row.flags and not row.held_at]


# --- reading ---------------------------------------------------------------------------------------

def list_threads(session: Session, actor: User | None, lesson_id: int, *,
                 sort: ThreadSort = ThreadSort.NEWEST, search: str = "") -> list[ThreadRow]:
    """The lesson's threads; with `search`, the threads of the whole course whose title or posts
    contain it."""
    _lesson, access = _lesson_access(session, actor, lesson_id)
    return thread_rows(access, thread_list(session, access, sort=sort, search=search))


def thread_list(session: Session, access: Access, *, sort: ThreadSort = ThreadSort.NEWEST,
                search: str = "") -> ThreadList:
    """What `list_threads` reads for the lesson `access` admits to (from `admit_viewers` or
    `_lesson_access`), the same for every viewer of its audience: a live change reads it once
    for all the tabs watching the lesson, and `thread_rows` writes it for each."""
    text = " ".join(search.split())[:MAX_SEARCH] if isinstance(search, str) else ""
    # Held openings of every author (not only this viewer's): the read is shared by the audience,
    # and `thread_rows` keeps each viewer's own.
    where = [DiscussionThread.course_id == access.course.id, _shown_where()]
    if not access.staff:
        where.append(col(DiscussionThread.hidden_at).is_(None))
    if text:
        pattern = f"%{escape_like(text.lower())}%"
        matching = select(DiscussionPost.thread_id).where(
            func.lower(DiscussionPost.body).like(pattern, escape="\\"),
            col(DiscussionPost.deleted_at).is_(None), _shown_where())
        titled = func.lower(DiscussionThread.title).like(pattern, escape="\\")
        if not access.staff:  # what is hidden is not searched, nor the title of a hidden opening
            # nor a held reply: one learner's would show the others a thread for words they cannot
            # see (a held opening may match: `thread_rows` gives its thread to its author alone).
            matching = matching.where(col(DiscussionPost.hidden_at).is_(None), or_(
                col(DiscussionPost.held_at).is_(None), col(DiscussionPost.is_opening)))
            titled = sa.and_(titled, col(DiscussionPost.hidden_at).is_(None))
        where.append(or_(titled, col(DiscussionThread.id).in_(matching)))
    else:
        where.append(DiscussionThread.lesson_id == access.lesson_id)
    order = {
        ThreadSort.NEWEST: [col(DiscussionThread.created_at).desc()],
        ThreadSort.TOP: [col(DiscussionPost.upvotes).desc(), col(DiscussionThread.created_at).desc()],
        ThreadSort.UNANSWERED: [
            sa.case((sa.and_(DiscussionThread.kind == ThreadKind.QUESTION,
                             col(DiscussionThread.answered_at).is_(None)), 0), else_=1),
            col(DiscussionThread.created_at).desc()],
    }[sort]
    rows = session.exec(
        select(DiscussionThread, DiscussionPost, User.full_name, Lesson.title)
        .join(DiscussionPost, sa.and_(col(DiscussionPost.thread_id) == DiscussionThread.id,
                                      col(DiscussionPost.is_opening)))
        .join(User, col(User.id) == DiscussionPost.author_id)
        .join(Lesson, col(Lesson.id) == DiscussionThread.lesson_id)
        .where(*where).order_by(*order, col(DiscussionThread.id).desc()).limit(THREADS_SHOWN)
    ).all()
    return ThreadList(access.lesson_id, access.staff, tuple(tuple(row) for row in rows))


def thread_rows(access: Access, threads: ThreadList) -> list[ThreadRow]:
    """The threads as `access`'s viewer may see them: an anonymous author is "Anonymous" to a
    peer, a thread held for review is its author's and the staff's only. Reads no database: a live
    change writes one `ThreadList` for every tab watching."""
    if (threads.lesson_id, threads.staff) != (access.lesson_id, access.staff):
        raise PermissionDenied("These threads were read for other viewers")
    rows = []
    for thread, opening, name, lesson_title in threads.rows:
        if not _shown_to(access, opening):
            continue
        key = (thread.id, *_thread_viewer(access, opening))
        row = threads._written.get(key)
        if row is None:
            row = threads._written[key] = _thread_row(access, thread, opening, name, lesson_title)
        rows.append(row)
    return rows


def open_thread(session: Session, actor: User | None, thread_id: int) -> ThreadView:
    """The thread as the viewer may see it: a hidden one is only a placeholder to learners."""
    thread, access = _thread_access(session, actor, thread_id)
    return thread_view(access, _thread_posts(session, access, thread, readers=[access.user.id]))


def thread_posts(session: Session, access: Access, thread_id: int) -> ThreadPosts:
    """What `open_thread` reads, for every viewer of the lesson `access` admits to (from
    `admit_viewers`), every reader's votes, flags and follow included: a live change reads it
    once for all the tabs that have the thread open, and `thread_view` writes it for each."""
    thread = session.get(DiscussionThread, thread_id)
    if thread is None:
        raise NotFound("thread", thread_id)
    if thread.lesson_id != access.lesson_id:
        raise PermissionDenied("This thread is under another lesson")
    return _thread_posts(session, access, thread, readers=None)


def _thread_posts(session: Session, access: Access, thread: DiscussionThread, *,
                  readers: list[int] | None) -> ThreadPosts:
    """The thread's posts, held ones of every author included (`thread_view` gives each viewer
    theirs), and the votes, open flags and follow of `readers` (None: of everyone)."""
    rows = session.exec(
        select(DiscussionPost, User.full_name, User.role, User.id, User.avatar)
        .join(User, col(User.id) == DiscussionPost.author_id)
        .where(DiscussionPost.thread_id == thread.id, _shown_where())
        .order_by(col(DiscussionPost.is_opening).desc(), col(DiscussionPost.created_at),
                  col(DiscussionPost.id)).limit(POSTS_SHOWN + 1)).all()
    ids = [post.id for post, *_ in rows]

    def of_readers(model: type[DiscussionVote] | type[DiscussionFlag]) -> frozenset[tuple[int, int]]:
        statement = select(model.post_id, model.user_id).where(col(model.post_id).in_(ids))
        if readers is not None:
            statement = statement.where(col(model.user_id).in_(readers))
        if model is DiscussionFlag:  # a dismissed flag may be raised again
            statement = statement.where(col(DiscussionFlag.resolved_at).is_(None))
        return frozenset((post_id, user_id) for post_id, user_id in session.exec(statement))

    following = select(DiscussionFollow.user_id).where(DiscussionFollow.thread_id == thread.id,
                                                       col(DiscussionFollow.active))
    if readers is not None:
        following = following.where(col(DiscussionFollow.user_id).in_(readers))
    return ThreadPosts(
        thread=thread, lesson_title=session.get(Lesson, thread.lesson_id).title,
        posts=tuple((post, name, role is Role.ADMIN or author_id == access.course.instructor_id,
                     "" if post.deleted_at is not None else render_markdown(post.body), avatar)
                    for post, name, role, author_id, avatar in rows),
        votes=of_readers(DiscussionVote), flags=of_readers(DiscussionFlag),
        followers=frozenset(session.exec(following)))


def thread_view(access: Access, posts: ThreadPosts) -> ThreadView:
    """The thread as `access`'s viewer may see it: a hidden one is only a placeholder to learners,
    an anonymous author is "Anonymous" to a peer, a post held for review is its author's and the
    staff's only, and their own votes, flags and follow. Reads no database: a live change writes one
    `ThreadPosts` for every tab that has the thread open."""
    thread = posts.thread
    if thread.lesson_id != access.lesson_id:
        raise PermissionDenied("This thread is under another lesson")
    if not posts.posts or not posts.posts[0][0].is_opening or not _shown_to(access, posts.posts[0][0]):
        raise NotFound("thread", thread.id)  # held for someone else's review, or rejected
    if thread.hidden_at is not None and not access.staff:
        return _hidden_view(access, thread)
    me = access.user.id
    rows = [_post_row(access, thread, post, name, staff_author, body_html, avatar,
                      (post.id, me) in posts.votes, (post.id, me) in posts.flags)
            for post, name, staff_author, body_html, avatar in posts.posts
            if _shown_to(access, post)]
    opening_post, opening_name = posts.posts[0][0], posts.posts[0][1]
    return ThreadView(
        thread=_thread_row(access, thread, opening_post, opening_name, posts.lesson_title),
        opening=rows[0], replies=rows[1:], following=me in posts.followers)


def is_staff_here(session: Session, actor: User | None, lesson_id: int) -> bool:
    """Whether the actor is the staff of the lesson's course (what the page offers them)."""
    return _lesson_access(session, actor, lesson_id)[1].staff


def post_body(session: Session, actor: User | None, post_id: int) -> str:
    """The Markdown of the actor's own post, for its edit form."""
    post, thread, access = _post_access(session, actor, post_id)
    if post.author_id != access.user.id or post.deleted_at is not None:
        raise PermissionDenied("You can only edit your own posts")
    _visible(post, thread)
    return post.body


def inbox(session: Session, actor: User | None, *, course_id: int = 0,
          lesson_id: int = 0) -> list[InboxRow]:
    """Questions nobody from the course's staff has answered yet, oldest first, across the courses
    the actor teaches (every course, for an admin)."""
    staff = require_staff(actor)
    where = [DiscussionThread.kind == ThreadKind.QUESTION,
             col(DiscussionThread.answered_at).is_(None), col(DiscussionPost.deleted_at).is_(None),
             col(DiscussionThread.hidden_at).is_(None),
             col(DiscussionPost.held_at).is_(None)]  # those wait in the moderation queue
    if staff.role is not Role.ADMIN:
        where.append(Course.instructor_id == staff.id)
    if course_id:
        where.append(DiscussionThread.course_id == course_id)
    if lesson_id:
        where.append(DiscussionThread.lesson_id == lesson_id)
    rows = session.exec(
        select(DiscussionThread, DiscussionPost, User.full_name, Course.title, Course.slug,
               Lesson.title)
        .join(DiscussionPost, sa.and_(col(DiscussionPost.thread_id) == DiscussionThread.id,
                                      col(DiscussionPost.is_opening)))
        .join(User, col(User.id) == DiscussionPost.author_id)
        .join(Course, col(Course.id) == DiscussionThread.course_id)
        .join(Lesson, col(Lesson.id) == DiscussionThread.lesson_id)
        .where(*where).order_by(col(DiscussionThread.created_at), col(DiscussionThread.id))
        .limit(INBOX_SHOWN)).all()
    return [InboxRow(thread_id=thread.id, course_title=course_title, lesson_title=lesson_title,
                     title=thread.title, asker=name, body_html=render_markdown(post.body),
                     href=f"/learn/{slug}/{thread.lesson_id}", asked_at=as_utc(thread.created_at))
            for thread, post, name, course_title, slug, lesson_title in rows]


def inbox_courses(session: Session, actor: User | None) -> list[Choice]:
    staff = require_staff(actor)
    statement = select(Course.id, Course.title).order_by(col(Course.title))
    if staff.role is not Role.ADMIN:
        statement = statement.where(Course.instructor_id == staff.id)
    return [Choice(id, title) for id, title in session.exec(statement)]


def inbox_lessons(session: Session, actor: User | None, course_id: int) -> list[Choice]:
    staff = require_staff(actor)
    course = session.get(Course, course_id)
    if course is None or not is_course_staff(staff, course):
        return []
    return [Choice(id, title) for id, title in session.exec(
        select(Lesson.id, Lesson.title).join(Module, col(Module.id) == Lesson.module_id)
        .where(Module.course_id == course.id).order_by(col(Module.position),
                                                        col(Lesson.position)))]


# --- the email digest --------------------------------------------------------------------------

def queue_digests(session: Session, now: datetime | None = None) -> list[int]:
    """One email per follower and day listing the discussion news they have not read (the bell's
    unread notifications of the last day, older than `DIGEST_AFTER`). Keyed by user and day in the
    email log: the scheduled job may run twice, or on two machines, and sends one. Followers who
    turned discussion emails off (the account page, or the link in every digest) get none
    (emails.queue_once)."""
    now = now or utcnow()
    unread = session.exec(
        select(Notification.user_id, Notification.title, Notification.link, User.email,
               User.full_name)
        .join(User, col(User.id) == Notification.user_id)
        .where(col(Notification.kind).in_(NOTIFIED_KINDS), col(Notification.read_at).is_(None),
               Notification.created_at > now - DIGEST_WINDOW,
               Notification.created_at <= now - DIGEST_AFTER,
               col(User.is_active).is_(True))
        .order_by(col(Notification.user_id), col(Notification.id).desc())).all()
    news: dict[int, list[tuple]] = defaultdict(list)
    for row in unread:
        news[row[0]].append(row)
    day = now.date().isoformat()
    return emails.queue_once(session, [_digest(user_id, rows, day) for user_id, rows in
                                       news.items()])


def _digest(user_id: int, rows: list[tuple], day: str) -> dict:
    _, _, link, address, name = rows[0]
    lines = [f"- {title}" for _, title, *_ in rows[:DIGEST_LINES]]
    if len(rows) > DIGEST_LINES:
        lines.append(f"- and {len(rows) - DIGEST_LINES} more")
    title = f"{len(rows)} update{'s' if len(rows) > 1 else ''} in discussions you follow"
    return {"kind": "discussion.digest", "user_id": user_id, "to_address": address,
            "dedupe_key": f"discussion.digest:user:{user_id}:{day}", "subject": title,
            "context": json.dumps({"name": name, "title": title, "body": "\n".join(lines),
                                   "link": link})}


# --- rows for a viewer -----------------------------------------------------------------------------

def _author_name(access: Access, post: DiscussionPost, name: str) -> str:
    """What this viewer is told of who wrote the post: other learners never learn an anonymous
    author's name; its author and the course's staff do, marked."""
    if not post.anonymous:
        return name
    if access.staff:
        return f"{name} (anonymous to learners)"
    return "You (anonymous)" if post.author_id == access.user.id else ANONYMOUS


def _thread_row(access: Access, thread: DiscussionThread, opening: DiscussionPost, name: str,
                lesson_title: str) -> ThreadRow:
    if thread.hidden_at is not None and not access.staff:
        return _hidden_thread_row(access, thread, lesson_title)
    # An opening post hidden alone takes the title and its author with it; the replies stay.
    withheld = opening.hidden_at is not None and not access.staff
    return ThreadRow(
        id=thread.id, kind=thread.kind.value, title=HIDDEN if withheld else thread.title,
        author="" if withheld else _author_name(access, opening, name), lesson_title=lesson_title,
        href=f"/learn/{access.course.slug}/{thread.lesson_id}", replies=thread.reply_count,
        upvotes=0 if withheld else opening.upvotes, answered=thread.answered_at is not None,
        accepted=thread.accepted_post_id is not None, created_at=as_utc(thread.created_at),
        hidden=thread.hidden_at is not None, held=opening.held_at is not None)


def _thread_viewer(access: Access, opening: DiscussionPost) -> tuple[bool, bool]:
    """What `_thread_row` reads of its viewer beyond the audience (staff or learner) and the course:
    whether they wrote the thread, and, as that decides whether a learner gets it at all
    (`_shown_to`), whether it is held for review. Rows written for one viewer are given to another
    with the same audience and answer (`thread_rows`), so whatever else of the viewer it ever reads
    goes here."""
    return opening.author_id == access.user.id, opening.held_at is not None


def _hidden_thread_row(access: Access, thread: DiscussionThread, lesson_title: str) -> ThreadRow:
    return ThreadRow(id=thread.id, kind=thread.kind.value, title=HIDDEN, author="",
                     lesson_title=lesson_title,
                     href=f"/learn/{access.course.slug}/{thread.lesson_id}", replies=0, upvotes=0,
                     answered=False, accepted=False, created_at=as_utc(thread.created_at),
                     hidden=True)


def _hidden_post_row(post_id: int, created_at: datetime) -> PostRow:
    """A hidden post as a learner gets it, its author included: when it was written, nothing else."""
    return PostRow(id=post_id, author="", staff=False, body_html="", created_at=as_utc(created_at),
                   edited=False, deleted=False, upvotes=0,
                   voted=False, accepted=False, endorsed=False, mine=False, can_edit=False,
                   can_delete=False, can_accept=False, can_endorse=False, hidden=True)


def _hidden_view(access: Access, thread: DiscussionThread) -> ThreadView:
    return ThreadView(thread=_hidden_thread_row(access, thread, ""),
                      opening=_hidden_post_row(0, thread.created_at), replies=[], following=False)


def _post_row(access: Access, thread: DiscussionThread, post: DiscussionPost, name: str,
              staff_author: bool, body_html: str, avatar: str, voted: bool,
              flagged: bool = False) -> PostRow:
    hidden = _hidden(post, thread)
    if hidden and not access.staff:
        return _hidden_post_row(post.id, post.created_at)
    mine, deleted = post.author_id == access.user.id, post.deleted_at is not None
    # The face goes with the name (`_author_name`): never to a peer of an anonymous author.
    face = not deleted and (not post.anonymous or access.staff or mine)
    held = post.held_at is not None
    answerable = (thread.kind is ThreadKind.QUESTION and not post.is_opening and not deleted
                  and not hidden and not held)
    return PostRow(
        id=post.id, author="" if deleted else _author_name(access, post, name),
        staff=staff_author and not deleted,
        body_html="" if deleted else body_html, created_at=as_utc(post.created_at),
        edited=post.edited_at is not None, deleted=deleted, upvotes=post.upvotes, voted=voted,
        accepted=thread.accepted_post_id == post.id, endorsed=post.endorsed_at is not None,
        mine=mine, can_edit=mine and not deleted and _within_edit_window(post),
        can_delete=(mine or (access.staff and not held)) and not deleted,
        can_accept=answerable and (thread.author_id == access.user.id or access.staff)
        and thread.accepted_post_id != post.id,
        can_endorse=answerable and access.staff, hidden=hidden, flagged=flagged,
        can_flag=not mine and not deleted and not flagged and not access.staff and not held,
        can_hide=access.staff and not deleted and not held, held=held,
        avatar=profile.avatar_url(avatar) if face else "",
        initials=profile.initials(name) if face else "")


def _who(post: DiscussionPost, access: Access) -> str:
    """The author as a notification to the followers names them: those may be learners."""
    return ANONYMOUS if post.anonymous else access.user.full_name


# --- helpers ---------------------------------------------------------------------------------------

def _hidden(post: DiscussionPost, thread: DiscussionThread) -> bool:
    """Whether learners see only a placeholder: the post is hidden, or it opens a hidden thread."""
    return post.hidden_at is not None or (post.is_opening and thread.hidden_at is not None)


def _visible(post: DiscussionPost, thread: DiscussionThread) -> None:
    """Refuse acting on what a moderator hid (its placeholder offers nothing to act on)."""
    _open_for_writing(thread)
    if post.hidden_at is not None:
        raise Conflict(f"This post is {HIDDEN.lower()}")


def _shown_to(access: Access, post: DiscussionPost) -> bool:
    """Whether the viewer gets the post at all: one held for review only its author and the
    course's staff, until it is approved; a rejected one (held, and deleted) nobody. Reads of many
    posts read what any viewer may get (`_shown_where`) and then ask this for each viewer."""
    if post.held_at is None:
        return True
    return post.deleted_at is None and (access.staff or post.author_id == access.user.id)


def _shown_where() -> sa.ColumnElement[bool]:
    """`_shown_to` as a condition on `DiscussionPost` for the reads one live change shares between
    viewers (`thread_list`, `thread_posts`): what any of them may get, the staff's share (held posts
    not rejected, each still marked held). `thread_rows` and `thread_view` then keep each viewer's
    with `_shown_to`, so a learner's held post reaches no other learner."""
    return or_(col(DiscussionPost.held_at).is_(None), col(DiscussionPost.deleted_at).is_(None))


def _require_published(post: DiscussionPost) -> None:
    """Refuse acting on a post waiting for review, but for deciding on it (`review_post`) and its
    author editing or deleting it."""
    if post.held_at is not None:
        raise Conflict(f"This post is {WAITING.lower()}")


def _to_hold(session: Session, access: Access, body: str) -> bool:
    """Whether a new post waits for review: a learner's with a link (as the page would render
    one) while their account is younger than ACADEMY_DISCUSSION_HOLD_LINKS_DAYS and none of their
    posts was published yet. Staff and instructors are never held."""
    days = get_settings().discussion_hold_links_days
    if not days or access.staff or access.user.role is not Role.STUDENT:
        return False
    if utcnow() - as_utc(access.user.created_at) >= timedelta(days=days) or not has_link(body):
        return False
    published = session.exec(select(DiscussionPost.id).where(
        DiscussionPost.author_id == access.user.id, col(DiscussionPost.held_at).is_(None))).first()
    return published is None


def _opening(session: Session, thread_id: int) -> DiscussionPost:
    return session.exec(select(DiscussionPost).where(DiscussionPost.thread_id == thread_id,
                                                     col(DiscussionPost.is_opening))).one()


def _open_for_writing(thread: DiscussionThread) -> None:
    if thread.hidden_at is not None:
        raise Conflict(f"This thread is {HIDDEN.lower()}")


def _count_post(access: Access) -> None:
    """Count a learner's new post in the posting limit, or refuse it (staff are not limited)."""
    if access.staff:
        return
    settings = get_settings()
    decision = limiter().hit(f"discussion:posts:user:{access.user.id}",
                             settings.discussion_posts_per_window,
                             settings.discussion_post_window_seconds)
    if not decision.allowed:
        raise TooManyAttempts.in_minutes(
            f"You have written {settings.discussion_posts_per_window} posts in a short time; "
            "please wait before posting again", decision.retry_after)


def _require_moderator(access: Access) -> None:
    if not access.staff:
        raise PermissionDenied("Only the course's instructor or an admin can moderate its "
                               "discussions")


def _open_flag(session: Session, post_id: int, user_id: int) -> DiscussionFlag | None:
    return session.exec(select(DiscussionFlag).where(
        DiscussionFlag.post_id == post_id, DiscussionFlag.user_id == user_id,
        col(DiscussionFlag.resolved_at).is_(None))).first()


def _resolve_flags(session: Session, post_ids: list[int]) -> int:
    if not post_ids:
        return 0
    return session.execute(update(DiscussionFlag).where(
        col(DiscussionFlag.post_id).in_(post_ids), col(DiscussionFlag.resolved_at).is_(None))
        .values(resolved_at=utcnow())).rowcount


def _unname_in_bells(session: Session, thread: DiscussionThread) -> None:
    """The followers' earlier news of a thread now hidden stops naming it: the bell is read on every
    page load, and the digest reads it too. Showing the thread again does not bring the names back."""
    link = _thread_link(session, thread)
    for kind, prefix in (("discussion.reply", "New reply: "),
                         ("discussion.accepted", "Answer accepted: ")):
        session.execute(update(Notification).where(
            col(Notification.kind) == kind, col(Notification.link) == link,
            col(Notification.title) == (prefix + thread.title)[:160])
            .values(title=prefix + UNNAMED))


def _followers_title(session: Session, thread: DiscussionThread) -> str:
    """The thread as its followers' news names it: not by a title a moderator hid."""
    if thread.hidden_at is not None or _opening(session, thread.id).hidden_at is not None:
        return UNNAMED
    return thread.title


def _tell_author(session: Session, access: Access, thread: DiscussionThread, author_id: int,
                 title: str) -> None:
    if author_id == access.user.id:
        return
    notify(session, author_id, "discussion.moderated", title,
           f"In “{thread.title}”, {access.course.title}.", _thread_link(session, thread))


def _hidden_news(what: str, hidden: bool) -> str:
    return f"Your {what} was hidden by a moderator" if hidden else f"Your {what} is visible again"


def _within_edit_window(post: DiscussionPost) -> bool:
    window = timedelta(minutes=get_settings().discussion_edit_minutes)
    return utcnow() - as_utc(post.created_at) < window


def _post_by_request(session: Session, author_id: int, request_id: str) -> DiscussionPost | None:
    return session.exec(select(DiscussionPost).where(
        DiscussionPost.author_id == author_id, DiscussionPost.request_id == request_id)).first()


def _vote(session: Session, post_id: int, user_id: int) -> DiscussionVote | None:
    return session.exec(select(DiscussionVote).where(
        DiscussionVote.post_id == post_id, DiscussionVote.user_id == user_id)).first()


def _follow(session: Session, thread_id: int, user_id: int) -> DiscussionFollow | None:
    return session.exec(select(DiscussionFollow).where(
        DiscussionFollow.thread_id == thread_id, DiscussionFollow.user_id == user_id)).first()


def _follow_once(session: Session, thread_id: int, user_id: int) -> None:
    """Follow a thread one writes in, unless one unfollowed it before (that row stays)."""
    if _follow(session, thread_id, user_id) is None:
        insert_or_get(session, DiscussionFollow(thread_id=thread_id, user_id=user_id),
                      lambda: _follow(session, thread_id, user_id))


def _thread_link(session: Session, thread: DiscussionThread) -> str:
    slug = session.exec(select(Course.slug).where(Course.id == thread.course_id)).one()
    return f"/learn/{slug}/{thread.lesson_id}"


def _notify_followers(session: Session, thread: DiscussionThread, actor_id: int, *,
                      skip: Iterable[int], kind: str, title: str, body: str) -> None:
    excluded = {actor_id, *skip}
    followers = [user_id for user_id in session.exec(select(DiscussionFollow.user_id).where(
        DiscussionFollow.thread_id == thread.id, col(DiscussionFollow.active)))
        if user_id not in excluded]
    notify_many(session, followers, kind, title, body, _thread_link(session, thread))


def _notify_mentions(session: Session, access: Access, thread: DiscussionThread,
                     post: DiscussionPost) -> set[int]:
    """Tell the course's instructor when a post names them with @ (full or first name).
    Returns who was told."""
    instructor = session.get(User, access.course.instructor_id)
    if instructor is None or instructor.id == access.user.id:
        return set()
    names = {instructor.full_name, instructor.full_name.split()[0]} - {""}
    said = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    if not re.search(rf"(?<!\w)@(?:{said})(?!\w)", post.body, re.IGNORECASE):
        return set()
    notify(session, instructor.id, "discussion.mention", f"You were mentioned: {thread.title}",
           f"{_who(post, access)} mentioned you in {access.course.title}.",
           _thread_link(session, thread))
    return {instructor.id}


def _changed(session: Session, thread: DiscussionThread,
             post: DiscussionPost | None = None) -> None:
    """Reload the open tabs the change shows in; a change to a held `post` shows only to the
    moderators (and to its author, whose own page reloads after their action)."""
    if post is not None and post.held_at is not None:
        bus.changed(session, INBOX)
        return
    bus.changed(session, lesson_resource(thread.lesson_id))
    if thread.kind is ThreadKind.QUESTION:
        bus.changed(session, INBOX)
