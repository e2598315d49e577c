"""Domain errors. States and the API turn them into a message or a status code."""

from __future__ import annotations

import math
from datetime import datetime


class ServiceError(Exception):
    """Base class: ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    def __init__(self, what: str, key: object = None) -> None:
        super().__init__(f"{what.capitalize()} not found")
        self.what = what
        self.key = key


class NotAuthenticated(ServiceError):
    def __init__(self) -> None:
        super().__init__("Please log in to continue")


class PermissionDenied(ServiceError):
    pass


class Locked(PermissionDenied):
    """A lesson its learner may not open yet (services/access.py): the message says why, in their
    words ("Opens Tue 9 Dec, 09:00", "Pass “Quiz 1” (70 %) to open"); `opens_at` (UTC) is when,
    if time is all that stands in the way."""

    def __init__(self, message: str, opens_at: datetime | None = None) -> None:
        super().__init__(message)
        self.opens_at = opens_at


class Conflict(ServiceError):
    pass


class Closed(Conflict):
    """A quiz past its closing time for this learner (services/deadlines.py): no attempt starts
    and answers stop. The message says when, in the course's zone ("“Quiz 1” closed on Tue 9 Dec,
    17:00"); `closed_at` (UTC) lets a page say it in the browser's zone."""

    def __init__(self, message: str, closed_at: datetime) -> None:
        super().__init__(message)
        self.closed_at = closed_at


class Invalid(ServiceError):
    """Bad input: one message per form field, so each can be shown next to its field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class TooManyAttempts(ServiceError):
    """A rate limit said no: try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @classmethod
    def in_minutes(cls, refusal: str, retry_after: float) -> TooManyAttempts:
        """`refusal`, then how long to wait, in whole minutes (at least one)."""
        minutes = max(1, math.ceil(retry_after / 60))
        return cls(f"{refusal}: try again in {minutes} minute{'s' if minutes > 1 else ''}",
                   retry_after)


class AuthenticationFailed(ServiceError):
    """One generic message whether the email is unknown or the password wrong."""

    def __init__(self) -> None:
        super().__init__("Email or password is incorrect")
