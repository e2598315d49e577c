"""/admin/courses/[course_id]/pacing — when a course's modules and lessons open (release rules, the
course's time zone, prerequisite courses), its cohorts with their progress, overrides that open
something early for chosen learners, and extensions of a quiz's due date for chosen learners.

Every rule, check and audit entry is in services/access.py (extensions: services/deadlines.py); the
reads are in services/reports.py.
This state parses form input into the service's typed specs first (dates, numbers) and shows each
error next to its field. Every handler acts on the course the server holds (`_course_id`, set by
`load` for its staff only); ids in arguments are checked again by the services, so a crafted event
naming another course's rule, cohort, learner or override is refused and logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import available_timezones

import reflex as rx
from sqlmodel import Session

from academy_app.admin.reports import course_header, course_missing
from academy_app.admin.workspace import admin_page, data_table
from academy_app.components.course import progress_bar
from academy_app.components.layout import empty_state, labelled
from academy_app.infra import clock
from academy_app.models import Cohort, PrerequisiteKind, ReleaseKind, ReleaseRule, User
from academy_app.services import access, deadlines, reports
from academy_app.services.access import CohortSpec, RuleSpec
from academy_app.services.errors import Invalid, ServiceError
from academy_app.services.permissions import STAFF
from academy_app.state.auth import Events
from academy_app.state.staff import StaffState
from academy_app.text import as_id, id_in, parse_local, whole_number

# Offered first in the time zone list; the rest follow alphabetically (the input searches them).
COMMON_ZONES = ["UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York",
                "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
                "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney",
                "Africa/Johannesburg"]
ZONES = COMMON_ZONES + sorted(available_timezones() - set(COMMON_ZONES))
# Short enough for a phone's select.
RULE_KINDS = [("none", "No rule"),
              (ReleaseKind.ON_DATE.value, "On a date and time"),
              (ReleaseKind.AFTER_ENROLMENT.value, "Days after enrolling"),
              (ReleaseKind.AFTER_COHORT_START.value, "Days after the cohort starts"),
              (ReleaseKind.AFTER_COMPLETION.value, "After a lesson or quiz"),
              (ReleaseKind.IN_SEQUENCE.value, "In sequence")]
PREREQUISITE_KINDS = [(PrerequisiteKind.COMPLETED.value, "Completed"),
                      (PrerequisiteKind.CERTIFICATE.value, "Certificate held")]
RULE_FIELDS = ("kind", "opens_at", "days", "after_lesson", "min_score")
COHORT_FIELDS = ("name", "starts_at", "capacity", "enrol_from", "enrol_until")
# The service's field names → this page's.
RULE_ERRORS = {"opens_at_local": "opens_at", "days": "days", "after_lesson_id": "after_lesson",
               "min_score_percent": "min_score"}
COHORT_ERRORS = {"starts_at_local": "starts_at", "enrol_from_local": "enrol_from",
                 "enrol_until_local": "enrol_until"}
EXTENSION_ERRORS = {"quiz_id": "quiz", "closes_at_local": "closes_at", "user_ids": "learners"}
NO_COHORT = "none"
MAX_TEXT = 500


@dataclass
class RuledLesson:
    id: int = 0
    title: str = ""
    rule: str = ""  # the rule in words; "" for none


@dataclass
class RuledModule:
    id: int = 0
    title: str = ""
    rule: str = ""
    lessons: list[RuledLesson] = field(default_factory=list)


@dataclass
class PrerequisiteLine:
    id: int = 0
    course: str = ""
    kind: str = ""


@dataclass
class CohortLine:
    id: int = 0
    name: str = ""
    starts: str = ""
    window: str = ""
    seats: str = ""
    learners: int = 0
    average: int = 0
    completed: int = 0


@dataclass
class LearnerLine:
    user_id: int = 0
    name: str = ""
    email: str = ""
    cohort: str = NO_COHORT  # the cohort's id as text, for the select
    percent: int = 0


@dataclass
class OverrideRow:
    id: int = 0
    learner: str = ""
    email: str = ""
    target: str = ""
    reason: str = ""
    granted: str = ""
    revoked: str = ""
    live: bool = True


@dataclass
class ExtensionRow:
    id: int = 0
    learner: str = ""
    email: str = ""
    quiz: str = ""
    closes: str = ""  # the learner's new due date, the course's wall clock
    reason: str = ""
    granted: str = ""
    revoked: str = ""
    live: bool = True


@dataclass
class Snapshot:
    """Everything the page shows, read in one transaction."""

    pacing: reports.Pacing
    cohorts: list[reports.CohortProgress]
    roster: list[reports.RosterLine]
    matching: int
    overrides: list[reports.OverrideLine]
    extensions: list[reports.ExtensionLine]


def _when(local: datetime | None) -> str:
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}" if local else ""


def _field_value(local: datetime | None) -> str:
    """A wall-clock time as a datetime-local input holds it."""
    return f"{local:%Y-%m-%dT%H:%M}" if local else ""


def parse_number(text: str, low: int, high: int, what: str, *, required: bool) -> int | None:
    """A whole number from `low` to `high` typed in a field; None when empty and allowed."""
    text = text.strip()
    if not text and not required:
        return None
    if not (text.isascii() and text.isdigit()) or not low <= whole_number(text) <= high:
        raise ValueError(f"Enter {what} from {low} to {high}")
    return whole_number(text)


def rule_spec(form: dict[str, str]) -> RuleSpec | None:
    """The rule the dialog describes (None: no rule), or Invalid with a message per field."""
    kind = form.get("kind", "none")
    if kind == "none":
        return None
    errors: dict[str, str] = {}
    spec = RuleSpec(ReleaseKind(kind))
    try:
        if kind == ReleaseKind.ON_DATE:
            spec = RuleSpec(spec.kind, opens_at_local=parse_local(form.get("opens_at", ""),
                                                                  required=True))
        elif kind in (ReleaseKind.AFTER_ENROLMENT, ReleaseKind.AFTER_COHORT_START):
            spec = RuleSpec(spec.kind, days=parse_number(form.get("days", ""), 0, 3650,
                                                         "a number of days", required=True))
    except ValueError as exc:
        errors["opens_at" if kind == ReleaseKind.ON_DATE else "days"] = str(exc)
    if kind == ReleaseKind.AFTER_COMPLETION:
        after = id_in(form.get("after_lesson", ""))
        if not after:
            errors["after_lesson"] = "Choose the lesson to complete first"
        try:
            score = parse_number(form.get("min_score", ""), 0, 100, "a score", required=False)
        except ValueError as exc:
            errors["min_score"], score = str(exc), None
        spec = RuleSpec(spec.kind, after_lesson_id=after, min_score_percent=score)
    if errors:
        raise Invalid(errors)
    return spec


def cohort_spec(form: dict[str, str]) -> CohortSpec:
    errors: dict[str, str] = {}
    moments: dict[str, datetime | None] = {}
    for name, required in (("starts_at", True), ("enrol_from", False), ("enrol_until", False)):
        try:
            moments[name] = parse_local(form.get(name, ""), required=required)
        except ValueError as exc:
            errors[name] = str(exc)
    try:
        capacity = parse_number(form.get("capacity", ""), 1, 10_000, "a number of seats",
                                required=True) or 0
    except ValueError as exc:
        errors["capacity"], capacity = str(exc), 0
    name = form.get("name", "").strip()
    if not name:
        errors["name"] = "Give the cohort a name"
    starts = moments.get("starts_at")
    if errors or starts is None:
        raise Invalid(errors)
    return CohortSpec(name, starts, capacity, moments["enrol_from"], moments["enrol_until"])


def _renamed(errors: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    return {names.get(key, key): message for key, message in errors.items()}


def _text(value: object, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


class PacingState(StaffState):
    loading: bool = True
    not_found: bool = False
    course_title: str = ""
    course_href: str = ""
    course_id: int = 0  # for links only; handlers act on the server-held _course_id
    zone: str = "UTC"
    zone_input: str = ""
    zone_error: str = ""
    modules: list[RuledModule] = []
    lesson_choices: list[list[str]] = []  # [id, title] in course order
    prerequisites: list[PrerequisiteLine] = []
    course_choices: list[list[str]] = []
    prerequisite_form: dict[str, str] = {"course": "", "kind": PrerequisiteKind.COMPLETED.value}
    prerequisite_error: str = ""
    # The rule dialog: open while `rule_target` is "module" or "lesson".
    rule_target: str = ""
    rule_target_title: str = ""
    rule_has_one: bool = False
    rule_form: dict[str, str] = {}
    rule_errors: dict[str, str] = {}
    cohorts: list[CohortLine] = []
    # The cohort dialog: 0 closed, -1 a new cohort, else the cohort being edited.
    cohort_editing: int = 0
    cohort_form: dict[str, str] = {}
    cohort_errors: dict[str, str] = {}
    deleting_cohort: str = ""  # the name in the open delete confirmation
    learners: list[LearnerLine] = []
    learners_note: str = ""
    roster_query: str = ""
    selected: list[int] = []
    override_form: dict[str, str] = {"target": "course", "reason": ""}
    override_error: str = ""
    target_choices: list[list[str]] = []
    overrides: list[OverrideRow] = []
    show_revoked: bool = False
    chosen_overrides: list[int] = []
    revoke_question: str = ""  # the open revoke confirmation's question
    revoke_detail: str = ""  # and what revoking does
    # Quizzes that close, as [quiz id, "Title (closes …)"]: what an extension may move.
    quiz_choices: list[list[str]] = []
    extension_form: dict[str, str] = {"quiz": "", "closes_at": "", "reason": ""}
    extension_errors: dict[str, str] = {}
    extensions: list[ExtensionRow] = []
    _course_id: int = 0
    _rule_target_id: int = 0
    _rule_id: int = 0
    _deleting_cohort_id: int = 0
    _revoking: list[int] = []
    _revoking_extensions: list[int] = []
    # Set by a successful grant or prerequisite: the second click of a double click finds its
    # form emptied and must neither act again nor answer with "choose …" errors.
    _just_granted: bool = False
    _just_extended: bool = False
    _prerequisite_added: bool = False

    # --- reading -------------------------------------------------------------------------------

    def _reader(self, course_id: int) -> Callable[[Session, User], Snapshot | None]:
        query, revoked = self.roster_query, self.show_revoked

        def read(session: Session, staff: User) -> Snapshot | None:
            try:
                pacing = reports.pacing(session, staff, course_id)
            except ServiceError:
                return None
            roster, matching = reports.course_roster(session, staff, course_id, query)
            return Snapshot(pacing, reports.cohort_progress(session, staff, course_id), roster,
                            matching, reports.override_lines(session, staff, course_id,
                                                             include_revoked=revoked),
                            reports.extension_lines(session, staff, course_id,
                                                    include_revoked=revoked))
        return read

    @rx.event
    async def load(self) -> Events:
        parts = self.router.url.path.strip("/").split("/")
        course_id = id_in(parts[2]) if len(parts) >= 4 else 0
        snapshot, away = await self._read_as(self._reader(course_id), roles=STAFF)
        if away:
            return away
        if snapshot is None:
            self.reset()
            self.not_found, self.loading = True, False
            return None
        self.zone_error, self.prerequisite_error, self.override_error = "", "", ""
        self.rule_target, self.cohort_editing, self.deleting_cohort = "", 0, ""
        self.revoke_question, self.selected, self.chosen_overrides = "", [], []
        self.extension_errors = {}
        self._show(snapshot)
        self.zone_input = self.zone
        return None

    @rx.event
    async def refresh(self) -> Events:
        """The page as it now is, after an action (the tab keeps its dialogs and choices)."""
        snapshot, refused = await self._act_as("pacing.refresh", self._reader(self._course_id))
        if refused:
            return refused
        if snapshot is not None:
            self._show(snapshot)
        return None

    def _show(self, snapshot: Snapshot) -> None:
        pacing = snapshot.pacing
        course, zone = pacing.course, pacing.course.time_zone
        self._course_id, self.course_id, self.not_found, self.loading = course.id, course.id, \
            False, False
        self.course_title, self.course_href, self.zone = course.title, \
            f"/admin/courses/{course.id}", zone
        titles = {lesson.id: lesson.title for m in pacing.modules for lesson in m.lessons}
        self.modules = [RuledModule(
            id=m.id, title=m.title,
            rule=reports.rule_wording(m.rule, titles, zone, on_module=True) if m.rule else "",
            lessons=[RuledLesson(id=lesson.id, title=lesson.title, rule=reports.rule_wording(
                lesson.rule, titles, zone) if lesson.rule else "") for lesson in m.lessons])
            for m in pacing.modules]
        self.lesson_choices = [[str(lesson.id), lesson.title + (" (quiz)" if lesson.is_quiz else "")]
                               for m in pacing.modules for lesson in m.lessons]
        self.target_choices = [["course", "The whole course"]] + [
            choice for m in pacing.modules for choice in (
                [[f"module:{m.id}", f"Module: {m.title}"]] +
                [[f"lesson:{lesson.id}", f"Lesson: {lesson.title}"] for lesson in m.lessons])]
        kinds = dict(PREREQUISITE_KINDS)
        self.prerequisites = [PrerequisiteLine(id=p.id, course=title, kind=kinds[p.kind.value])
                              for p, title in pacing.prerequisites]
        self.course_choices = [[str(cid), title] for cid, title in pacing.other_courses]
        self.cohorts = [CohortLine(
            id=c.cohort.id, name=c.cohort.name, starts=_when(c.cohort.starts_at_local),
            window=_window(c.cohort.enrol_from_local, c.cohort.enrol_until_local),
            seats=f"{c.cohort.seats_taken} of {c.cohort.capacity}", learners=c.learners,
            average=c.average_percent, completed=c.completed) for c in snapshot.cohorts]
        self.learners = [LearnerLine(user_id=r.user_id, name=r.name, email=r.email,
                                     cohort=str(r.cohort_id) if r.cohort_id else NO_COHORT,
                                     percent=r.percent) for r in snapshot.roster]
        shown = len(snapshot.roster)
        self.learners_note = (f"Showing {shown} of {snapshot.matching} learners: search to find "
                              "the others." if snapshot.matching > shown else "")
        on_page = {r.user_id for r in snapshot.roster}
        self.selected = [i for i in self.selected if i in on_page]
        zone_info = access.zone_of(course)
        self.overrides = [OverrideRow(
            id=o.id, learner=o.learner, email=o.email, target=o.target, reason=o.reason,
            granted=f"{_when(access.utc_to_local(o.granted_at, zone_info))} by {o.granted_by}",
            revoked="" if o.revoked_at is None else
            f"{_when(access.utc_to_local(o.revoked_at, zone_info))} by {o.revoked_by}",
            live=o.revoked_at is None) for o in snapshot.overrides]
        live = {o.id for o in snapshot.overrides if o.revoked_at is None}
        self.chosen_overrides = [i for i in self.chosen_overrides if i in live]
        self.quiz_choices = [[str(lesson.quiz_id), f"{lesson.title} (closes "
                              f"{_when(lesson.closes_at_local)})"]
                             for m in pacing.modules for lesson in m.lessons
                             if lesson.quiz_id is not None and lesson.closes_at_local is not None]
        self.extensions = [ExtensionRow(
            id=e.id, learner=e.learner, email=e.email, quiz=e.quiz, closes=_when(e.closes_at_local),
            reason=e.reason,
            granted=f"{_when(access.utc_to_local(e.granted_at, zone_info))} by {e.granted_by}",
            revoked="" if e.revoked_at is None else
            f"{_when(access.utc_to_local(e.revoked_at, zone_info))} by {e.revoked_by}",
            live=e.revoked_at is None) for e in snapshot.extensions]

    # --- the time zone -------------------------------------------------------------------------

    @rx.event
    def set_zone_input(self, value: str) -> None:
        self.zone_input, self.zone_error = _text(value, 64), ""

    @rx.event
    async def save_zone(self) -> Events:
        course_id, zone = self._course_id, self.zone_input.strip()
        if not zone:
            self.zone_error = "Choose a time zone, e.g. Europe/Paris"
            return None
        if zone == self.zone:
            return None  # nothing to change (a double click's second event, too)
        try:
            _, refused = await self._act_as("pacing.time_zone", lambda session, actor:
                                            access.set_time_zone(session, actor, course_id, zone))
        except Invalid as exc:
            self.zone_error = exc.errors.get("time_zone", exc.message)
            return None
        if refused:
            return [*refused, PacingState.refresh]
        self.zone = zone
        return [rx.toast.success(f"Dates of this course are now in {zone}"), PacingState.refresh]

    # --- release rules -------------------------------------------------------------------------

    @rx.event
    async def open_rule(self, target: str, target_id: int) -> Events:
        """Open the rule dialog of one of this course's modules or lessons, filled in with the
        rule it has."""
        if target not in ("module", "lesson"):
            return None
        course_id, wanted = self._course_id, as_id(target_id)

        def read(session: Session, staff: User) -> tuple[str, ReleaseRule | None]:
            pacing = reports.pacing(session, staff, course_id)
            for module in pacing.modules:
                if target == "module" and module.id == wanted:
                    return module.title, module.rule
                for lesson in module.lessons:
                    if target == "lesson" and lesson.id == wanted:
                        return lesson.title, lesson.rule
            raise Invalid({"target": f"This {target} is not part of the course"})

        try:
            found, refused = await self._act_as("pacing.open_rule", read)
        except Invalid as exc:
            return rx.toast.error(exc.message)
        if refused or found is None:
            return refused
        title, rule = found
        self.rule_target, self._rule_target_id, self.rule_target_title = target, wanted, title
        self._rule_id, self.rule_has_one, self.rule_errors = rule.id if rule else 0, bool(rule), {}
        self.rule_form = {"kind": "none", "opens_at": "", "days": "7", "after_lesson": "",
                          "min_score": ""} if rule is None else {
            "kind": rule.kind.value, "opens_at": _field_value(rule.opens_at_local),
            "days": str(7 if rule.days is None else rule.days),
            "after_lesson": str(rule.after_lesson_id or ""),
            "min_score": "" if rule.min_score_percent is None else str(rule.min_score_percent)}
        return None

    @rx.event
    def set_rule_field(self, name: str, value: str) -> None:
        if name not in RULE_FIELDS or not isinstance(value, str):
            return
        if name == "kind" and value not in dict(RULE_KINDS):
            return
        self.rule_form = {**self.rule_form, name: value[:40]}
        self.rule_errors = {k: v for k, v in self.rule_errors.items() if k not in (name, "rule")}

    @rx.event
    def close_rule(self) -> None:
        self.rule_target, self._rule_target_id, self._rule_id = "", 0, 0

    @rx.event
    async def save_rule(self) -> Events:
        if not self.rule_target:
            return None  # a second click after the dialog closed
        target, target_id, rule_id = self.rule_target, self._rule_target_id, self._rule_id
        try:
            spec = rule_spec(self.rule_form)
        except Invalid as exc:
            self.rule_errors = exc.errors
            return None
        if spec is None and not rule_id:
            self.close_rule()
            return None

        def act(session: Session, actor: User) -> object:
            if spec is None:
                return access.clear_rule(session, actor, rule_id)
            return access.set_rule(session, actor, spec, **{f"{target}_id": target_id})

        try:
            _, refused = await self._act_as("pacing.set_rule", act)
        except Invalid as exc:
            self.rule_errors = _renamed(exc.errors, RULE_ERRORS)
            return None
        self.close_rule()
        if refused:
            return [*refused, PacingState.refresh]
        return [rx.toast.success("Rule cleared" if spec is None else "Rule saved"),
                PacingState.refresh]

    @rx.event
    async def clear_rule(self) -> Events:
        rule_id = self._rule_id
        if not self.rule_target or not rule_id:
            return None
        self.close_rule()
        return await self._act("pacing.clear_rule", lambda session, actor: access.clear_rule(
            session, actor, rule_id), "Rule cleared", PacingState.refresh)

    # --- prerequisites -------------------------------------------------------------------------

    @rx.event
    def set_prerequisite_field(self, name: str, value: str) -> None:
        if name in ("course", "kind") and isinstance(value, str):
            self.prerequisite_form = {**self.prerequisite_form, name: value[:20]}
            self.prerequisite_error, self._prerequisite_added = "", False

    @rx.event
    async def add_prerequisite(self) -> Events:
        if self._prerequisite_added:
            return None
        course_id = self._course_id
        required = id_in(self.prerequisite_form.get("course", ""))
        kind = self.prerequisite_form.get("kind", "")
        if not required:
            self.prerequisite_error = "Choose the course learners need first"
            return None
        if kind not in dict(PREREQUISITE_KINDS):
            self.prerequisite_error = "Choose what they need of it"
            return None
        try:
            _, refused = await self._act_as("pacing.add_prerequisite", lambda session, actor:
                                            access.add_prerequisite(session, actor, course_id,
                                                                    required,
                                                                    PrerequisiteKind(kind)))
        except Invalid as exc:
            self.prerequisite_error = exc.errors.get("required_course_id", exc.message)
            return None
        if refused:
            return [*refused, PacingState.refresh]
        self.prerequisite_form, self._prerequisite_added = {"course": "", "kind": kind}, True
        return [rx.toast.success("Prerequisite saved"), PacingState.refresh]

    @rx.event
    async def remove_prerequisite(self, prerequisite_id: int) -> Events:
        wanted = as_id(prerequisite_id)
        return await self._act("pacing.remove_prerequisite", lambda session, actor:
                               access.remove_prerequisite(session, actor, wanted),
                               "Prerequisite removed", PacingState.refresh)

    # --- cohorts -------------------------------------------------------------------------------

    @rx.event
    def open_new_cohort(self) -> None:
        if not self._course_id:
            return
        self.cohort_editing, self.cohort_errors = -1, {}
        self.cohort_form = {"name": "", "starts_at": "", "capacity": "30", "enrol_from": "",
                            "enrol_until": ""}

    @rx.event
    async def open_cohort(self, cohort_id: int) -> Events:
        course_id, wanted = self._course_id, as_id(cohort_id)

        def read(session: Session, staff: User) -> Cohort:
            for line in reports.cohort_progress(session, staff, course_id):
                if line.cohort.id == wanted:
                    return line.cohort
            raise Invalid({"cohort": "This cohort is not part of the course"})

        try:
            cohort, refused = await self._act_as("pacing.open_cohort", read)
        except Invalid as exc:
            return rx.toast.error(exc.message)
        if refused or cohort is None:
            return refused
        self.cohort_editing, self.cohort_errors = wanted, {}
        self.cohort_form = {"name": cohort.name, "starts_at": _field_value(cohort.starts_at_local),
                            "capacity": str(cohort.capacity),
                            "enrol_from": _field_value(cohort.enrol_from_local),
                            "enrol_until": _field_value(cohort.enrol_until_local)}
        return None

    @rx.event
    def set_cohort_field(self, name: str, value: str) -> None:
        if name in COHORT_FIELDS and isinstance(value, str):
            self.cohort_form = {**self.cohort_form, name: value[:80]}
            self.cohort_errors = {k: v for k, v in self.cohort_errors.items() if k != name}

    @rx.event
    def close_cohort(self) -> None:
        self.cohort_editing = 0

    @rx.event
    async def save_cohort(self) -> Events:
        editing, course_id = self.cohort_editing, self._course_id
        if not editing:
            return None  # a second click after the dialog closed
        try:
            spec = cohort_spec(self.cohort_form)
            _, refused = await self._act_as("pacing.save_cohort", lambda session, actor: (
                access.create_cohort(session, actor, course_id, spec) if editing == -1
                else access.edit_cohort(session, actor, editing, spec)))
        except Invalid as exc:
            self.cohort_errors = _renamed(exc.errors, COHORT_ERRORS)
            return None
        self.cohort_editing = 0
        if refused:
            return [*refused, PacingState.refresh]
        return [rx.toast.success("Cohort created" if editing == -1 else "Cohort saved"),
                PacingState.refresh]

    @rx.event
    def ask_delete_cohort(self, cohort_id: int) -> None:
        """Open the confirmation; the name is only shown, the id is checked again on delete."""
        line = next((c for c in self.cohorts if c.id == as_id(cohort_id)), None)
        if line is not None:
            self._deleting_cohort_id, self.deleting_cohort = line.id, line.name

    @rx.event
    def cancel_delete_cohort(self) -> None:
        self._deleting_cohort_id, self.deleting_cohort = 0, ""

    @rx.event
    async def confirm_delete_cohort(self) -> Events:
        cohort_id = self._deleting_cohort_id
        self.cancel_delete_cohort()
        if not cohort_id:
            return None
        return await self._act("pacing.delete_cohort", lambda session, actor: access.delete_cohort(
            session, actor, cohort_id), "Cohort deleted", PacingState.refresh)

    @rx.event
    async def place(self, user_id: int, cohort: str) -> Events:
        """Put a learner into a cohort ("none": out of any), seats permitting."""
        learner, course_id = as_id(user_id), self._course_id
        if not isinstance(cohort, str):
            return None
        cohort_id = id_in(cohort)
        if cohort != NO_COHORT and not cohort_id:
            return None
        now = clock.now()
        return await self._act("pacing.place", lambda session, actor: (
            access.join_cohort(session, actor, cohort_id, now, user_id=learner) if cohort_id
            else access.leave_cohort(session, actor, course_id, user_id=learner)),
            "Cohort changed", PacingState.refresh)

    # --- learners and overrides ----------------------------------------------------------------

    @rx.event
    async def search_learners(self, text: str) -> Events:
        self.roster_query = " ".join(_text(text, 100).split())
        return PacingState.refresh

    @rx.event
    def toggle_learner(self, user_id: int, on: bool) -> None:
        wanted = as_id(user_id)
        if wanted and wanted in {line.user_id for line in self.learners}:
            others = [i for i in self.selected if i != wanted]
            self.selected = [*others, wanted] if on is True else others
            self.override_error, self._just_granted, self._just_extended = "", False, False

    @rx.event
    def select_all_learners(self, on: bool) -> None:
        self.selected = [line.user_id for line in self.learners] if on is True else []
        self.override_error, self._just_granted, self._just_extended = "", False, False

    @rx.event
    def set_override_field(self, name: str, value: str) -> None:
        if name in ("target", "reason") and isinstance(value, str):
            self.override_form = {**self.override_form, name: value[:MAX_TEXT]}
            self.override_error, self._just_granted = "", False

    @rx.event
    async def grant(self) -> Events:
        """Open the chosen target early for the selected learners, with the reason."""
        if self._just_granted:
            return None  # the second click of a double click: done already
        course_id, chosen = self._course_id, list(self.selected)
        target = self.override_form.get("target", "course")
        reason = self.override_form.get("reason", "").strip()
        kind, _, raw = target.partition(":")
        ids = {"module_id": id_in(raw)} if kind == "module" else \
            {"lesson_id": id_in(raw)} if kind == "lesson" else {}
        if kind not in ("course", "module", "lesson") or (ids and not next(iter(ids.values()))):
            self.override_error = "Choose what to open"
            return None
        if not chosen:
            self.override_error = "Select at least one learner in the table"
            return None
        if not reason:
            self.override_error = "Say why: the audit log keeps the reason"
            return None
        try:
            granted, refused = await self._act_as("pacing.grant", lambda session, actor: len(
                access.grant_overrides(session, actor, chosen, course_id=course_id,
                                       reason=reason, **ids)))
        except Invalid as exc:
            self.override_error = exc.message
            return None
        if refused:
            return [*refused, PacingState.refresh]
        self.selected, self._just_granted = [], True
        self.override_form = {**self.override_form, "reason": ""}
        return [rx.toast.success(f"Opened early for {granted} learner"
                                 f"{'' if granted == 1 else 's'}"), PacingState.refresh]

    @rx.event
    async def set_show_revoked(self, on: bool) -> Events:
        self.show_revoked = on is True
        return PacingState.refresh

    @rx.event
    def toggle_override(self, override_id: int, on: bool) -> None:
        wanted = as_id(override_id)
        if wanted and wanted in {o.id for o in self.overrides if o.live}:
            others = [i for i in self.chosen_overrides if i != wanted]
            self.chosen_overrides = [*others, wanted] if on is True else others

    @rx.event
    def ask_revoke(self, override_id: int) -> None:
        """Confirm revoking one override (its id) or, with 0, the chosen ones."""
        wanted = as_id(override_id)
        live = {o.id: o for o in self.overrides if o.live}
        ids = [wanted] if wanted in live else [] if wanted else \
            [i for i in self.chosen_overrides if i in live]
        if not ids:
            return
        self._revoking, self._revoking_extensions = ids, []
        one = live[ids[0]]
        self.revoke_question = (f"Revoke “{one.target}” for {one.learner}?" if len(ids) == 1
                                else f"Revoke {len(ids)} overrides?")
        self.revoke_detail = ("The release rules apply to them again; the audit log keeps who "
                              "granted and who revoked.")

    @rx.event
    def ask_revoke_extension(self, extension_id: int) -> None:
        """Confirm revoking one due date extension (its id)."""
        wanted = as_id(extension_id)
        one = next((e for e in self.extensions if e.live and e.id == wanted), None)
        if one is None:
            return
        self._revoking, self._revoking_extensions = [], [one.id]
        self.revoke_question = f"Revoke the extension of “{one.quiz}” for {one.learner}?"
        self.revoke_detail = ("The quiz's own due date applies to them again, to an attempt "
                              "they have open too; the audit log keeps who granted and who "
                              "revoked.")

    @rx.event
    def cancel_revoke(self) -> None:
        self._revoking, self._revoking_extensions, self.revoke_question = [], [], ""

    @rx.event
    async def confirm_revoke(self) -> Events:
        ids, extension_ids = list(self._revoking), list(self._revoking_extensions)
        self.cancel_revoke()
        now = clock.now()
        if extension_ids:
            return await self._act("pacing.revoke_extension", lambda session, actor:
                                   deadlines.revoke(session, actor, extension_ids, now),
                                   "Revoked: the quiz's own due date applies again",
                                   PacingState.refresh)
        if not ids:
            return None  # a second click after the dialog closed
        self.chosen_overrides = [i for i in self.chosen_overrides if i not in ids]
        return await self._act("pacing.revoke", lambda session, actor: access.revoke_overrides(
            session, actor, ids, now), "Revoked: the release rules apply again",
            PacingState.refresh)

    # --- due date extensions -------------------------------------------------------------------

    @rx.event
    def set_extension_field(self, name: str, value: str) -> None:
        if name in ("quiz", "closes_at", "reason") and isinstance(value, str):
            self.extension_form = {**self.extension_form, name: value[:MAX_TEXT]}
            self.extension_errors = {k: v for k, v in self.extension_errors.items() if k != name}
            self._just_extended = False

    @rx.event
    async def extend(self) -> Events:
        """Move the chosen quiz's due date for the selected learners, with the reason."""
        if self._just_extended:
            return None  # the second click of a double click: done already
        chosen, form = list(self.selected), self.extension_form
        quiz_id, reason = id_in(form.get("quiz", "")), form.get("reason", "").strip()
        errors: dict[str, str] = {}
        if not quiz_id:
            errors["quiz"] = "Choose the quiz"
        closes: datetime | None = None
        try:
            closes = parse_local(form.get("closes_at", ""), required=True)
        except ValueError as exc:
            errors["closes_at"] = str(exc)
        if not reason:
            errors["reason"] = "Say why: the audit log keeps the reason"
        if not chosen:
            errors["learners"] = "Select at least one learner in the table"
        if errors or closes is None:
            self.extension_errors = errors
            return None
        now = clock.now()
        try:
            extended, refused = await self._act_as("pacing.extend", lambda session, actor: len(
                deadlines.extend(session, actor, quiz_id, chosen, closes, now, reason=reason)))
        except Invalid as exc:
            self.extension_errors = _renamed(exc.errors, EXTENSION_ERRORS)
            return None
        if refused:
            return [*refused, PacingState.refresh]
        self.selected, self._just_extended, self.extension_errors = [], True, {}
        self.extension_form = {**self.extension_form, "reason": ""}
        return [rx.toast.success(f"Due date extended for {extended} learner"
                                 f"{'' if extended == 1 else 's'}"), PacingState.refresh]


def _window(opens: datetime | None, closes: datetime | None) -> str:
    if opens and closes:
        return f"{_when(opens)} – {_when(closes)}"
    if opens:
        return f"From {_when(opens)}"
    if closes:
        return f"Until {_when(closes)}"
    return "Any time"


# --- the page ------------------------------------------------------------------------------------

S = PacingState


def _error(message: rx.Var, field_id: str) -> rx.Component:
    return rx.cond(message != "", rx.text(message, id=f"{field_id}-error", color_scheme="red",
                                          size="2", role="alert"))


def zone_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Time zone", size="4", as_="h2"),
        rx.text("Dates you set for this course (rules, cohort starts) are in this zone; learners "
                "see them in their own.", size="2", color_scheme="gray"),
        rx.flex(
            rx.box(labelled("Course time zone", "time-zone", rx.input(
                id="time-zone", value=S.zone_input, on_change=S.set_zone_input, width="100%",
                placeholder="Type to search, e.g. Europe/Paris", aria_describedby="time-zone-error",
                custom_attrs={"list": "time-zones", "autocomplete": "off"}), S.zone_error),
                width="100%", max_width=rx.breakpoints(initial="100%", sm="360px")),
            rx.button("Save time zone", on_click=S.save_zone),
            rx.el.datalist(*[rx.el.option(value=zone) for zone in ZONES], id="time-zones"),
            direction=rx.breakpoints(initial="column", sm="row"), spacing="3",
            align=rx.breakpoints(initial="stretch", sm="end"), width="100%",
        ),
        spacing="3", width="100%",
    ), width="100%")


def rule_line(title: rx.Var, rule: rx.Var, target: str, target_id: rx.Var,
              heading: bool = False) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="3", as_="h3") if heading else rx.text(title, size="2"),
            rx.cond(rule != "", rx.badge(rule, color_scheme="iris", white_space="normal"),
                    rx.text("No rule" if not heading else "No rule: opens with the course",
                            size="1", color_scheme="gray")),
            spacing="1", flex="1", min_width="0",
        ),
        rx.button(rx.cond(rule != "", "Change rule", "Set rule"), size="1", variant="soft",
                  aria_label=f"Release rule of {target} " + title,
                  on_click=S.open_rule(target, target_id)),
        align="center", spacing="3", width="100%",
        padding_left="0" if heading else "20px", padding_y="4px",
    )


def module_rules(module: RuledModule) -> rx.Component:
    return rx.card(rx.vstack(
        rule_line(module.title, module.rule, "module", module.id, heading=True),
        rx.foreach(module.lessons, lambda lesson: rule_line(lesson.title, lesson.rule, "lesson",
                                                            lesson.id)),
        spacing="1", width="100%",
    ), width="100%", variant="surface")


def rules_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Release rules", size="4", as_="h2"),
        rx.text("A lesson opens once its module's rule and its own allow it.", size="2",
                color_scheme="gray"),
        rx.cond(S.modules, rx.foreach(S.modules, module_rules),
                empty_state("list-tree", "No modules yet",
                            "Add modules and lessons in the course editor first.")),
        spacing="3", width="100%",
    ), width="100%")


def prerequisite_line(line: PrerequisiteLine) -> rx.Component:
    return rx.hstack(
        rx.text(line.course, size="2", weight="medium"),
        rx.badge(line.kind, color_scheme="gray"),
        rx.spacer(),
        rx.button("Remove", size="1", variant="soft", color_scheme="red",
                  aria_label="Remove prerequisite " + line.course,
                  on_click=S.remove_prerequisite(line.id)),
        align="center", width="100%",
    )


def prerequisites_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Prerequisite courses", size="4", as_="h2"),
        rx.text("Learners open this course only once they meet each of these.", size="2",
                color_scheme="gray"),
        rx.foreach(S.prerequisites, prerequisite_line),
        rx.flex(
            rx.box(rx.select.root(
                rx.select.trigger(aria_label="Required course", placeholder="Choose a course…",
                                  width="100%"),
                rx.select.content(rx.foreach(S.course_choices,
                                             lambda c: rx.select.item(c[1], value=c[0]))),
                value=S.prerequisite_form["course"],
                on_change=lambda v: S.set_prerequisite_field("course", v)),
                flex="1", min_width="0", width="100%"),
            rx.select.root(
                rx.select.trigger(aria_label="What learners need of it"),
                rx.select.content(*[rx.select.item(label, value=value)
                                    for value, label in PREREQUISITE_KINDS]),
                value=S.prerequisite_form["kind"],
                on_change=lambda v: S.set_prerequisite_field("kind", v)),
            rx.button("Add prerequisite", on_click=S.add_prerequisite),
            direction=rx.breakpoints(initial="column", sm="row"), spacing="3", width="100%",
        ),
        _error(S.prerequisite_error, "prerequisite"),
        spacing="3", width="100%",
    ), width="100%")


def _form_input(form: str, label: str, name: str, hint: str = "", **props) -> rx.Component:
    """A text field of the rule or cohort dialog: `form` names the state's `<form>_form`,
    `<form>_errors` and `set_<form>_field`."""
    values, errors = getattr(S, f"{form}_form"), getattr(S, f"{form}_errors")
    setter, field_id = getattr(S, f"set_{form}_field"), f"{form}-{name}"
    return labelled(label, field_id, rx.input(
        id=field_id, value=values.get(name, ""), width="100%",
        on_change=lambda v: setter(name, v), aria_describedby=f"{field_id}-error",
        aria_invalid=rx.cond(errors.contains(name), "true", "false"), **props),
        errors.get(name, ""), hint)


def _rule_input(label: str, name: str, hint: str = "", **props) -> rx.Component:
    return _form_input("rule", label, name, hint, **props)


def rule_dialog() -> rx.Component:
    kind = S.rule_form.get("kind", "none")
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Release rule: " + S.rule_target_title),
        rx.dialog.description(rx.cond(S.rule_target == "module",
                                      "Applies to every lesson of the module.",
                                      "Applies to this lesson, after its module's rule."),
                              size="2", color_scheme="gray"),
        rx.vstack(
            rx.cond(S.rule_errors.contains("rule") | S.rule_errors.contains("target"),
                    rx.callout(S.rule_errors.get("rule", S.rule_errors.get("target", "")),
                               icon="circle-alert", color_scheme="red", role="alert",
                               width="100%")),
            labelled("Opens", "rule-kind", rx.select.root(
                rx.select.trigger(id="rule-kind", aria_label="Opens", width="100%"),
                rx.select.content(*[rx.select.item(label, value=value)
                                    for value, label in RULE_KINDS]),
                value=kind, on_change=lambda v: S.set_rule_field("kind", v)), ""),
            rx.cond(kind == ReleaseKind.ON_DATE.value, _rule_input(
                "Date and time", "opens_at", "In the course's time zone: " + S.zone + ".",
                type="datetime-local")),
            rx.cond((kind == ReleaseKind.AFTER_ENROLMENT.value)
                    | (kind == ReleaseKind.AFTER_COHORT_START.value),
                    _rule_input("Days", "days", "0 opens it on the day itself, at the same time.",
                                input_mode="numeric")),
            rx.cond(kind == ReleaseKind.AFTER_COMPLETION.value, rx.vstack(
                labelled("Lesson to complete first", "rule-after_lesson", rx.select.root(
                    rx.select.trigger(id="rule-after_lesson", aria_label="Lesson to complete first",
                                      placeholder="Choose a lesson…", width="100%"),
                    rx.select.content(rx.foreach(S.lesson_choices,
                                                 lambda c: rx.select.item(c[1], value=c[0]))),
                    value=S.rule_form.get("after_lesson", ""),
                    on_change=lambda v: S.set_rule_field("after_lesson", v)),
                    S.rule_errors.get("after_lesson", "")),
                _rule_input("Minimum score (%)", "min_score",
                            "Quizzes only. Empty: completing it is enough.", input_mode="numeric"),
                spacing="3", width="100%")),
            rx.flex(
                rx.cond(S.rule_has_one, rx.button("Clear rule", variant="soft", color_scheme="red",
                                                  on_click=S.clear_rule)),
                rx.spacer(),
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.close_rule),
                rx.button("Save rule", on_click=S.save_rule),
                spacing="3", width="100%", wrap="wrap",
            ),
            spacing="3", padding_top="12px", width="100%",
        ),
        max_width="520px",
    ), open=S.rule_target != "",
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), S.close_rule()))


def cohort_row(cohort: CohortLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(cohort.name, weight="medium"),
                                           rx.text("Starts " + cohort.starts, size="1",
                                                   color_scheme="gray"), spacing="0"),
                                 min_width="180px"),
        rx.table.cell(rx.text(cohort.window, size="2"), min_width="160px"),
        rx.table.cell(rx.text(cohort.seats, size="2")),
        rx.table.cell(rx.hstack(progress_bar(cohort.average, "Average progress of " + cohort.name),
                                rx.text(cohort.average.to_string() + "%", size="2"),
                                align="center", min_width="140px")),
        rx.table.cell(rx.text(cohort.completed.to_string() + " of " + cohort.learners.to_string(),
                              size="2")),
        rx.table.cell(rx.hstack(
            rx.button("Edit", size="1", variant="soft", aria_label="Edit cohort " + cohort.name,
                      on_click=S.open_cohort(cohort.id)),
            rx.button("Delete", size="1", variant="soft", color_scheme="red",
                      aria_label="Delete cohort " + cohort.name,
                      on_click=S.ask_delete_cohort(cohort.id)),
            spacing="2")),
        align="center",
    )


def cohorts_card() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.text("Learners who start together; rules can count days from their start.",
                    size="2", color_scheme="gray", flex="1"),
            rx.button(rx.icon("plus", size=16), "New cohort", on_click=S.open_new_cohort),
            spacing="3", align="center", width="100%", wrap="wrap",
        ),
        data_table(S.cohorts, cohort_row,
                   ["Cohort", "Enrolment window", "Seats", "Average progress", "Completed", "Actions"],
                   empty_state("calendar-days", "No cohorts yet",
                               "Create one to run this course with a start date."),
                   loading=S.loading, label="Cohorts"),
        spacing="3", width="100%",
    )


def _cohort_input(label: str, name: str, hint: str = "", **props) -> rx.Component:
    return _form_input("cohort", label, name, hint, **props)


def cohort_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(rx.cond(S.cohort_editing == -1, "New cohort", "Edit cohort")),
        rx.dialog.description("Times are in the course's time zone: " + S.zone + ".", size="2",
                              color_scheme="gray"),
        rx.vstack(
            _cohort_input("Name", "name", placeholder="e.g. Spring cohort"),
            rx.grid(
                _cohort_input("Starts", "starts_at", type="datetime-local"),
                _cohort_input("Seats", "capacity", input_mode="numeric"),
                _cohort_input("Enrolment opens", "enrol_from", "Empty: any time before.",
                              type="datetime-local"),
                _cohort_input("Enrolment closes", "enrol_until", "Empty: no end.",
                              type="datetime-local"),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
            ),
            rx.hstack(
                rx.spacer(),
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.close_cohort),
                rx.button(rx.cond(S.cohort_editing == -1, "Create cohort", "Save cohort"),
                          on_click=S.save_cohort),
                width="100%",
            ),
            spacing="3", padding_top="12px", width="100%",
        ),
        max_width="560px",
    ), open=S.cohort_editing != 0,
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), S.close_cohort()))


def delete_cohort_dialog() -> rx.Component:
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title("Delete cohort?"),
        rx.alert_dialog.description("“" + S.deleting_cohort + "” will be deleted. A cohort with "
                                    "learners cannot be: move them first."),
        rx.hstack(
            rx.spacer(),
            rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                             on_click=S.cancel_delete_cohort)),
            rx.alert_dialog.action(rx.button("Delete", color_scheme="red",
                                             on_click=S.confirm_delete_cohort)),
            width="100%", padding_top="12px",
        ),
    ), open=S.deleting_cohort != "")


def learner_row(learner: LearnerLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.checkbox(checked=S.selected.contains(learner.user_id),
                                  on_change=lambda on: S.toggle_learner(learner.user_id, on),
                                  aria_label="Select " + learner.name)),
        rx.table.row_header_cell(rx.vstack(rx.text(learner.name, weight="medium"),
                                           rx.text(learner.email, size="1", color_scheme="gray"),
                                           spacing="0")),
        rx.table.cell(rx.hstack(progress_bar(learner.percent, "Progress of " + learner.name),
                                rx.text(learner.percent.to_string() + "%", size="2"),
                                align="center", min_width="120px")),
        rx.table.cell(rx.select.root(
            rx.select.trigger(aria_label="Cohort of " + learner.name),
            rx.select.content(rx.select.item("No cohort", value=NO_COHORT),
                              rx.foreach(S.cohorts, lambda c: rx.select.item(
                                  c.name, value=c.id.to_string()))),
            value=learner.cohort, size="1",
            on_change=lambda value: S.place(learner.user_id, value))),
        align="center",
    )


def grant_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Open early", size="4", as_="h3"),
        rx.text(S.selected.length().to_string() + " selected. Their release rules and "
                "prerequisites no longer hold them back from what you open.", size="2",
                color_scheme="gray"),
        rx.grid(
            labelled("Open", "override-target", rx.select.root(
                rx.select.trigger(id="override-target", aria_label="What to open", width="100%"),
                rx.select.content(rx.foreach(S.target_choices,
                                             lambda c: rx.select.item(c[1], value=c[0]))),
                value=S.override_form["target"],
                on_change=lambda v: S.set_override_field("target", v)), ""),
            labelled("Reason", "override-reason", rx.input(
                id="override-reason", value=S.override_form["reason"], width="100%",
                placeholder="e.g. Returning learner, did this module last term",
                on_change=lambda v: S.set_override_field("reason", v),
                aria_describedby="override-reason-error"), ""),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
        ),
        _error(S.override_error, "override-reason"),
        rx.hstack(rx.spacer(), rx.button("Open for selected learners", on_click=S.grant),
                  width="100%"),
        spacing="3", width="100%",
    ), width="100%")


def _extension_input(label: str, name: str, hint: str = "", **props) -> rx.Component:
    return labelled(label, f"extension-{name}", rx.input(
        id=f"extension-{name}", value=S.extension_form[name], width="100%",
        on_change=lambda v: S.set_extension_field(name, v),
        aria_invalid=rx.cond(S.extension_errors.contains(name), "true", "false"),
        aria_describedby=f"extension-{name}-error", **props),
        S.extension_errors.get(name, ""), hint)


def extend_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Extend a due date", size="4", as_="h3"),
        rx.text(S.selected.length().to_string() + " selected. The quiz closes later for them; "
                "an attempt they have open runs to the new date.", size="2", color_scheme="gray"),
        rx.cond(S.quiz_choices.length() > 0, rx.vstack(
            rx.grid(
                labelled("Quiz", "extension-quiz", rx.select.root(
                    rx.select.trigger(id="extension-quiz", aria_label="Quiz to extend",
                                      placeholder="Choose a quiz", width="100%"),
                    rx.select.content(rx.foreach(S.quiz_choices,
                                                 lambda c: rx.select.item(c[1], value=c[0]))),
                    value=S.extension_form["quiz"],
                    on_change=lambda v: S.set_extension_field("quiz", v)),
                    S.extension_errors.get("quiz", "")),
                _extension_input("New due date", "closes_at", "In the course's time zone: "
                                 + S.zone + ".", type="datetime-local"),
                _extension_input("Why the extension", "reason",
                                 placeholder="e.g. Ill the week of the quiz"),
                columns=rx.breakpoints(initial="1", md="3"), spacing="3", width="100%",
            ),
            _error(S.extension_errors.get("learners", ""), "extension-learners"),
            rx.hstack(rx.spacer(), rx.button("Extend for selected learners", on_click=S.extend),
                      width="100%"),
            spacing="3", width="100%"),
            rx.text("No quiz of this course closes: set “Closes on” in a quiz's settings first.",
                    size="2")),
        spacing="3", width="100%",
    ), width="100%")


def learners_section() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.debounce_input(rx.input(
                rx.input.slot(rx.icon("search", size=16)), value=S.roster_query,
                on_change=S.search_learners, type="search", width=["100%", "300px"],
                aria_label="Search learners", placeholder="Search by name or email"),
                debounce_timeout=250),
            rx.checkbox("Select all shown", checked=(S.selected.length() == S.learners.length())
                        & (S.learners.length() > 0), on_change=S.select_all_learners),
            spacing="3", align="center", width="100%", wrap="wrap",
        ),
        rx.cond(S.learners_note != "", rx.text(S.learners_note, size="2", color_scheme="gray")),
        data_table(S.learners, learner_row, ["Select", "Learner", "Progress", "Cohort"],
                   empty_state("users", "No learners found",
                               "Learners appear here once they enrol."),
                   loading=S.loading, label="Learners"),
        grant_card(),
        extend_card(),
        spacing="3", width="100%",
    )


def _granted_cells(learner: rx.Var, email: rx.Var, what: rx.Var, reason: rx.Var,
                   extra: list[rx.Component], granted: rx.Var, live: rx.Var, revoked: rx.Var,
                   revoke_label: rx.Var, revoke: rx.EventSpec) -> list[rx.Component]:
    """The cells an override and an extension share: for whom, what and why, when and by whom,
    live or revoked, and the Revoke button of a live one."""
    return [
        rx.table.row_header_cell(rx.vstack(rx.text(learner, weight="medium"),
                                           rx.text(email, size="1", color_scheme="gray"),
                                           spacing="0")),
        rx.table.cell(rx.vstack(rx.text(what, size="2"),
                                rx.text(reason, size="1", color_scheme="gray"), spacing="0")),
        *extra,
        rx.table.cell(rx.text(granted, size="2")),
        rx.table.cell(rx.cond(live, rx.badge("Live", color_scheme="green"),
                              rx.text("Revoked " + revoked, size="2"))),
        rx.table.cell(rx.cond(live, rx.button("Revoke", size="1", variant="soft",
                                              color_scheme="red", aria_label=revoke_label,
                                              on_click=revoke))),
    ]


def override_row(row: OverrideRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.cond(row.live, rx.checkbox(
            checked=S.chosen_overrides.contains(row.id),
            on_change=lambda on: S.toggle_override(row.id, on),
            aria_label="Choose override of " + row.learner + ": " + row.target))),
        *_granted_cells(row.learner, row.email, row.target, row.reason, [], row.granted,
                        row.live, row.revoked, "Revoke " + row.target + " for " + row.learner,
                        S.ask_revoke(row.id)),
        align="center",
    )


def overrides_section() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.checkbox("Show revoked", checked=S.show_revoked, on_change=S.set_show_revoked),
            rx.spacer(),
            rx.button("Revoke chosen", variant="soft", color_scheme="red",
                      disabled=S.chosen_overrides.length() == 0, on_click=S.ask_revoke(0)),
            spacing="3", align="center", width="100%",
        ),
        data_table(S.overrides, override_row,
                   ["Choose", "Learner", "Opens", "Granted", "Status", "Actions"],
                   empty_state("lock-open", "No overrides",
                               "Open something early for learners from the Learners tab."),
                   loading=S.loading, label="Overrides"),
        spacing="3", width="100%",
    )


def extension_row(row: ExtensionRow) -> rx.Component:
    return rx.table.row(
        *_granted_cells(row.learner, row.email, row.quiz, row.reason,
                        [rx.table.cell(rx.text(row.closes, size="2"))], row.granted, row.live,
                        row.revoked, "Revoke the extension of " + row.quiz + " for " + row.learner,
                        S.ask_revoke_extension(row.id)),
        align="center",
    )


def extensions_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Due date extensions", size="4", as_="h3"),
        data_table(S.extensions, extension_row,
                   ["Learner", "Quiz", "New due date", "Granted", "Status", "Actions"],
                   empty_state("calendar-clock", "No extensions",
                               "Extend a quiz's due date for learners from the Learners tab."),
                   loading=S.loading, label="Due date extensions"),
        spacing="3", width="100%",
    )


def revoke_dialog() -> rx.Component:
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title(S.revoke_question),
        rx.alert_dialog.description(S.revoke_detail),
        rx.hstack(
            rx.spacer(),
            rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                             on_click=S.cancel_revoke)),
            rx.alert_dialog.action(rx.button("Revoke", color_scheme="red",
                                             on_click=S.confirm_revoke)),
            width="100%", padding_top="12px",
        ),
    ), open=S.revoke_question != "")


def pacing_tabs() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(rx.tabs.trigger("Rules", value="rules"),
                     rx.tabs.trigger("Cohorts", value="cohorts"),
                     rx.tabs.trigger("Learners", value="learners"),
                     rx.tabs.trigger("Overrides", value="overrides"), wrap="wrap"),
        rx.tabs.content(rx.vstack(zone_card(), rules_card(), prerequisites_card(), spacing="4",
                                  width="100%"), value="rules", padding_top="16px"),
        rx.tabs.content(cohorts_card(), value="cohorts", padding_top="16px"),
        rx.tabs.content(learners_section(), value="learners", padding_top="16px"),
        rx.tabs.content(rx.vstack(overrides_section(), extensions_section(), spacing="5",
                                  width="100%"), value="overrides", padding_top="16px"),
        default_value="rules", width="100%",
    )


def pacing_page() -> rx.Component:
    return admin_page(
        "Pacing",
        "When lessons open, who runs together, and who may go ahead.",
        rx.cond(S.not_found, course_missing(), rx.vstack(
            course_header(S),
            rx.cond(S.loading, rx.skeleton(rx.box(height="400px", width="100%"), loading=True),
                    pacing_tabs()),
            rule_dialog(), cohort_dialog(), delete_cohort_dialog(), revoke_dialog(),
            spacing="4", width="100%",
        )),
    )
