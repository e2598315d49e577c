"""Lesson discussions: who may read and write, answers, votes, anonymity and followers.

Every test runs on SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlmodel import Session, col, func, select

from academy_app.infra.session_cookie import token_hash
from academy_app.models import (
    DiscussionPost,
    DiscussionThread,
    DiscussionVote,
    Lesson,
    Module,
    Notification,
    ReleaseKind,
    Role,
    User,
    utcnow,
)
from academy_app.services import access, accounts, discussions, enrollment, profile
from academy_app.services.access import RuleSpec
from academy_app.services.discussions import ThreadSort
from academy_app.services.errors import (
    Conflict,
    Invalid,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from academy_app.settings import get_settings
from tests.factories import make_course, make_user, race
from tests.unit.test_access import lessons_of, modules_of
from tests.unit.test_account import picture


def rid() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Python basics")


@pytest.fixture
def lesson_id(db, course) -> int:
    return db.exec(select(Lesson.id).join(Module).where(Module.course_id == course.id)
                   .order_by(Module.position, Lesson.position)).first()


def enrolled(db, course, name: str) -> User:
    user = make_user(db, name=name)
    enrollment.enroll_free(db, user, course.id)
    db.commit()
    return user


@pytest.fixture
def asker(db, course):
    return enrolled(db, course, "Ada Asker")


@pytest.fixture
def peer(db, course):
    return enrolled(db, course, "Pat Peer")


def ask(db, user, lesson_id, *, title="How do loops work?", body="I am stuck", anonymous=False,
        kind="question", request_id=None) -> DiscussionThread:
    thread = discussions.start_thread(db, user, lesson_id, kind=kind, title=title, body=body,
                                      anonymous=anonymous, request_id=request_id or rid())
    db.commit()
    return thread


def answer(db, user, thread_id, body="Use a for loop", anonymous=False) -> DiscussionPost:
    post = discussions.reply(db, user, thread_id, body=body, anonymous=anonymous,
                             request_id=rid())
    db.commit()
    return post


def notifications_of(db, user, kind: str) -> list[Notification]:
    return list(db.exec(select(Notification).where(Notification.user_id == user.id,
                                                   Notification.kind == kind)))


def discussion_news(db: Session) -> list[str]:
    return list(db.exec(select(Notification.title).where(
        col(Notification.kind).startswith("discussion."))))


def count(db: Session, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


# --- who may read and write --------------------------------------------------------------------

def test_a_learner_asks_and_the_instructor_answers(db, instructor, asker, lesson_id):
    thread = ask(db, asker, lesson_id)
    assert discussions.inbox(db, instructor)[0].title == "How do loops work?"
    answer(db, instructor, thread.id)
    view = discussions.open_thread(db, asker, thread.id)
    assert view.thread.answered and [r.staff for r in view.replies] == [True]
    assert discussions.inbox(db, instructor) == []
    [note] = notifications_of(db, asker, "discussion.reply")
    assert note.link.endswith(f"/{lesson_id}")


def test_someone_not_enrolled_can_neither_read_nor_write(db, asker, lesson_id):
    thread = ask(db, asker, lesson_id)
    outsider = make_user(db, name="Olive Outsider")
    refusals = [
        lambda: discussions.list_threads(db, outsider, lesson_id),
        lambda: discussions.open_thread(db, outsider, thread.id),
        lambda: ask(db, outsider, lesson_id),
        lambda: answer(db, outsider, thread.id),
        lambda: discussions.set_vote(db, outsider, thread.id, True),
        lambda: discussions.set_following(db, outsider, thread.id, True),
    ]
    for refused in refusals:
        with pytest.raises(PermissionDenied):
            refused()
        db.rollback()
    assert count(db, DiscussionPost) == 1


def test_a_cancelled_enrollment_closes_the_discussion(db, asker, course, lesson_id):
    from academy_app.models import Enrollment, EnrollmentStatus
    row = db.exec(select(Enrollment).where(Enrollment.user_id == asker.id)).one()
    row.status = EnrollmentStatus.CANCELLED
    db.commit()
    with pytest.raises(PermissionDenied):
        ask(db, asker, lesson_id)


def test_a_visitor_is_asked_to_log_in(db, lesson_id):
    with pytest.raises(NotAuthenticated):
        discussions.list_threads(db, None, lesson_id)


def test_another_instructor_is_refused_and_an_admin_admitted(db, asker, lesson_id):
    thread = ask(db, asker, lesson_id)
    other = make_user(db, Role.INSTRUCTOR, name="Otto Other")
    with pytest.raises(PermissionDenied):
        discussions.open_thread(db, other, thread.id)
    assert discussions.inbox(db, other) == []
    admin = make_user(db, Role.ADMIN, name="Ann Admin")
    answer(db, admin, thread.id)
    assert discussions.open_thread(db, admin, thread.id).thread.answered


def test_a_learner_cannot_open_the_inbox(db, asker):
    with pytest.raises(PermissionDenied):
        discussions.inbox(db, asker)


def test_an_unknown_lesson_or_thread_is_not_found(db, asker):
    with pytest.raises(NotFound):
        discussions.list_threads(db, asker, 999_999)
    with pytest.raises(NotFound):
        discussions.open_thread(db, asker, 999_999)


# --- answers --------------------------------------------------------------------------------------

def test_only_the_asker_or_staff_accept_an_answer(db, instructor, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id)
    reply = answer(db, peer, thread.id)
    with pytest.raises(PermissionDenied):
        discussions.accept_answer(db, peer, reply.id)
    db.rollback()
    discussions.accept_answer(db, asker, reply.id)
    db.commit()
    assert discussions.open_thread(db, peer, thread.id).replies[0].accepted
    second = answer(db, instructor, thread.id)
    discussions.accept_answer(db, instructor, second.id)
    db.commit()
    assert db.get(DiscussionThread, thread.id).accepted_post_id == second.id
    assert notifications_of(db, peer, "discussion.accepted")


def test_a_discussion_or_its_opening_post_has_no_accepted_answer(db, asker, peer, lesson_id):
    chat = ask(db, asker, lesson_id, kind="discussion", title="Share your projects")
    reply = answer(db, peer, chat.id)
    with pytest.raises(Conflict):
        discussions.accept_answer(db, asker, reply.id)
    db.rollback()
    question = ask(db, asker, lesson_id)
    opening = db.exec(select(DiscussionPost).where(DiscussionPost.thread_id == question.id)).one()
    with pytest.raises(Conflict):
        discussions.accept_answer(db, asker, opening.id)


def test_only_staff_endorse(db, instructor, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id)
    reply = answer(db, peer, thread.id)
    with pytest.raises(PermissionDenied):
        discussions.set_endorsed(db, asker, reply.id, True)
    db.rollback()
    discussions.set_endorsed(db, instructor, reply.id, True)
    db.commit()
    [row] = discussions.open_thread(db, asker, thread.id).replies
    assert row.endorsed and not row.can_endorse
    assert discussions.open_thread(db, instructor, thread.id).replies[0].can_endorse


# --- editing and deleting ------------------------------------------------------------------------

def test_only_the_author_edits_and_only_within_the_window(db, asker, peer, lesson_id, monkeypatch):
    thread = ask(db, asker, lesson_id)
    opening = db.exec(select(DiscussionPost).where(DiscussionPost.thread_id == thread.id)).one()
    with pytest.raises(PermissionDenied):
        discussions.edit_post(db, peer, opening.id, body="hijacked")
    db.rollback()
    discussions.edit_post(db, asker, opening.id, body="Now **clearer**", title="Loops, please")
    db.commit()
    view = discussions.open_thread(db, asker, thread.id)
    assert view.thread.title == "Loops, please" and "<strong>clearer</strong>" in view.opening.body_html
    assert view.opening.edited
    monkeypatch.setattr(get_settings(), "discussion_edit_minutes", 0)
    with pytest.raises(Conflict):
        discussions.edit_post(db, asker, opening.id, body="too late")
    assert not discussions.open_thread(db, asker, thread.id).opening.can_edit


def test_deleting_a_post_blanks_it_and_keeps_the_thread(db, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id)
    reply = answer(db, peer, thread.id, body="secret wrong answer")
    with pytest.raises(PermissionDenied):
        discussions.delete_post(db, asker, reply.id)
    db.rollback()
    discussions.delete_post(db, peer, reply.id)
    discussions.delete_post(db, peer, reply.id)  # twice: nothing more happens
    db.commit()
    [row] = discussions.open_thread(db, asker, thread.id).replies
    assert row.deleted and row.body_html == "" and row.author == ""
    assert "secret" not in repr(discussions.open_thread(db, asker, thread.id))


def test_staff_may_remove_a_post_and_it_is_audited(db, instructor, asker, lesson_id):
    from academy_app.models import AuditEntry
    thread = ask(db, asker, lesson_id)
    opening = db.exec(select(DiscussionPost).where(DiscussionPost.thread_id == thread.id)).one()
    discussions.delete_post(db, instructor, opening.id)
    db.commit()
    assert db.exec(select(AuditEntry.action)).all() == ["discussion.post.delete"]
    assert discussions.list_threads(db, asker, lesson_id)[0].title == "How do loops work?"


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("field, values", [
    ("body", {"body": "x" * 100_000}),
    ("body", {"body": "   "}),
    ("title", {"title": ""}),
    ("title", {"title": "t" * 161}),
    ("kind", {"kind": "poll"}),
    ("request", {"request_id": "x"}),
])
def test_bad_input_is_refused_and_nothing_is_saved(db, asker, lesson_id, field, values):
    arguments = {"kind": "question", "title": "A title", "body": "A body", "anonymous": False,
                 "request_id": rid(), **values}
    with pytest.raises(Invalid) as refused:
        discussions.start_thread(db, asker, lesson_id, **arguments)
    db.rollback()
    assert field in refused.value.errors
    assert count(db, DiscussionThread) == 0 and count(db, DiscussionPost) == 0


def test_markdown_is_sanitised_like_lessons(db, asker, lesson_id):
    thread = ask(db, asker, lesson_id, body="<script>alert(1)</script>\n\n[x](javascript:alert(1))"
                                            "\n\n```python\nprint('hi')\n```")
    html = discussions.open_thread(db, asker, thread.id).opening.body_html
    assert "<script" not in html and 'href="javascript' not in html
    assert '<code class="language-python">' in html


# --- double clicks and races ---------------------------------------------------------------------

def test_the_same_request_posts_once(db, asker, lesson_id):
    request = rid()
    first = ask(db, asker, lesson_id, request_id=request)
    again = ask(db, asker, lesson_id, request_id=request)
    assert first.id == again.id and count(db, DiscussionThread) == 1
    reply_request = rid()
    for _ in range(2):
        discussions.reply(db, asker, first.id, body="more", anonymous=False,
                          request_id=reply_request)
        db.commit()
    assert db.get(DiscussionThread, first.id).reply_count == 1 and count(db, DiscussionPost) == 2


def test_a_raced_double_post_stores_one(db, engine, asker, lesson_id):
    request, asker_id = rid(), asker.id
    db.rollback()  # SQLite: our read transaction holds the write lock (BEGIN IMMEDIATE)
    errors = race(engine, 4, lambda session, _i: discussions.start_thread(
        session, session.get(User, asker_id), lesson_id, kind="question", title="Twice?",
        body="Same click", anonymous=False, request_id=request))
    assert errors == []
    assert count(db, DiscussionThread) == 1 and count(db, DiscussionPost) == 1


def test_an_upvote_counts_once_and_toggles(db, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id)
    opening = db.exec(select(DiscussionPost).where(DiscussionPost.thread_id == thread.id)).one()
    assert discussions.set_vote(db, peer, opening.id, True) == 1
    assert discussions.set_vote(db, peer, opening.id, True) == 1
    db.commit()
    assert discussions.list_threads(db, asker, lesson_id)[0].upvotes == 1
    assert discussions.set_vote(db, peer, opening.id, False) == 0
    assert discussions.set_vote(db, peer, opening.id, False) == 0
    db.commit()
    assert count(db, DiscussionVote) == 0
    with pytest.raises(Conflict):
        discussions.set_vote(db, asker, opening.id, True)


def test_raced_upvotes_store_one_vote(db, engine, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id)
    opening = db.exec(select(DiscussionPost).where(DiscussionPost.thread_id == thread.id)).one()
    opening_id, peer_id = opening.id, peer.id
    db.rollback()
    errors = race(engine, 4, lambda session, _i: discussions.set_vote(
        session, session.get(User, peer_id), opening_id, True))
    assert errors == []
    db.expire_all()
    assert count(db, DiscussionVote) == 1 and db.get(DiscussionPost, opening_id).upvotes == 1


# --- anonymity -----------------------------------------------------------------------------------

def test_an_anonymous_post_hides_its_author_from_other_learners_only(db, instructor, asker, peer,
                                                                     lesson_id):
    thread = ask(db, asker, lesson_id, anonymous=True)
    answer(db, asker, thread.id, body="Any ideas?", anonymous=True)
    seen_by_peer = (discussions.list_threads(db, peer, lesson_id),
                    discussions.open_thread(db, peer, thread.id))
    assert seen_by_peer[0][0].author == "Anonymous"
    assert {seen_by_peer[1].opening.author, seen_by_peer[1].replies[0].author} == {"Anonymous"}
    for row in (seen_by_peer[0][0], seen_by_peer[1]):
        assert "Ada" not in repr(asdict(row)) and str(asker.id) not in _ids_in(asdict(row))
    assert discussions.open_thread(db, asker, thread.id).opening.author == "You (anonymous)"
    assert discussions.open_thread(db, instructor, thread.id).opening.author == \
        "Ada Asker (anonymous to learners)"
    assert discussions.inbox(db, instructor)[0].asker == "Ada Asker"


def test_a_posts_face_goes_with_its_authors_name_never_to_a_peer_of_an_anonymous_one(
        db, instructor, asker, peer, lesson_id):
    profile.set_avatar(db, asker, picture())
    db.commit()
    picture_url = profile.avatar_url(db.get(User, asker.id).avatar)
    thread = ask(db, asker, lesson_id)
    answer(db, asker, thread.id, body="Still stuck", anonymous=True)
    answer(db, peer, thread.id, body="Me too")
    view = discussions.open_thread(db, peer, thread.id)
    named, (anonymous, peers) = view.opening, view.replies
    assert (named.avatar, named.initials) == (picture_url, "AA")
    assert (anonymous.author, anonymous.avatar, anonymous.initials) == ("Anonymous", "", "")
    assert (peers.avatar, peers.initials) == ("", "PP")  # no picture: the initials stand in
    for who in (asker, instructor):  # its author and the staff are told who wrote it, face too
        mine = discussions.open_thread(db, who, thread.id).replies[0]
        assert (mine.avatar, mine.initials) == (picture_url, "AA")


def _ids_in(row: dict) -> set[str]:
    """Every value named like an id in a display row (an author's would give them away)."""
    found: set[str] = set()
    for key, value in row.items():
        if isinstance(value, dict):
            found |= _ids_in(value)
        elif isinstance(value, list):
            for item in value:
                found |= _ids_in(item) if isinstance(item, dict) else set()
        elif "author" in key or key.endswith("user_id"):
            found.add(str(value))
    return found


def test_staff_posts_are_never_anonymous(db, instructor, asker, lesson_id):
    thread = ask(db, asker, lesson_id)
    answer(db, instructor, thread.id, anonymous=True)
    assert discussions.open_thread(db, asker, thread.id).replies[0].author == "Iris Instructor"


def test_followers_hear_of_an_anonymous_reply_without_its_author(db, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id)
    answer(db, peer, thread.id, anonymous=True)
    [note] = notifications_of(db, asker, "discussion.reply")
    assert "Pat" not in note.title + note.body


# --- followers and mentions ----------------------------------------------------------------------

def test_followers_hear_of_replies_until_they_unfollow(db, instructor, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id)
    answer(db, peer, thread.id)
    assert len(notifications_of(db, asker, "discussion.reply")) == 1
    answer(db, asker, thread.id, body="thanks")
    assert len(notifications_of(db, peer, "discussion.reply")) == 1  # the replier follows
    discussions.set_following(db, peer, thread.id, False)
    db.commit()
    answer(db, peer, thread.id, body="one more")  # replying again does not follow again
    answer(db, instructor, thread.id)
    assert len(notifications_of(db, peer, "discussion.reply")) == 1
    assert not discussions.open_thread(db, peer, thread.id).following


def test_mentioning_the_instructor_notifies_them(db, instructor, asker, lesson_id):
    ask(db, asker, lesson_id, body="@Iris could you explain this?")
    ask(db, asker, lesson_id, body="email me at iris@example.com", title="Not a mention")
    [note] = notifications_of(db, instructor, "discussion.mention")
    assert note.title == "You were mentioned: How do loops work?"


# --- lists ---------------------------------------------------------------------------------------

def test_sorting_and_course_wide_search(db, instructor, asker, peer, course, lesson_id):
    old = ask(db, asker, lesson_id, title="Old question")
    voted = ask(db, asker, lesson_id, title="Popular one", body="about generators")
    answered = ask(db, asker, lesson_id, title="Answered one")
    answer(db, instructor, answered.id)
    opening = db.exec(select(DiscussionPost).where(DiscussionPost.thread_id == voted.id)).one()
    discussions.set_vote(db, peer, opening.id, True)
    db.commit()
    titles = lambda sort: [t.title for t in discussions.list_threads(db, peer, lesson_id, sort=sort)]  # noqa: E731
    assert titles(ThreadSort.NEWEST) == ["Answered one", "Popular one", "Old question"]
    assert titles(ThreadSort.TOP)[0] == "Popular one"
    assert titles(ThreadSort.UNANSWERED)[-1] == "Answered one"
    other_lesson = db.exec(select(Lesson.id).join(Module).where(
        Module.course_id == course.id, col(Lesson.id) != lesson_id)).first()
    elsewhere = ask(db, asker, other_lesson, title="Elsewhere", body="more GENERATORS")
    found = discussions.list_threads(db, peer, lesson_id, search="generators")
    assert {t.id for t in found} == {voted.id, elsewhere.id}
    assert discussions.list_threads(db, peer, lesson_id, search="100%") == []
    assert old.id in {t.id for t in discussions.list_threads(db, peer, lesson_id)}


def test_the_inbox_lists_unanswered_questions_oldest_first_with_filters(db, instructor, asker,
                                                                       course, lesson_id):
    first = ask(db, asker, lesson_id, title="First")
    ask(db, asker, lesson_id, title="Chat", kind="discussion")
    second = ask(db, asker, lesson_id, title="Second")
    other_course = make_course(db, instructor, title="Other")
    assert [r.thread_id for r in discussions.inbox(db, instructor)] == [first.id, second.id]
    assert discussions.inbox(db, instructor, course_id=other_course.id) == []
    assert len(discussions.inbox(db, instructor, course_id=course.id, lesson_id=lesson_id)) == 2
    assert [c.label for c in discussions.inbox_courses(db, instructor)] == ["Other",
                                                                           "Python basics"]
    assert len(discussions.inbox_lessons(db, instructor, course.id)) == 4
    discussions.accept_answer(db, asker, answer(db, asker, first.id, body="solved it").id)
    db.commit()
    assert [r.thread_id for r in discussions.inbox(db, instructor)] == [second.id]


def test_the_inbox_says_how_long_a_question_waited():
    from datetime import timedelta

    from academy_app.admin.discussions import waited
    from academy_app.models import utcnow
    now = utcnow()
    assert [waited(now - timedelta(minutes=m), now) for m in (0, 59, 60, 200, 3000)] == [
        "0 min", "59 min", "1 h", "3 h 20 min", "2 days"]


# --- the email digest ----------------------------------------------------------------------------

def _age_notifications(db, minutes: int) -> None:
    from datetime import timedelta

    from sqlmodel import update

    from academy_app.models import utcnow
    db.exec(update(Notification).values(created_at=utcnow() - timedelta(minutes=minutes)))
    db.commit()


def test_an_away_follower_gets_one_digest_a_day_with_an_unsubscribe_link(db, asker, peer,
                                                                          lesson_id, outbox):
    import email
    from email import policy

    from academy_app.models import EmailLog
    from academy_app.services import emails
    from tasks.maintenance import send_discussion_digests
    thread = ask(db, asker, lesson_id)
    answer(db, peer, thread.id, body="try this")
    answer(db, peer, thread.id, body="or that")
    assert send_discussion_digests.apply().get() == 0  # too fresh: they may read it live
    _age_notifications(db, 45)
    assert send_discussion_digests.apply().get() == 1
    assert send_discussion_digests.apply().get() == 0  # the hourly job again: nothing new
    assert db.exec(select(EmailLog.user_id).where(EmailLog.kind == "discussion.digest")).all() \
        == [asker.id]
    db.commit()
    [path] = [p for p in outbox.glob("*.eml") if b"discussions you follow" in p.read_bytes()]
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"] == "2 updates in discussions you follow"
    text = message.get_body(("plain",)).get_content()
    assert "New reply: How do loops work?" in text and f"/{lesson_id}" in text
    assert f"/unsubscribe/{emails.unsubscribe_token(asker.id, emails.Topic.DISCUSSIONS)}" in text


def test_no_digest_for_what_was_read_or_for_those_who_opted_out(db, asker, peer, lesson_id):
    from academy_app.services import email_preferences, notifications
    thread = ask(db, asker, lesson_id)
    answer(db, asker, thread.id, body="bump")  # the asker's own reply tells nobody
    answer(db, peer, thread.id)
    notifications.mark_all_read(db, asker)  # seen in the bell
    email_preferences.set_email(db, peer, "discussions", False)
    answer(db, asker, thread.id, body="thanks")  # the peer follows, but opted out
    _age_notifications(db, 45)
    assert discussions.queue_digests(db) == []


# --- moderation ----------------------------------------------------------------------------------

def _opening(db, thread) -> DiscussionPost:
    return db.exec(select(DiscussionPost).where(DiscussionPost.thread_id == thread.id,
                                                col(DiscussionPost.is_opening))).one()


def _audited(db) -> list[str]:
    from academy_app.models import AuditEntry
    return list(db.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))))


def test_a_learner_flags_a_post_once_and_staff_see_it_in_the_queue(db, instructor, asker, peer,
                                                                   lesson_id):
    from academy_app.models import DiscussionFlag
    thread = ask(db, asker, lesson_id)
    rude = answer(db, peer, thread.id, body="rude words")
    for _click in range(2):
        discussions.flag_post(db, asker, rude.id, "  Insults   another learner ")
        db.commit()
    assert count(db, DiscussionFlag) == 1
    [row] = discussions.moderation_queue(db, instructor)
    assert (row.post_id, row.flags, row.reasons, row.author, row.hidden) == (
        rude.id, 1, ["Insults another learner"], "Pat Peer", False)
    assert "rude words" in row.body_html
    [seen] = discussions.open_thread(db, asker, thread.id).replies
    assert seen.flagged and not seen.can_flag


def test_a_raced_double_flag_stores_one(db, engine, asker, peer, lesson_id):
    from academy_app.models import DiscussionFlag
    thread = ask(db, asker, lesson_id)
    post = answer(db, peer, thread.id)
    errors = race(engine, 4, lambda session, _i: discussions.flag_post(
        session, session.get(User, asker.id), post.id, "spam"))
    assert errors == [] and count(db, DiscussionFlag) == 1


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, None, 7])
def test_a_flag_needs_a_reason(db, asker, peer, lesson_id, reason):
    thread = ask(db, asker, lesson_id)
    post = answer(db, peer, thread.id)
    with pytest.raises(Invalid):
        discussions.flag_post(db, asker, post.id, reason)


def test_one_cannot_flag_ones_own_post_nor_a_post_of_a_course_one_cannot_read(db, asker,
                                                                            lesson_id):
    thread = ask(db, asker, lesson_id)
    with pytest.raises(Conflict):
        discussions.flag_post(db, asker, _opening(db, thread).id, "mine")
    with pytest.raises(PermissionDenied):
        discussions.flag_post(db, make_user(db, name="Olive Outsider"), _opening(db, thread).id,
                              "spam")


def test_a_hidden_reply_reaches_learners_only_as_a_placeholder(db, instructor, asker, peer,
                                                               lesson_id):
    thread = ask(db, asker, lesson_id)
    post = answer(db, peer, thread.id, body="buy cheap watches at spam.example")
    discussions.flag_post(db, asker, post.id, "spam")
    discussions.set_post_hidden(db, instructor, post.id, True)
    db.commit()
    for learner in (asker, peer):  # its author too
        [row] = discussions.open_thread(db, learner, thread.id).replies
        assert row.hidden and row.author == "" and row.body_html == ""
        assert "spam" not in repr(discussions.open_thread(db, learner, thread.id))
        assert "spam" not in repr(discussions.list_threads(db, learner, lesson_id, search="spam"))
    [staff_row] = discussions.open_thread(db, instructor, thread.id).replies
    assert staff_row.hidden and "spam.example" in staff_row.body_html
    [queued] = discussions.moderation_queue(db, instructor)
    assert queued.hidden and queued.flags == 0  # hiding resolved the flag
    refusals = [lambda: discussions.set_vote(db, asker, post.id, True),
                lambda: discussions.accept_answer(db, asker, post.id),
                lambda: discussions.post_body(db, peer, post.id),
                lambda: discussions.edit_post(db, peer, post.id, body="sorry")]
    for refused in refusals:
        with pytest.raises(Conflict):
            refused()
        db.rollback()
    [note] = notifications_of(db, peer, "discussion.moderated")
    assert note.title == "Your post was hidden by a moderator"

    discussions.set_post_hidden(db, instructor, post.id, False)
    db.commit()
    assert "spam.example" in discussions.open_thread(db, peer, thread.id).replies[0].body_html
    assert _audited(db) == ["discussion.post.hide", "discussion.post.unhide"]


def test_hiding_twice_changes_nothing(db, instructor, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id)
    post = answer(db, peer, thread.id)
    for _click in range(2):
        discussions.set_post_hidden(db, instructor, post.id, True)
        discussions.set_thread_hidden(db, instructor, thread.id, True)
        db.commit()
    assert _audited(db) == ["discussion.post.hide", "discussion.thread.hide"]
    assert len(notifications_of(db, peer, "discussion.moderated")) == 1
    assert len(notifications_of(db, asker, "discussion.moderated")) == 1


def test_a_hidden_thread_is_a_placeholder_to_learners_and_closed_to_replies(
        db, instructor, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id, title="Secret title", body="secret body")
    answer(db, peer, thread.id, body="a reply the asker heard of")
    discussions.set_thread_hidden(db, instructor, thread.id, True)
    db.commit()
    assert discussions.list_threads(db, peer, lesson_id) == []
    assert discussions.list_threads(db, peer, lesson_id, search="secret") == []
    view = discussions.open_thread(db, asker, thread.id)
    assert view.thread.hidden and view.thread.title == discussions.HIDDEN and view.replies == []
    assert view.thread.replies == 0
    assert "ecret" not in repr(view)
    assert discussions.list_threads(db, instructor, lesson_id)[0].hidden
    assert discussions.inbox(db, instructor) == []  # a hidden question waits for nobody
    assert [n.title for n in notifications_of(db, asker, "discussion.reply")] == [
        "New reply: a thread hidden by a moderator"]
    with pytest.raises(Conflict):
        answer(db, peer, thread.id)
    db.rollback()
    with pytest.raises(Conflict):
        discussions.flag_post(db, peer, _opening(db, thread).id, "spam")
    db.rollback()
    discussions.set_thread_hidden(db, instructor, thread.id, False)
    db.commit()
    assert discussions.list_threads(db, peer, lesson_id)[0].title == "Secret title"
    assert _audited(db) == ["discussion.thread.hide", "discussion.thread.unhide"]


def test_only_the_courses_staff_moderate(db, asker, peer, lesson_id):
    thread = ask(db, asker, lesson_id)
    post = answer(db, peer, thread.id)
    other = make_user(db, Role.INSTRUCTOR, name="Otto Other")
    refusals = [lambda user: discussions.set_post_hidden(db, user, post.id, True),
                lambda user: discussions.set_thread_hidden(db, user, thread.id, True),
                lambda user: discussions.dismiss_flags(db, user, post.id)]
    for user in (asker, other):
        for refused in refusals:
            with pytest.raises(PermissionDenied):
                refused(user)
            db.rollback()
    with pytest.raises(PermissionDenied):
        discussions.moderation_queue(db, asker)
    assert discussions.moderation_queue(db, other) == []
    assert _audited(db) == []


def test_an_opening_post_can_be_hidden_alone_and_its_replies_stay(db, instructor, asker, peer,
                                                                   lesson_id):
    thread = ask(db, asker, lesson_id, title="Rude title", body="rude body")
    answer(db, peer, thread.id, body="a kind reply")
    opening = _opening(db, thread)
    for _click in range(2):
        discussions.set_post_hidden(db, instructor, opening.id, True)
        db.commit()
    for learner in (asker, peer):
        [row] = discussions.list_threads(db, learner, lesson_id)
        assert (row.title, row.author, row.replies, row.hidden) == (discussions.HIDDEN, "", 1, False)
        view = discussions.open_thread(db, learner, thread.id)
        assert view.opening.hidden and view.opening.body_html == ""
        assert ["a kind reply" in reply.body_html for reply in view.replies] == [True]
        assert "ude" not in repr(view) and "ude" not in repr(row)
        assert discussions.list_threads(db, learner, lesson_id, search="rude") == []
    staff_view = discussions.open_thread(db, instructor, thread.id)
    assert staff_view.thread.title == "Rude title" and staff_view.opening.hidden
    [note] = notifications_of(db, asker, "discussion.moderated")
    assert note.title == "Your post was hidden by a moderator"
    answer(db, peer, thread.id, body="still open for replies")  # named in no follower's news
    assert [n.title for n in notifications_of(db, asker, "discussion.reply")] == [
        "New reply: a thread hidden by a moderator"] * 2

    discussions.set_post_hidden(db, instructor, opening.id, False)
    db.commit()
    assert discussions.list_threads(db, peer, lesson_id)[0].title == "Rude title"
    assert _audited(db) == ["discussion.post.hide", "discussion.post.unhide"]
    assert len(notifications_of(db, asker, "discussion.moderated")) == 2


def test_a_dismissed_flag_can_be_raised_again_once(db, instructor, asker, peer, lesson_id):
    from academy_app.models import DiscussionFlag
    thread = ask(db, asker, lesson_id)
    post = answer(db, peer, thread.id)
    discussions.flag_post(db, asker, post.id, "spam")
    db.commit()
    discussions.dismiss_flags(db, instructor, post.id)
    db.commit()
    [seen] = discussions.open_thread(db, asker, thread.id).replies
    assert seen.can_flag and not seen.flagged
    for _click in range(2):
        discussions.flag_post(db, asker, post.id, "still spam")
        db.commit()
    assert count(db, DiscussionFlag) == 2
    [row] = discussions.moderation_queue(db, instructor)
    assert (row.flags, row.reasons) == (1, ["still spam"])
    assert discussions.open_thread(db, asker, thread.id).replies[0].flagged
    assert discussions.dismiss_flags(db, instructor, post.id) == 1
    db.commit()
    assert _audited(db) == ["discussion.flags.dismiss", "discussion.flags.dismiss"]


# --- posts held for review -------------------------------------------------------------------------

LINKED = "See [the docs](https://docs.python.org/3/) @Iris"


@pytest.fixture
def holding(monkeypatch):
    """New accounts' posts with a link wait for review (off by default)."""
    monkeypatch.setattr(get_settings(), "discussion_hold_links_days", 7)


def test_a_new_accounts_post_with_a_link_is_held_for_its_author_and_staff_only(
        db, instructor, asker, peer, lesson_id, holding):
    published = ask(db, peer, lesson_id, title="A plain question", body="no link here")
    thread = ask(db, asker, lesson_id, title="Held question", body=LINKED)
    held_reply = answer(db, asker, published.id, body=LINKED)
    assert held_reply.held_at is not None
    assert discussion_news(db) == []  # no follower, no mentioned instructor hears of either

    assert [row.title for row in discussions.list_threads(db, peer, lesson_id)] == [
        "A plain question"]
    assert discussions.list_threads(db, peer, lesson_id, search="docs") == []
    peer_view = discussions.open_thread(db, peer, published.id)
    assert peer_view.replies == [] and peer_view.thread.replies == 0
    for refused in (lambda: discussions.open_thread(db, peer, thread.id),
                    lambda: discussions.set_vote(db, peer, held_reply.id, True),
                    lambda: discussions.flag_post(db, peer, held_reply.id, "spam"),
                    lambda: discussions.set_following(db, peer, thread.id, True),
                    lambda: answer(db, peer, thread.id)):
        with pytest.raises(NotFound):
            refused()
        db.rollback()

    mine = {row.title: row.held for row in discussions.list_threads(db, asker, lesson_id)}
    assert mine == {"Held question": True, "A plain question": False}
    assert discussions.open_thread(db, asker, thread.id).opening.held
    [my_reply] = discussions.open_thread(db, asker, published.id).replies
    assert my_reply.held and my_reply.mine and "the docs" in my_reply.body_html
    # Searches are read once for all learners: their own held reply's words do not find its thread
    # (another learner's would show the others a thread for words they cannot see).
    assert [row.title for row in discussions.list_threads(db, asker, lesson_id, search="docs")
            ] == ["Held question"]
    with pytest.raises(Conflict):  # its replies open once it is published
        answer(db, asker, thread.id)
    db.rollback()

    staff_view = discussions.open_thread(db, instructor, published.id)
    assert staff_view.replies[0].held and not staff_view.replies[0].can_accept
    assert [row.title for row in discussions.inbox(db, instructor)] == ["A plain question"]
    queue = discussions.moderation_queue(db, instructor)
    assert [(row.post_id, row.held_at is not None) for row in queue] == [
        (_opening(db, thread).id, True), (held_reply.id, True)]
    for refused in (lambda: discussions.accept_answer(db, instructor, held_reply.id),
                    lambda: discussions.set_post_hidden(db, instructor, held_reply.id, True),
                    lambda: answer(db, instructor, thread.id)):
        with pytest.raises(Conflict):
            refused()
        db.rollback()
    assert discussion_news(db) == []


def test_no_hold_without_a_link_for_an_older_account_for_staff_or_when_off(
        db, instructor, course, lesson_id, holding, monkeypatch):
    def first_post(user, body) -> bool:
        return discussions.open_thread(db, user, ask(db, user, lesson_id, body=body).id
                                       ).opening.held

    assert not first_post(enrolled(db, course, "Nell New"), "see https://example.com, no link")
    assert not first_post(enrolled(db, course, "Nell New"), "`[code](https://example.com)`")
    older = enrolled(db, course, "Olga Older")
    older.created_at = utcnow() - timedelta(days=8)
    db.commit()
    assert not first_post(older, LINKED)
    assert not first_post(instructor, LINKED)
    admin = make_user(db, Role.ADMIN, name="Ada Admin")
    assert not first_post(admin, LINKED)
    known = enrolled(db, course, "Kim Known")
    assert not first_post(known, "no link")
    assert not first_post(known, LINKED)  # one of theirs is published already
    assert first_post(enrolled(db, course, "Nell New"), LINKED)
    monkeypatch.setattr(get_settings(), "discussion_hold_links_days", 0)
    assert not first_post(enrolled(db, course, "Nell New"), LINKED)


def test_approving_publishes_once_and_tells_followers_once(db, instructor, asker, peer,
                                                           lesson_id, holding):
    from academy_app.models import DiscussionThread
    question = ask(db, peer, lesson_id, title="A plain question", body="no link here")
    held = answer(db, asker, question.id, body=LINKED)
    held_thread = ask(db, asker, lesson_id, title="Held question", body="[link](https://x.org)")
    for _click in range(2):  # a double click, then the other button: one decision
        discussions.review_post(db, instructor, held.id, True)
        discussions.review_post(db, instructor, _opening(db, held_thread).id, True)
        db.commit()
    discussions.review_post(db, instructor, held.id, False)
    db.commit()

    [reply] = discussions.open_thread(db, peer, question.id).replies
    assert not reply.held and "the docs" in reply.body_html and reply.can_flag
    assert db.get(DiscussionThread, question.id).reply_count == 1
    assert [row.title for row in discussions.list_threads(db, peer, lesson_id)] == [
        "Held question", "A plain question"]  # published as if posted now: the newest
    assert [n.title for n in notifications_of(db, peer, "discussion.reply")] == [
        "New reply: A plain question"]
    assert [n.title for n in notifications_of(db, instructor, "discussion.mention")] == [
        "You were mentioned: A plain question"]
    assert sorted(n.title for n in notifications_of(db, asker, "discussion.moderated")) == [
        "Your question or discussion is published", "Your reply is published"]
    assert _audited(db) == ["discussion.post.approve", "discussion.post.approve"]
    assert discussions.moderation_queue(db, instructor) == []
    assert not discussions.open_thread(db, asker, question.id).replies[0].held
    assert answer(db, asker, held_thread.id, body="[now](https://x.org)").held_at is None


def test_rejecting_takes_a_held_post_out_of_everyones_view(db, instructor, asker, peer, lesson_id,
                                                           holding):
    thread = ask(db, asker, lesson_id, title="Held question", body=LINKED)
    opening = _opening(db, thread)
    for _click in range(2):
        discussions.review_post(db, instructor, opening.id, False)
        db.commit()
    discussions.review_post(db, instructor, opening.id, True)  # too late: it was rejected
    db.commit()
    for viewer in (asker, peer, instructor):
        assert discussions.list_threads(db, viewer, lesson_id) == []
        with pytest.raises(NotFound):
            discussions.open_thread(db, viewer, thread.id)
    assert discussions.moderation_queue(db, instructor) == []
    [note] = notifications_of(db, asker, "discussion.moderated")
    assert note.title == "Your question or discussion was not published by the moderators"
    assert notifications_of(db, instructor, "discussion.mention") == []
    assert _audited(db) == ["discussion.post.reject"]
    again = ask(db, asker, lesson_id, title="Another try", body=LINKED)
    assert discussions.open_thread(db, asker, again.id).opening.held  # nothing of theirs is up


def test_only_the_courses_staff_review_a_held_post(db, asker, peer, lesson_id, holding):
    thread = ask(db, asker, lesson_id, body=LINKED)
    opening = _opening(db, thread)
    other = make_user(db, Role.INSTRUCTOR, name="Otto Other")
    for user in (asker, other, peer):
        with pytest.raises(PermissionDenied):
            discussions.review_post(db, user, opening.id, True)
        db.rollback()
    assert db.get(DiscussionPost, opening.id).held_at is not None and _audited(db) == []


def test_dismissing_flags_leaves_the_post_up_and_empties_the_queue(db, instructor, asker, peer,
                                                                    lesson_id):
    thread = ask(db, asker, lesson_id)
    post = answer(db, peer, thread.id)
    discussions.flag_post(db, asker, post.id, "not sure")
    db.commit()
    assert discussions.dismiss_flags(db, instructor, post.id) == 1
    db.commit()
    assert discussions.moderation_queue(db, instructor) == []
    assert not discussions.open_thread(db, peer, thread.id).replies[0].hidden
    assert _audited(db) == ["discussion.flags.dismiss"]


def test_learners_posting_is_rate_limited_and_staff_are_not(db, instructor, asker, lesson_id,
                                                            monkeypatch):
    monkeypatch.setattr(get_settings(), "discussion_posts_per_window", 3)
    thread = ask(db, asker, lesson_id)
    answer(db, asker, thread.id)
    same = rid()
    for _retry in range(2):  # a retried post is not counted twice
        discussions.reply(db, asker, thread.id, body="third", anonymous=False, request_id=same)
        db.commit()
    from academy_app.services.errors import TooManyAttempts
    with pytest.raises(TooManyAttempts) as refused:
        answer(db, asker, thread.id, body="fourth")
    db.rollback()
    assert "please wait before posting again: try again in 10 minutes" in refused.value.message
    with pytest.raises(TooManyAttempts):
        ask(db, asker, lesson_id, title="Another")
    db.rollback()
    assert count(db, DiscussionPost) == 3
    for _many in range(5):
        answer(db, instructor, thread.id)


# --- a live change: read once, written for each viewer ----------------------------------------------

def login_of(db, user) -> str:
    """A login hash, as a tab's handshake carries it (what `admit_viewers` is given per tab)."""
    hashed = token_hash(accounts.start_session(db, user))
    db.commit()
    return hashed


def test_a_live_change_admits_only_those_who_may_read_the_lesson_now(db, instructor, asker, peer,
                                                                    course, lesson_id):
    outsider = make_user(db, name="Olive Outsider")
    logins = {name: login_of(db, user) for name, user in
              (("instructor", instructor), ("asker", asker), ("peer", peer),
               ("outsider", outsider))}
    accounts.end_login(db, logins["peer"])  # logged out since the tab opened
    db.commit()
    admitted = discussions.admit_viewers(db, lesson_id, [*logins.values(), "", "forged"])
    assert {login: (viewer.user.id, viewer.staff, viewer.lesson_id)
            for login, viewer in admitted.items()} == {
        logins["instructor"]: (instructor.id, True, lesson_id),
        logins["asker"]: (asker.id, False, lesson_id)}

    access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE),
                    module_id=modules_of(db, course)[0].id)
    db.commit()
    second = lessons_of(db, course)[1].id  # locked to learners until the first is done
    assert set(discussions.admit_viewers(db, second, logins.values())) == {logins["instructor"]}


def test_one_read_written_for_each_viewer_is_what_each_would_read_alone(db, instructor, asker,
                                                                        peer, lesson_id):
    thread = ask(db, asker, lesson_id, anonymous=True)
    answer(db, asker, thread.id, body="Any ideas?", anonymous=True)
    reply = answer(db, peer, thread.id, body="Try a for loop")
    hidden = answer(db, peer, thread.id, body="buy cheap watches at spam.example")
    discussions.set_vote(db, asker, reply.id, True)
    discussions.flag_post(db, asker, reply.id, "rude")
    discussions.set_post_hidden(db, instructor, hidden.id, True)
    db.commit()
    admitted = discussions.admit_viewers(db, lesson_id, [login_of(db, user) for user in
                                                         (instructor, asker, peer)])
    by_user = {viewer.user.id: viewer for viewer in admitted.values()}
    posts = discussions.thread_posts(db, by_user[peer.id], thread.id)  # read once, for everyone
    for user in (instructor, asker, peer):
        viewer = by_user[user.id]
        threads = discussions.thread_list(db, viewer)
        assert discussions.thread_rows(viewer, threads) == \
            discussions.list_threads(db, user, lesson_id)
        assert discussions.thread_view(viewer, posts) == \
            discussions.open_thread(db, user, thread.id)

    learners = discussions.thread_list(db, by_user[asker.id])  # one read, for both learners
    for user in (asker, peer):  # the asker's "You (anonymous)" row is not the peer's
        assert discussions.thread_rows(by_user[user.id], learners) == \
            discussions.list_threads(db, user, lesson_id)

    seen_by_peer = discussions.thread_view(by_user[peer.id], posts)
    assert "Ada" not in repr(seen_by_peer) and "spam" not in repr(seen_by_peer)
    assert {seen_by_peer.opening.author, seen_by_peer.replies[0].author} == {"Anonymous"}
    assert seen_by_peer.replies[2].hidden and seen_by_peer.replies[2].body_html == ""
    seen_by_asker = discussions.thread_view(by_user[asker.id], posts)
    assert seen_by_asker.replies[1].voted and seen_by_asker.replies[1].flagged
    assert not seen_by_peer.replies[1].voted and seen_by_peer.following


def test_what_was_read_for_staff_or_another_lesson_is_never_written_for_a_learner(
        db, instructor, asker, peer, course, lesson_id):
    thread = ask(db, asker, lesson_id, title="Secret title", body="secret body")
    discussions.set_thread_hidden(db, instructor, thread.id, True)
    db.commit()
    admitted = discussions.admit_viewers(db, lesson_id, [login_of(db, instructor),
                                                         login_of(db, peer)])
    staff, learner = sorted(admitted.values(), key=lambda viewer: not viewer.staff)
    with pytest.raises(PermissionDenied):
        discussions.thread_rows(learner, discussions.thread_list(db, staff))
    view = discussions.thread_view(learner, discussions.thread_posts(db, staff, thread.id))
    assert view.thread.hidden and "ecret" not in repr(view)

    other_lesson = lessons_of(db, course)[1].id
    [elsewhere] = discussions.admit_viewers(db, other_lesson, [login_of(db, peer)]).values()
    with pytest.raises(PermissionDenied):
        discussions.thread_posts(db, elsewhere, thread.id)
    with pytest.raises(PermissionDenied):
        discussions.thread_view(elsewhere, discussions.thread_posts(db, staff, thread.id))


def test_a_held_post_read_once_for_all_is_written_for_its_author_and_staff_alone(
        db, instructor, asker, peer, lesson_id, holding):
    published = ask(db, peer, lesson_id, title="A plain question", body="no link here")
    held_thread = ask(db, asker, lesson_id, title="Held question", body=LINKED)
    held_reply = answer(db, asker, published.id, body="Held [reply](https://x.org)")
    admitted = discussions.admit_viewers(db, lesson_id, [login_of(db, user) for user in
                                                         (instructor, asker, peer)])
    by_user = {viewer.user.id: viewer for viewer in admitted.values()}
    # The learners' list read for the peer's tab, the thread read for the peer's: shared reads
    # hold the asker's held posts, and each viewer's writing keeps them or not.
    learners = discussions.thread_list(db, by_user[peer.id])
    staff = discussions.thread_list(db, by_user[instructor.id])
    posts = discussions.thread_posts(db, by_user[peer.id], published.id)
    held_posts = discussions.thread_posts(db, by_user[peer.id], held_thread.id)

    def titles(user, threads) -> dict[str, bool]:
        return {row.title: row.held for row in discussions.thread_rows(by_user[user.id], threads)}

    def replies(user) -> list[tuple[int, bool]]:
        return [(row.id, row.held) for row in discussions.thread_view(by_user[user.id], posts).replies]

    both = {"Held question": True, "A plain question": False}
    assert (titles(asker, learners), titles(instructor, staff)) == (both, both)
    assert titles(peer, learners) == {"A plain question": False}
    assert replies(asker) == replies(instructor) == [(held_reply.id, True)]
    assert replies(peer) == [] and "x.org" not in repr(discussions.thread_view(by_user[peer.id], posts))
    for user in (asker, instructor):
        assert discussions.thread_view(by_user[user.id], held_posts).opening.held
    with pytest.raises(NotFound):
        discussions.thread_view(by_user[peer.id], held_posts)
    for user in (instructor, asker, peer):  # the same as each would read alone
        assert discussions.thread_rows(by_user[user.id], learners if user is not instructor
                                       else staff) == discussions.list_threads(db, user, lesson_id)
        assert discussions.thread_view(by_user[user.id], posts) == \
            discussions.open_thread(db, user, published.id)
