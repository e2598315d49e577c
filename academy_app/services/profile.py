"""What a person shows of themselves and how Academy reaches them: their name, their picture, and
their email address, changed only through a link sent to the new address.

An avatar is drawn from the upload at two squares (256 px for the account page, 64 px for the
header and discussions) as WebP files named by a key taken from the user and the bytes: a file at
an address never changes, so browsers keep it for good (api/files.py). The files are written before
the user row names them; once the row's change commits, the previous picture's files are deleted
(nobody else's row can name them: the key includes the user).

An address change follows the password reset's pattern: a random value kept in the email log, a
SHA-256 of the token derived from it in `email_changes`, the token itself nowhere. The old address
is told at once, so its owner can act while nothing has changed yet.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from academy_app.db import after_commit
from academy_app.infra import images, signing, storage
from academy_app.infra.session_cookie import token_hash
from academy_app.models import EmailChange, PasswordReset, User, utcnow
from academy_app.services import accounts, emails
from academy_app.services.accounts import require_user
from academy_app.services.email_preferences import masked
from academy_app.services.errors import Conflict, Invalid
from academy_app.services.notifications import notify
from academy_app.settings import get_settings

MAX_AVATAR_BYTES = 5 * 1024 * 1024
AVATAR_SIZES = (256, 64)
# Part of every key: a change to how avatars are drawn must give new addresses, never new bytes at
# an old one that browsers keep for good.
DRAWING = "avatar-v1"
_AVATAR_FILE = re.compile(r"[0-9a-f]{32}-(256|64)\.webp")

EMAIL_CHANGE_LIFETIME = timedelta(hours=24)
EMAIL_CHANGE_PATH = "/account/email/"
EMAIL_CHANGE_PURPOSE = "email-change"  # what the link's token is derived for (signing.derive)
# A second request for the same address this soon is the same request (a double click, a second
# tab): the link already sent stays the one that works, and nothing is sent again.
SAME_REQUEST_WITHIN = timedelta(minutes=2)
TAKEN = "An account with this email already exists"


def rename(session: Session, actor: User | None, full_name: object) -> User:
    """Change the caller's display name. Certificates already issued keep the name they bear."""
    user = require_user(actor)
    name = accounts.tidy_name(full_name)
    if problem := accounts.name_problem(name):
        raise Invalid({"full_name": problem})
    if user.full_name != name:
        user.full_name, user.updated_at = name, utcnow()
        session.add(user)
    return user


# --- the avatar -----------------------------------------------------------------------------------

def avatar_url(key: str, size: int = 64) -> str:
    """The address of an avatar at one size ("" for none)."""
    return f"/avatars/{key}-{size}.webp" if key else ""


def initials(name: str) -> str:
    """What stands in for a person without a picture: the first letters of their first two names."""
    return "".join(part[0] for part in name.split()[:2]).upper()


def avatar_file(name: str) -> Path | None:
    """A stored avatar file by its name; None for anything that is not one."""
    if not _AVATAR_FILE.fullmatch(name or ""):
        return None
    path = _avatar_folder() / name
    return path if path.is_file() else None


def set_avatar(session: Session, actor: User | None, data: object) -> User:
    """Make the uploaded picture the caller's avatar. Raises Invalid(avatar=…) for a file that is not
    a usable JPEG, PNG or WebP of at most 5 MB, before anything is written."""
    user = require_user(actor)
    if not isinstance(data, bytes) or not data:
        raise Invalid({"avatar": "Choose a picture to upload"})
    if len(data) > MAX_AVATAR_BYTES:
        raise Invalid({"avatar": f"The picture is larger than "
                                 f"{MAX_AVATAR_BYTES // (1024 * 1024)} MB"})
    try:
        picture = images.read_picture(data, needed=max(AVATAR_SIZES))
        drawn = {size: images.cropped(picture, size, size) for size in AVATAR_SIZES}
    except images.ImageRefused as exc:
        raise Invalid({"avatar": str(exc)}) from exc
    key = hashlib.sha256(f"{DRAWING}:{user.id}:".encode() + data).hexdigest()[:32]
    for size, encoded in drawn.items():
        storage.write_atomically(_avatar_folder() / f"{key}-{size}.webp", encoded)
    _show_avatar(session, user, key)
    return user


def remove_avatar(session: Session, actor: User | None) -> User:
    """Back to initials; the picture's files go once that commits."""
    user = require_user(actor)
    _show_avatar(session, user, "")
    return user


def _show_avatar(session: Session, user: User, key: str) -> None:
    old = user.avatar
    if old == key:
        return
    user.avatar, user.updated_at = key, utcnow()
    session.add(user)
    if old:
        after_commit(session, lambda: _delete_avatar_files(old))


def _delete_avatar_files(key: str) -> None:
    for size in AVATAR_SIZES:
        (_avatar_folder() / f"{key}-{size}.webp").unlink(missing_ok=True)


def _avatar_folder() -> Path:
    return get_settings().media_root / "avatars"


# --- changing the email address --------------------------------------------------------------------

@dataclass(frozen=True)
class EmailChangeForm:
    new_email: object
    password: object


def request_email_change(session: Session, actor: User | None, form: EmailChangeForm,
                         client_ip: str = "") -> str:
    """Send a confirmation link to the new address and a notice to the current one; returns the
    new address as it will be stored. Nothing changes until the link is used
    (`confirm_email_change`); a new request replaces the caller's earlier ones.

    Every request that reaches the password counts against `email_changes_per_hour` for the user
    and for the address it comes from, so neither the password nor "this address is taken" (which
    sign-up tells anyone, with its own limit) can be tried in bulk.
    """
    user = require_user(actor)
    new_email = accounts.normalize_email(form.new_email if isinstance(form.new_email, str) else "")
    if new_email == user.email:
        raise Invalid({"email": "This is already your email address"})
    if not isinstance(form.password, str) or not form.password:
        raise Invalid({"password": "Enter your current password"})
    limit, refusal = get_settings().email_changes_per_hour, "Too many email change requests"
    accounts.hourly_limit(f"email-change:user:{user.id}", limit, refusal)
    accounts.hourly_limit(f"email-change:ip:{client_ip}", limit, refusal)
    if not accounts.password_matches(user, form.password):
        raise Invalid({"password": "This is not your current password"})
    # The row lock (SQLite: the write lock) makes two requests of one user take turns, so the
    # later one finds the earlier one's row.
    session.exec(select(User.id).where(User.id == user.id).with_for_update()).one()
    if accounts.user_by_email(session, new_email) is not None:
        raise Invalid({"email": TAKEN})
    now = utcnow()
    pending = session.exec(select(EmailChange).where(
        EmailChange.user_id == user.id, col(EmailChange.used_at).is_(None),
        EmailChange.new_email == new_email,
        EmailChange.created_at > now - SAME_REQUEST_WITHIN)).first()
    if pending is not None:
        return new_email
    session.exec(delete(EmailChange).where(col(EmailChange.user_id) == user.id))
    value = secrets.token_urlsafe(32)
    session.add(EmailChange(token_hash=token_hash(signing.derive(EMAIL_CHANGE_PURPOSE, value)),
                            user_id=user.id, new_email=new_email,
                            expires_at=now + EMAIL_CHANGE_LIFETIME))
    hours = int(EMAIL_CHANGE_LIFETIME.total_seconds() // 3600)
    request = secrets.token_hex(8)
    emails.queue_once(session, [
        {"kind": "email.change.confirm", "user_id": user.id, "to_address": new_email,
         "dedupe_key": f"email.change.confirm:request:{request}",
         "subject": "Confirm your new Academy email address",
         "context": json.dumps({
             "name": user.full_name, "title": "Confirm your new email address",
             "body": f"You asked to use this address for your Academy account. The link below "
                     f"works once, for {hours} hours; until it is used, Academy keeps writing to "
                     "your current address.\n\nIf it was not you, ignore this email.",
             "link": EMAIL_CHANGE_PATH,
             "link_secret": {"purpose": EMAIL_CHANGE_PURPOSE, "value": value},
             "action": "Use this address"})},
        {"kind": "email.change.notice", "user_id": user.id, "to_address": user.email,
         "dedupe_key": f"email.change.notice:request:{request}",
         "subject": "Your Academy email address may change",
         "context": json.dumps({
             "name": user.full_name, "title": "A change of email address was asked for",
             "body": f"Someone logged in to your Academy account asked to change its email "
                     f"address to {masked(new_email)}. Nothing changes unless the link sent there "
                     "is used.\n\nIf it was not you, choose a new password and log out "
                     "everywhere from your account page.",
             "link": "/account", "action": "Open your account"})},
    ])
    return new_email


def check_email_change(session: Session, token: str) -> str:
    """The new address a confirmation link would set, masked, while it is usable; else
    ``NotFound``. Opening the link changes nothing (mail scanners open links too)."""
    change, _user = accounts.open_link(session, EmailChange, token)
    return masked(change.new_email)


def confirm_email_change(session: Session, token: str) -> User:
    """Use a confirmation link: the account's address becomes the new one. The link is the key, not
    a login (it may be opened on another device). Used up by one conditional UPDATE, so of two
    clicks exactly one changes anything; the other gets ``NotFound``, as an expired link does.
    ``Conflict`` if the address was taken meanwhile."""
    change, user = accounts.open_link(session, EmailChange, token)
    accounts.use_link(session, EmailChange, change)
    now = utcnow()
    holder = accounts.user_by_email(session, change.new_email)
    if holder is not None and holder.id != user.id:
        raise Conflict(TAKEN)
    old = user.email
    user.email, user.updated_at = change.new_email, now
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:  # another account took the address between our check and our write
        raise Conflict(TAKEN) from None
    # Reset links already mailed went to the old address: they no longer open this account.
    session.exec(delete(PasswordReset).where(col(PasswordReset.user_id) == user.id))
    session.exec(delete(EmailChange).where(col(EmailChange.user_id) == user.id,
                                           col(EmailChange.id) != change.id))
    notify(session, user.id, "account.email_changed", "Your email address is changed",
           f"Academy now writes to {user.email} (before: {masked(old)}).", "/account")
    return user


def purge_expired_email_changes(session: Session) -> int:
    """Delete used and expired confirmation links (a scheduled job); returns how many."""
    return session.exec(delete(EmailChange).where(
        (col(EmailChange.expires_at) <= utcnow()) | col(EmailChange.used_at).is_not(None)
    )).rowcount
