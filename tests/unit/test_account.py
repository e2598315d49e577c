"""The account page's services: a display name, an avatar drawn from an upload, an email address
changed only by a link sent to the new address, and which emails arrive (on SQLite and PostgreSQL)."""

from __future__ import annotations

import email
import io
import re
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select, update

from academy_app.models import EmailChange, EmailLog, Notification, PasswordReset, User, utcnow
from academy_app.services import accounts, email_preferences, emails, notifications, profile
from academy_app.services.errors import (
    Conflict,
    Invalid,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from academy_app.settings import get_settings
from tests.factories import PASSWORD, make_user, race

CONFIRM_LINK = re.compile(r"http://localhost:3000/account/email/([A-Za-z0-9_-]+)")


def messages(outbox: Path) -> list[email.message.EmailMessage]:
    files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def picture(kind: str = "JPEG", size: tuple[int, int] = (640, 480), **save: object) -> bytes:
    """A real picture file: a red left half and a blue right half."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    output = io.BytesIO()
    image.save(output, format=kind, **save)
    return output.getvalue()


# --- the name ---------------------------------------------------------------------------------------

def test_a_name_is_saved_tidied_and_checked_like_at_sign_up(db, student):
    assert profile.rename(db, student, "  Ada   King\n Lovelace ").full_name == "Ada King Lovelace"
    db.commit()
    assert db.get(User, student.id).full_name == "Ada King Lovelace"
    for bad, message in (("   ", "Enter your full name"), ("x" * 121, "Use at most 120 characters"),
                         (["not", "text"], "Enter your full name")):
        with pytest.raises(Invalid) as refused:
            profile.rename(db, student, bad)
        assert refused.value.errors == {"full_name": message}
    with pytest.raises(NotAuthenticated):
        profile.rename(db, None, "Nobody")


# --- the avatar -------------------------------------------------------------------------------------

def test_an_avatar_is_redrawn_square_at_two_sizes_without_the_files_metadata(db, student):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # Orientation: the camera was turned; the picture must come out upright
    profile.set_avatar(db, student, picture("JPEG", (640, 480), exif=exif, comment=b"secret"))
    db.commit()
    key = db.get(User, student.id).avatar
    assert profile.avatar_url(key, 256) == f"/avatars/{key}-256.webp"
    for size in (256, 64):
        path = profile.avatar_file(f"{key}-{size}.webp")
        data = path.read_bytes()
        assert b"SpyCam" not in data and b"secret" not in data
        with Image.open(path) as drawn:
            assert (drawn.format, drawn.size) == ("WEBP", (size, size))
            assert not drawn.getexif() and "icc_profile" not in drawn.info
            # Turned upright: the red half, left in the file, is now at the top.
            top, bottom = drawn.convert("RGB").getpixel((size // 2, 2)), \
                drawn.convert("RGB").getpixel((size // 2, size - 3))
            assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]


@pytest.mark.parametrize("kind", ["PNG", "WEBP"])
def test_png_and_webp_avatars_are_taken_too(db, student, kind):
    profile.set_avatar(db, student, picture(kind, (300, 900)))
    db.commit()
    assert profile.avatar_file(f"{db.get(User, student.id).avatar}-64.webp") is not None


def test_what_is_not_a_usable_picture_is_refused_with_a_reason(db, student):
    bomb = io.BytesIO()
    Image.new("1", (8_000, 6_000)).save(bomb, format="PNG")  # 48 megapixels in a small file
    cases = [
        (b"", "Choose a picture to upload"),
        ("text", "Choose a picture to upload"),
        (b"GIF89a" + b"\x00" * 100, "This file is not a JPEG, PNG or WebP picture"),
        (picture("GIF"), "This file is not a JPEG, PNG or WebP picture"),
        (b"%PDF-1.7 not a picture", "This file is not a JPEG, PNG or WebP picture"),
        (picture("JPEG")[:200], "This picture could not be read: it may be damaged or incomplete"),
        (bomb.getvalue(), "The picture is 8,000 × 6,000 pixels: use one of at most 40 "
                          "megapixels"),
        (b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), "The picture is larger than 5 MB"),
    ]
    for data, message in cases:
        with pytest.raises(Invalid) as refused:
            profile.set_avatar(db, student, data)
        assert refused.value.errors == {"avatar": message}
    assert db.get(User, student.id).avatar == ""
    assert not (get_settings().media_root / "avatars").exists() or \
        not any((get_settings().media_root / "avatars").iterdir())
    with pytest.raises(NotAuthenticated):
        profile.set_avatar(db, None, picture())


def test_a_new_picture_replaces_the_old_ones_files_and_removing_it_deletes_them(db, student):
    profile.set_avatar(db, student, picture("JPEG"))
    db.commit()
    first = db.get(User, student.id).avatar
    profile.set_avatar(db, student, picture("JPEG"))  # the same file twice: one change
    db.commit()
    assert db.get(User, student.id).avatar == first
    profile.set_avatar(db, student, picture("PNG"))
    db.commit()
    second = db.get(User, student.id).avatar
    assert second != first and profile.avatar_file(f"{first}-256.webp") is None
    profile.remove_avatar(db, student)
    db.commit()
    assert db.get(User, student.id).avatar == ""
    assert profile.avatar_file(f"{second}-256.webp") is None


def test_a_picture_refused_by_the_transaction_changes_nothing(db, student):
    profile.set_avatar(db, student, picture("JPEG"))
    db.commit()
    kept = db.get(User, student.id).avatar
    profile.set_avatar(db, student, picture("PNG"))
    db.rollback()  # the caller's transaction failed after the upload
    assert db.get(User, student.id).avatar == kept
    assert profile.avatar_file(f"{kept}-256.webp") is not None


@pytest.mark.parametrize("name", ["", "../secret_key", "a" * 32 + "-256.png", "A" * 32 + "-64.webp",
                                  "a" * 32 + "-128.webp", "a" * 32 + "-256.webp/../x"])
def test_only_stored_avatar_names_open_a_file(name):
    assert profile.avatar_file(name) is None


# --- the email address ------------------------------------------------------------------------------

def ask_to_change(db, user: User, new_email: str, password: str = PASSWORD,
                  ip: str = "10.0.0.1") -> str:
    address = profile.request_email_change(db, user, profile.EmailChangeForm(new_email, password),
                                           ip)
    db.commit()
    return address


def confirm_token(outbox: Path, to: str) -> str:
    [message] = [m for m in messages(outbox) if m["To"] == to
                 and m["Subject"] == "Confirm your new Academy email address"][-1:]
    return CONFIRM_LINK.search(message.get_body(("plain",)).get_content()).group(1)


def test_the_address_changes_only_when_the_link_sent_to_it_is_used(db, student, outbox):
    old = student.email
    assert ask_to_change(db, student, " New.Address@Example.com ") == "new.address@example.com"
    assert db.get(User, student.id).email == old  # nothing changes yet
    confirm, notice = messages(outbox)
    assert confirm["To"] == "new.address@example.com" and notice["To"] == old
    assert "n•••••••••s@example.com" in notice.get_body(("plain",)).get_content()
    token = confirm_token(outbox, "new.address@example.com")
    stored = db.exec(select(EmailChange)).one()
    assert token not in stored.token_hash  # only a digest is kept
    assert profile.check_email_change(db, token) == "n•••••••••s@example.com"
    db.commit()
    assert db.get(User, student.id).email == old  # opening the link changed nothing

    profile.confirm_email_change(db, token)
    db.commit()
    assert db.get(User, student.id).email == "new.address@example.com"
    with pytest.raises(NotFound):  # used up
        profile.confirm_email_change(db, token)
    assert accounts.authenticate(db, "new.address@example.com", PASSWORD).id == student.id
    [told] = db.exec(select(Notification).where(Notification.user_id == student.id,
                                                Notification.kind == "account.email_changed"))
    assert "new.address@example.com" in told.body


def test_a_change_is_refused_clearly_before_any_email(db, student, outbox):
    other = make_user(db, email="taken@example.com")
    cases = [
        (profile.EmailChangeForm("not an address", PASSWORD),
         {"email": "Enter a valid email address, like name@example.com"}),
        (profile.EmailChangeForm(student.email.upper(), PASSWORD),
         {"email": "This is already your email address"}),
        (profile.EmailChangeForm("fresh@example.com", ""),
         {"password": "Enter your current password"}),
        (profile.EmailChangeForm("fresh@example.com", "not-my-password"),
         {"password": "This is not your current password"}),
        # What sign-up says of the same address, and no more.
        (profile.EmailChangeForm(other.email, PASSWORD),
         {"email": "An account with this email already exists"}),
        (profile.EmailChangeForm(["crafted"], {"password": 1}),
         {"email": "Enter a valid email address, like name@example.com"}),
    ]
    for form, errors in cases:
        with pytest.raises(Invalid) as refused:
            profile.request_email_change(db, student, form, "10.0.0.1")
        assert refused.value.errors == errors
        db.rollback()
    assert messages(outbox) == [] and db.exec(select(EmailChange)).all() == []
    with pytest.raises(NotAuthenticated):
        profile.request_email_change(db, None, profile.EmailChangeForm("a@example.com", PASSWORD))


def test_requests_are_limited_per_user_and_per_address(db, student, monkeypatch):
    monkeypatch.setattr(get_settings(), "email_changes_per_hour", 2)
    ask_to_change(db, student, "one@example.com")
    with pytest.raises(Invalid):  # a wrong password counts too: it cannot be guessed here
        ask_to_change(db, student, "two@example.com", password="guess-guess-guess")
    db.rollback()
    with pytest.raises(TooManyAttempts):
        ask_to_change(db, student, "three@example.com", ip="10.9.9.9")
    db.rollback()
    neighbour = make_user(db)
    ask_to_change(db, neighbour, "n1@example.com", ip="10.0.0.2")
    ask_to_change(db, neighbour, "n2@example.com", ip="10.0.0.2")
    stranger = make_user(db)
    with pytest.raises(TooManyAttempts):  # the same address, another account
        ask_to_change(db, stranger, "s1@example.com", ip="10.0.0.2")


def test_a_double_submit_sends_one_link_and_a_new_request_voids_the_old_link(db, student, outbox):
    ask_to_change(db, student, "first@example.com")
    ask_to_change(db, student, "first@example.com")  # a double click, a second tab
    assert len(messages(outbox)) == 2  # one link, one notice
    first = confirm_token(outbox, "first@example.com")
    ask_to_change(db, student, "second@example.com")
    second = confirm_token(outbox, "second@example.com")
    with pytest.raises(NotFound):
        profile.confirm_email_change(db, first)
    db.rollback()
    profile.confirm_email_change(db, second)
    db.commit()
    assert db.get(User, student.id).email == "second@example.com"


def test_racing_submits_leave_one_usable_link(engine, db, student, outbox):
    def submit(session, _n):
        profile.request_email_change(session, session.get(User, student.id),
                                     profile.EmailChangeForm("raced@example.com", PASSWORD))

    assert race(engine, 4, submit) == []
    assert len(db.exec(select(EmailChange)).all()) == 1
    assert len([m for m in messages(outbox) if m["To"] == "raced@example.com"]) == 1


def test_an_expired_or_forged_link_opens_nothing(db, student, outbox):
    ask_to_change(db, student, "later@example.com")
    token = confirm_token(outbox, "later@example.com")
    db.exec(update(EmailChange).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    for link in (token, "", "x" * 5000, token[:-1], None, ["list"]):
        with pytest.raises(NotFound):
            profile.confirm_email_change(db, link)
        db.rollback()
    assert db.get(User, student.id).email != "later@example.com"
    assert profile.purge_expired_email_changes(db) == 1


def test_an_address_taken_meanwhile_is_refused_when_the_link_is_used(db, student, outbox):
    ask_to_change(db, student, "contested@example.com")
    token = confirm_token(outbox, "contested@example.com")
    make_user(db, email="contested@example.com")  # signed up in between
    with pytest.raises(Conflict):
        profile.confirm_email_change(db, token)
    db.rollback()
    assert db.get(User, student.id).email != "contested@example.com"


def test_a_confirmed_change_voids_reset_links_sent_to_the_old_address(db, student, outbox):
    accounts.request_password_reset(db, student.email, "10.0.0.1")
    db.commit()
    ask_to_change(db, student, "moved@example.com")
    profile.confirm_email_change(db, confirm_token(outbox, "moved@example.com"))
    db.commit()
    assert db.exec(select(PasswordReset)).all() == []


# --- which emails arrive ----------------------------------------------------------------------------

def emails_of(db, user: User) -> list[str]:
    kinds = list(db.exec(select(EmailLog.kind).where(EmailLog.user_id == user.id)
                         .order_by(EmailLog.id)))
    db.commit()
    return kinds


def test_each_switch_stops_its_own_emails_and_never_the_bell(db, student):
    assert [s.email for s in email_preferences.switches(db, student)] == [True] * 5
    assert email_preferences.set_email(db, student, "course_updates", False) is False
    assert email_preferences.set_email(db, student, "course_updates", False) is False  # twice: once
    db.commit()
    notifications.notify(db, student.id, "course.update", "Course news")
    notifications.notify(db, student.id, "payment.approved", "Payment approved")
    db.commit()
    assert emails_of(db, student) == ["payment.approved"]
    assert db.exec(select(Notification.kind).where(Notification.user_id == student.id)
                   .order_by(Notification.id)).all() == ["course.update", "payment.approved"]
    switches = {s.topic: s.email for s in email_preferences.switches(db, student)}
    assert switches == {"course_updates": False, "discussions": True, "releases": True,
                        "reminders": True, "payments": True}


def test_emails_about_the_account_itself_always_go(db, student, outbox):
    for topic in emails.Topic:
        email_preferences.set_email(db, student, topic.value, False)
    db.commit()
    accounts.request_password_reset(db, student.email, "10.0.0.1")
    db.commit()
    notifications.notify(db, student.id, "certificate.issued", "Your certificate")
    notifications.notify(db, student.id, "payment.rejected", "Payment not accepted")
    db.commit()
    assert emails_of(db, student) == ["password.reset", "certificate.issued"]
    assert all(m["List-Unsubscribe"] is None for m in messages(outbox))


def test_every_topic_email_carries_a_link_that_sets_the_account_pages_switch(db, student, outbox):
    notifications.notify(db, student.id, "payment.approved", "Payment approved", "", "/courses/x")
    db.commit()
    [message] = messages(outbox)
    token = emails.unsubscribe_token(student.id, emails.Topic.PAYMENTS)
    assert message["List-Unsubscribe"].endswith(f"/email/unsubscribe/{token}>")
    assert f"/unsubscribe/{token}" in message.get_body(("plain",)).get_content()
    email_preferences.set_by_link(db, token, enabled=False)
    db.commit()
    assert {s.topic: s.email for s in email_preferences.switches(db, student)}["payments"] is False
    email_preferences.set_email(db, student, "payments", True)  # and back on from the page
    db.commit()
    assert email_preferences.read_link(db, token).email is True


def test_a_switch_is_only_the_callers_and_only_one_of_the_topics(db, student):
    with pytest.raises(NotAuthenticated):
        email_preferences.set_email(db, None, "payments", False)
    for crafted in ("email_payments", "PAYMENTS", "", None, ["payments"], {"x": 1}):
        with pytest.raises(Invalid):
            email_preferences.set_email(db, student, crafted, False)
    assert email_preferences.set_email(db, student, "reminders", "false") is False  # not True
    assert email_preferences.set_email(db, student, "reminders", 1) is False


# --- the all-notifications page -------------------------------------------------------------------

def test_pages_go_back_newest_first_without_gaps_or_repeats(db, student, monkeypatch):
    monkeypatch.setattr(notifications, "PAGE_SIZE", 4)
    other = make_user(db)
    for n in range(10):
        notifications.notify(db, student.id, "test", f"Note {n}")
        notifications.notify(db, other.id, "test", f"Not yours {n}")
    db.commit()
    seen, before, more = [], 0, True
    while more:
        page, more = notifications.older(db, student, before)
        seen += [n.title for n in page]
        before = page[-1].id
    assert seen == [f"Note {n}" for n in reversed(range(10))]
    # A notification arriving meanwhile shifts nothing on the pages already shown.
    first, _ = notifications.older(db, student)
    notifications.notify(db, student.id, "test", "Newer")
    db.commit()
    assert [n.title for n in notifications.older(db, student, first[-1].id)[0]] == [
        "Note 5", "Note 4", "Note 3", "Note 2"]
    for crafted in (-1, 2**40, "7", None, [1]):
        assert notifications.older(db, student, crafted)[0][0].title == "Newer"
    assert len(notifications.older(db, student, limit=10**9)[0]) == 4
    with pytest.raises(NotAuthenticated):
        notifications.older(db, None)


def test_one_notification_is_marked_read_once_and_only_by_its_owner(db, student):
    other = make_user(db)
    mine = notifications.notify(db, student.id, "test", "Mine")
    theirs = notifications.notify(db, other.id, "test", "Theirs")
    db.commit()
    assert notifications.mark_read(db, student, theirs.id) is False
    assert notifications.mark_read(db, student, mine.id) is True
    assert notifications.mark_read(db, student, mine.id) is False  # a double click
    for crafted in (0, -1, 2**40, "1", None):
        assert notifications.mark_read(db, student, crafted) is False
    db.commit()
    assert notifications.unread_count(db, other) == 1
    assert notifications.unread_count(db, student) == 0
    with pytest.raises(NotAuthenticated):
        notifications.mark_read(db, None, mine.id)
