"""A person's email switches, one per topic (emails.TOPICS): read and set on the account page,
or by the signed unsubscribe link that every email of a topic carries, without logging in. The bell
shows every notification whatever they say; `emails.queue_once` is where they are obeyed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session

from academy_app.infra import signing
from academy_app.models import User, utcnow
from academy_app.services.accounts import require_user
from academy_app.services.emails import TOPICS, UNSUBSCRIBE, Topic
from academy_app.services.errors import Invalid, NotFound
from academy_app.text import id_in

# Links in emails sent before topics existed: the user id alone, for the one switch there was,
# which reminders, release emails and discussion digests all obeyed. Such a link still turns
# those three off.
LEGACY_UNSUBSCRIBE = "unsubscribe-reminders"
LEGACY_TOPICS = (Topic.REMINDERS, Topic.RELEASES, Topic.DISCUSSIONS)


@dataclass(frozen=True)
class Switch:
    topic: str
    label: str
    description: str
    email: bool


def switches(session: Session, actor: User | None) -> list[Switch]:
    """The caller's own switches, in the order the account page shows them."""
    user = require_user(actor)
    return [Switch(topic.value, info.label, info.description, bool(getattr(user, info.column)))
            for topic, info in TOPICS.items()]


def set_email(session: Session, actor: User | None, topic: object, enabled: object) -> bool:
    """Turn the caller's email for one topic on or off; what it is now. Setting it twice is one
    change."""
    user = require_user(actor)
    return _set(session, user, [_topic(topic)], enabled is True)


@dataclass(frozen=True)
class LinkView:
    masked_email: str
    labels: list[str]
    email: bool  # whether these emails are on


def read_link(session: Session, token: str) -> LinkView:
    """What an unsubscribe link is about; ``NotFound`` for anything not made by this app. No login:
    the signature is the proof."""
    user, topics = _link(session, token)
    return LinkView(masked(user.email), [TOPICS[t].label for t in topics],
                    all(getattr(user, TOPICS[t].column) for t in topics))


def set_by_link(session: Session, token: str, enabled: bool) -> bool:
    """Turn off (or back on) what an unsubscribe link is about, as the account page would."""
    user, topics = _link(session, token)
    return _set(session, user, topics, enabled is True)


def masked(address: str) -> str:
    """Enough of an address to recognise one's own, not enough to learn someone else's from a
    forwarded email: s•••••2@academy.test."""
    local, _, domain = address.partition("@")
    hidden = local[0] + "•" * max(len(local) - 2, 1) + local[-1] if len(local) > 2 else local[0] + "•"
    return f"{hidden}@{domain}"


def _topic(value: object) -> Topic:
    try:
        return Topic(value)
    except ValueError:
        raise Invalid({"topic": "Choose one of the kinds of email listed"}) from None


def _set(session: Session, user: User, topics: Iterable[Topic], enabled: bool) -> bool:
    changed = False
    for topic in topics:
        column = TOPICS[topic].column
        if getattr(user, column) != enabled:
            setattr(user, column, enabled)
            changed = True
    if changed:
        user.updated_at = utcnow()
        session.add(user)
    return enabled


def _link(session: Session, token: str) -> tuple[User, tuple[Topic, ...]]:
    value = signing.unsign(UNSUBSCRIBE, token)
    user_id, _, topic = (value or "").partition(":")
    topics: tuple[Topic, ...] = (Topic(topic),) if topic in set(Topic) else ()
    if not topics and (legacy := signing.unsign(LEGACY_UNSUBSCRIBE, token)):
        user_id, topics = legacy, LEGACY_TOPICS
    user = session.get(User, id_in(user_id)) if topics else None
    if user is None:
        raise NotFound("link")
    return user, topics
