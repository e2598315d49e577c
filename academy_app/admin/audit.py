"""/admin/audit — the record of every staff action (admins only): find who changed what, and see
each change as fields before → after rather than as the stored JSON.

A kit page: search (person, action, kind of record), filters (what was acted on, when), keyset
paging through however many entries there are. Nobody edits or deletes the record.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlmodel import col

from academy_app.admin import kit
from academy_app.models import AuditEntry, as_utc, utcnow
from academy_app.services import audit

# What an action acts on: the part of its name before the dot ("course.publish" → "course").
ACTION_FAMILIES = (
    ("course", "Courses"), ("module", "Modules"), ("lesson", "Lessons"), ("quiz", "Quizzes"),
    ("question", "Questions"), ("payment", "Payments"), ("coupon", "Coupons"),
    ("enrollment", "Enrollments"), ("certificate", "Certificates"), ("user", "Accounts"),
    ("discussion", "Discussions"), ("review", "Reviews"), ("cohort", "Cohorts"),
    ("release_rule", "Release rules"), ("access_override", "Early access"),
    ("course_prerequisite", "Prerequisites"), ("email", "Emails"),
)
PERIODS = (("day", "Last 24 hours"), ("week", "Last 7 days"), ("month", "Last 30 days"))
PERIOD_DAYS = {"day": 1, "week": 7, "month": 30}


def _family_is(family: str) -> ColumnElement[bool]:
    return col(AuditEntry.action).startswith(f"{family}.")


def _within(period: str) -> ColumnElement[bool]:
    return col(AuditEntry.created_at) >= utcnow() - timedelta(days=PERIOD_DAYS[period])


audit_page = kit.register(
    AuditEntry, "Audit log", route="/admin/audit", singular="audit entry",
    subtitle="Every staff action: who did what, when, and what changed.",
    listing=kit.Listing(
        sort="-created_at", label="{action} by {actor_id.full_name}", per_page=50,
        columns=(
            kit.Column("created_at", "When (UTC)", nowrap=True,
                       format=lambda e: as_utc(e.created_at).strftime("%d %b %Y, %H:%M")),
            kit.Column("actor_id.full_name", "Who", empty="(deleted user)", note="actor_id.email"),
            kit.Column("action", "Action"),
            kit.Column("record", "Record", format=lambda e: " #".join(
                part for part in (e.entity_type, str(e.entity_id or "")) if part)),
            kit.Column("changes", "What changed",
                       format=lambda e: audit.describe_change(e.before, e.after)),
        ),
        search=("actor_id.full_name", "actor_id.email", "action", "entity_type"),
        filters=(kit.Filter("action", "Acted on", choices=ACTION_FAMILIES, where=_family_is),
                 kit.Filter("created_at", "When", choices=PERIODS, where=_within)),
        empty=("scroll-text", "Nothing recorded", "Staff actions appear here as they happen.")),
    permissions=kit.Permissions(kit.ADMINS, create=(), edit=(), delete=()),
)
