"""The admin kit's service, on the Study group example and on coupons: roles and row ownership,
field checks from the model, an audit entry per change, a live signal per change, keyset paging,
search and filters. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from academy_app.admin import kit
from academy_app.admin.coupons import coupon_page
from academy_app.admin.kit import ADMINS, Form, Listing, Permissions, Resource, service
from academy_app.admin.kit.service import ListQuery
from academy_app.admin.kit.state import cell_text
from academy_app.admin.study_groups import study_groups
from academy_app.infra import bus
from academy_app.models import AuditEntry, Coupon, Role, StudyGroup
from academy_app.services import coupons
from academy_app.services.errors import Conflict, Invalid, NotAuthenticated, PermissionDenied
from tests.factories import make_course, make_user

GROUPS = study_groups.resource


@pytest.fixture
def published(monkeypatch) -> Iterator[list[bus.Signal]]:
    signals: list[bus.Signal] = []
    monkeypatch.setattr(bus, "publish", signals.append)
    yield signals


@pytest.fixture
def other_instructor(db):
    return make_user(db, Role.INSTRUCTOR, name="Otto Other")


@pytest.fixture
def admin(db):
    return make_user(db, Role.ADMIN, name="Ada Admin")


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Python Foundations")


@pytest.fixture
def other_course(db, other_instructor):
    return make_course(db, other_instructor, title="Other Course")


def new_group(db, actor, course, name="Python Circle", **values) -> StudyGroup:
    group = service.create_record(db, actor, GROUPS, {"name": name, "course_id": str(course.id),
                                                      **values})
    db.commit()
    return group


def audit_actions(db) -> list[str]:
    return list(db.exec(select(AuditEntry.action).order_by(AuditEntry.id)))


def names(page: service.ListPage) -> list[str]:
    return [row.name for row in page.rows]


# --- roles and rows ----------------------------------------------------------------------------

def test_an_instructor_sees_only_the_groups_of_courses_they_teach_and_an_admin_sees_all(
        db, instructor, other_instructor, admin, course, other_course):
    new_group(db, instructor, course, "Mine")
    new_group(db, other_instructor, other_course, "Theirs")
    assert names(service.list_records(db, instructor, GROUPS)) == ["Mine"]
    assert names(service.list_records(db, other_instructor, GROUPS)) == ["Theirs"]
    assert names(service.list_records(db, admin, GROUPS)) == ["Mine", "Theirs"]
    # The course select offers an instructor their own courses only; an admin every course.
    assert service.choices(db, instructor, GROUPS)["course_id"] == [(str(course.id), course.title)]
    assert len(service.choices(db, admin, GROUPS)["course_id"]) == 2


def test_learners_and_visitors_can_neither_list_nor_create(db, student, course):
    with pytest.raises(PermissionDenied, match="Only instructors and admins"):
        service.list_records(db, student, GROUPS)
    with pytest.raises(NotAuthenticated):
        service.create_record(db, None, GROUPS, {"name": "x", "course_id": str(course.id)})
    with pytest.raises(PermissionDenied):
        service.create_record(db, student, GROUPS, {"name": "x", "course_id": str(course.id)})
    assert db.exec(select(StudyGroup)).all() == [] and audit_actions(db) == []


def test_another_instructors_group_can_be_neither_read_nor_changed(
        db, instructor, other_instructor, course, other_course, published):
    group = new_group(db, instructor, course, "Mine")
    published.clear()
    attempts = [
        lambda: service.form_values(db, other_instructor, GROUPS, group.id),
        lambda: service.update_record(db, other_instructor, GROUPS, group.id,
                                      {"name": "Hijacked", "course_id": str(course.id)}),
        lambda: service.update_record(db, other_instructor, GROUPS, group.id,
                                      {"name": "Moved", "course_id": str(other_course.id)}),
        lambda: service.delete_record(db, other_instructor, GROUPS, group.id),
        lambda: service.run_action(db, other_instructor, GROUPS, "close", group.id),
        # creating a group in someone else's course, by naming its id
        lambda: service.create_record(db, other_instructor, GROUPS,
                                      {"name": "Squatter", "course_id": str(course.id)}),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied, match="You can only manage your own courses"):
            attempt()
        db.rollback()
    db.refresh(group)
    assert (group.name, group.is_open) == ("Mine", True)
    assert [g.name for g in db.exec(select(StudyGroup))] == ["Mine"]
    assert audit_actions(db) == ["study_group.create"]
    db.commit()
    assert published == []


def test_an_instructor_cannot_move_their_group_to_a_course_they_do_not_teach(
        db, instructor, course, other_course):
    group = new_group(db, instructor, course)
    with pytest.raises(PermissionDenied):
        service.update_record(db, instructor, GROUPS, group.id,
                              {"name": group.name, "course_id": str(other_course.id)})
    db.rollback()
    assert db.get(StudyGroup, group.id).course_id == course.id


def test_access_per_operation_is_checked_by_role(db, instructor, admin, course):
    admins_delete = Resource(StudyGroup, "Groups", route="/x", listing=Listing(("name",), sort="name"),
                             form=Form(("name", "course_id")),
                             permissions=Permissions(delete=ADMINS, owner=GROUPS.permissions.owner))
    group = new_group(db, instructor, course)
    with pytest.raises(PermissionDenied, match="Only admins can do this"):
        service.delete_record(db, instructor, admins_delete, group.id)
    assert service.list_records(db, instructor, admins_delete).rights[group.id].delete is False
    service.delete_record(db, admin, admins_delete, group.id)
    db.commit()
    assert db.get(StudyGroup, group.id) is None


def test_a_page_where_nobody_deletes_offers_no_delete_and_refuses_one(db, admin, course):
    page = coupon_page.resource  # declared with Permissions(delete=())
    service.create_record(db, admin, page, {"code": "KEEP10", "kind": "percent", "value": "10",
                                            "course": str(course.id)})
    db.commit()
    listed = service.list_records(db, admin, page)
    [coupon] = listed.rows
    assert listed.rights[coupon.id].delete is False
    with pytest.raises(PermissionDenied, match="A coupon cannot be deleted here"):
        service.delete_record(db, admin, page, coupon.id)
    db.rollback()
    assert db.get(Coupon, coupon.id) is not None


# --- the form ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "field", "message"), [
    ({"name": "  "}, "name", "Enter the name"),
    ({"name": "x" * 81}, "name", "Use at most 80 characters"),
    ({"course_id": ""}, "course_id", "Choose the course"),
    ({"course_id": "999999"}, "course_id", "Choose a course from the list"),
    ({"course_id": "abc"}, "course_id", "Choose a course from the list"),
    ({"capacity": "1"}, "capacity", "Enter 2 or more"),
    ({"capacity": "501"}, "capacity", "Enter 500 or less"),
    ({"capacity": "twelve"}, "capacity", "Enter a whole number, like 12"),
    ({"capacity": "1.5"}, "capacity", "Enter a whole number, like 12"),
    ({"capacity": "١٢"}, "capacity", "Enter a whole number, like 12"),
    ({"meeting_url": "http://meet.example/x"}, "meeting_url", "Enter a link that starts with https://"),
    ({"meeting_url": "javascript:alert(1)"}, "meeting_url", "Enter a link that starts with https://"),
    ({"description": "x" * 2001}, "description", "Use at most 2000 characters"),
])
def test_each_field_is_checked_against_the_model_with_a_message_for_it(
        db, instructor, course, values, field, message):
    form = {"name": "Python Circle", "course_id": str(course.id), **values}
    with pytest.raises(Invalid) as refused:
        service.create_record(db, instructor, GROUPS, form)
    assert refused.value.errors == {field: message}


def test_all_bad_fields_are_told_at_once(db, instructor):
    with pytest.raises(Invalid) as refused:
        service.create_record(db, instructor, GROUPS, {"capacity": "0"})
    assert set(refused.value.errors) == {"name", "course_id", "capacity"}


def test_the_form_is_derived_from_the_model(db):
    fields = GROUPS.fields
    assert {n: f.kind for n, f in fields.items()} == {
        "name": "text", "course_id": "select", "description": "textarea", "capacity": "number",
        "meeting_url": "text"}
    assert fields["capacity"].label == "Seats" and fields["capacity"].default == "12"
    assert fields["capacity"].hint.startswith("How many learners")
    assert fields["name"].required and not fields["description"].required
    assert GROUPS.blank_form() == {"name": "", "course_id": "", "description": "",
                                   "capacity": "12", "meeting_url": ""}


def test_creating_fills_defaults_and_the_creator_audits_and_announces(
        db, instructor, course, published):
    group = new_group(db, instructor, course, " Python Circle ", capacity="")
    assert (group.name, group.capacity, group.is_open, group.created_by_id) == (
        "Python Circle", 12, True, instructor.id)
    [entry] = db.exec(select(AuditEntry)).all()
    assert (entry.action, entry.actor_id, entry.entity_type, entry.entity_id) == (
        "study_group.create", instructor.id, "study_groups", group.id)
    assert json.loads(entry.after)["name"] == "Python Circle"
    [signal] = published
    assert signal.resources == ("study_group",)
    assert bus.Signal.from_json(signal.to_json()) == signal


def test_a_refused_or_invalid_change_announces_nothing(db, instructor, course, published):
    with pytest.raises(Invalid):
        service.create_record(db, instructor, GROUPS, {"name": "", "course_id": str(course.id)})
    db.rollback()
    db.commit()
    assert published == []


def test_an_edit_audits_what_it_changed_and_an_empty_edit_writes_nothing(
        db, instructor, course, published):
    group = new_group(db, instructor, course, capacity="10")
    published.clear()
    form = service.form_values(db, instructor, GROUPS, group.id)
    assert form["capacity"] == "10" and form["course_id"] == str(course.id)
    updated_at = group.updated_at
    service.update_record(db, instructor, GROUPS, group.id, form)  # nothing changed
    db.commit()
    assert audit_actions(db) == ["study_group.create"] and published == []
    service.update_record(db, instructor, GROUPS, group.id, {**form, "capacity": "16"})
    db.commit()
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "study_group.update")).one()
    assert (json.loads(entry.before), json.loads(entry.after)) == ({"capacity": 10},
                                                                   {"capacity": 16})
    assert db.get(StudyGroup, group.id).updated_at >= updated_at
    assert [s.resources for s in published] == [("study_group",)]


def test_delete_keeps_the_row_in_the_audit_log(db, instructor, course):
    group = new_group(db, instructor, course)
    service.delete_record(db, instructor, GROUPS, group.id)
    db.commit()
    assert db.get(StudyGroup, group.id) is None
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "study_group.delete")).one()
    assert json.loads(entry.before)["name"] == "Python Circle" and entry.entity_id == group.id


def test_row_actions_apply_where_they_are_offered(db, instructor, course):
    group = new_group(db, instructor, course)
    assert service.list_records(db, instructor, GROUPS).rights[group.id].actions == ("close",)
    service.run_action(db, instructor, GROUPS, "close", group.id)
    db.commit()
    assert db.get(StudyGroup, group.id).is_open is False
    assert service.list_records(db, instructor, GROUPS).rights[group.id].actions == ("reopen",)
    with pytest.raises(Conflict, match="Close does not apply"):
        service.run_action(db, instructor, GROUPS, "close", group.id)
    assert audit_actions(db) == ["study_group.create", "study_group.close"]


# --- lists -------------------------------------------------------------------------------------

def test_keyset_pages_visit_every_row_once_in_order_even_with_equal_values(db, admin, course):
    for index in range(60):  # equal values: the id breaks the tie, so no row is skipped or repeated
        db.add(StudyGroup(name=f"Group {index % 7}", course_id=course.id, capacity=2 + index % 5))
    db.commit()
    assert GROUPS.sortable == ["name"]  # the only column shown that an index leads with
    by_capacity, by_update = (Resource(StudyGroup, "Groups", route="/x",
                                       listing=Listing(("name",), sort=sort))
                              for sort in ("capacity", "-updated_at"))
    keys = {"name": lambda g: (g.name, g.id), "capacity": lambda g: (g.capacity, g.id),
            "updated_at": lambda g: (g.updated_at, g.id)}
    for resource, sort in [(GROUPS, "name"), (GROUPS, "-name"), (by_capacity, ""),
                           (by_update, "")]:
        seen, cursor, sizes = [], "", []
        while True:
            page = service.list_records(db, admin, resource, ListQuery(sort=sort, after=cursor))
            seen += page.rows
            sizes.append(len(page.rows))
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        key = keys[page.sort.removeprefix("-")]
        assert [g.id for g in seen] == [g.id for g in sorted(seen, key=key,
                                                             reverse=page.sort.startswith("-"))]
        assert len({g.id for g in seen}) == 60 and sizes == [25, 25, 10]
        assert page.total == 60


def test_a_forged_cursor_or_sort_gives_the_first_page_in_the_declared_order(db, admin, course):
    new_group(db, admin, course, "B")
    new_group(db, admin, course, "A")
    for query in (ListQuery(after="not-a-cursor"), ListQuery(after="W1tdLCAiMSJd"),
                  ListQuery(sort="password_hash"), ListQuery(sort="-created_by_id")):
        page = service.list_records(db, admin, GROUPS, query)
        assert (names(page), page.sort) == (["A", "B"], "name")


def test_search_ignores_case_and_treats_wildcards_as_text_and_filters_combine(
        db, instructor, admin, course):
    other = make_course(db, instructor, title="SQL for Analysts")
    new_group(db, instructor, course, "Python Circle", description="Tuesday evenings")
    new_group(db, instructor, course, "Weekend 100% Python")
    new_group(db, instructor, other, "SQL Study Hall")
    service.run_action(db, instructor, GROUPS, "close", new_group(db, instructor, other, "Old").id)
    db.commit()

    def listed(**query) -> list[str]:
        return names(service.list_records(db, instructor, GROUPS, ListQuery(**query)))

    assert listed(search="PYTHON") == ["Python Circle", "Weekend 100% Python"]
    assert listed(search="tuesday") == ["Python Circle"]  # the description is searched too
    assert listed(search="100%") == ["Weekend 100% Python"]
    assert listed(search="%") == ["Weekend 100% Python"]
    assert listed(search="_") == []
    assert listed(filters={"course_id": str(other.id)}) == ["Old", "SQL Study Hall"]
    assert listed(filters={"is_open": "false"}) == ["Old"]
    assert listed(filters={"course_id": str(other.id), "is_open": "true"}) == ["SQL Study Hall"]
    assert listed(filters={"course_id": str(other.id)}, search="hall") == ["SQL Study Hall"]
    # Values a filter cannot hold filter nothing; unknown filters are ignored.
    assert len(listed(filters={"course_id": "x", "is_open": "maybe", "name": "Old"})) == 4
    assert service.list_records(db, instructor, GROUPS, ListQuery(search="python")).total == 2


def test_text_no_database_can_store_is_dropped_rather_than_failing(db, instructor, course):
    group = new_group(db, instructor, course, "Py\x00thon\udfff Circle")  # NUL, a lone surrogate
    assert group.name == "Python Circle"
    listed = service.list_records(db, instructor, GROUPS, ListQuery(
        search="\x00PY\udfff", filters={"course_id": f"{course.id}\x00", "is_open": "\udfff"}))
    assert names(listed) == ["Python Circle"]


def test_the_count_stops_at_the_cap(db, admin, course, monkeypatch):
    monkeypatch.setattr(service, "COUNT_CAP", 3)
    for index in range(5):
        db.add(StudyGroup(name=f"G{index}", course_id=course.id))
    db.commit()
    small_pages = Resource(StudyGroup, "Groups", route="/x",
                           listing=Listing(("name",), sort="name", per_page=2))
    assert service.list_records(db, admin, small_pages).total == 4  # shown as "3+"
    # A first page with room to spare has counted itself, with no count query.
    assert service.list_records(db, admin, GROUPS).total == 5


def test_cells_show_labels_of_foreign_keys_and_readable_values(db, instructor, course):
    new_group(db, instructor, course)
    page = service.list_records(db, instructor, GROUPS)
    row = page.rows[0]
    cells = [cell_text(c, row, page.extra) for c in GROUPS.columns]
    assert cells[:4] == ["Python Circle", "Python Foundations", "12", "Yes"]


NAMES = Listing(("name",), sort="name")


@pytest.mark.parametrize("declaration", [
    {"listing": Listing(("course_id.no_such_field",), sort="name")},
    {"listing": Listing(("name",), sort="name", search=("created_by_id.nope",))},
    {"listing": Listing(("name",), sort="name", label="group {nope}")},
    {"listing": NAMES, "actions": (kit.Action("x", "X"),)},  # neither run nor service
    {"listing": NAMES, "actions": (kit.Action("x", "X", service=print, choose="nope"),)},
])
def test_a_declaration_naming_what_the_model_lacks_is_refused_at_import(declaration):
    with pytest.raises(ValueError):
        Resource(StudyGroup, "Groups", route="/x", **declaration)


def test_two_columns_of_one_name_are_refused_as_page_code_reads_cells_by_name():
    with pytest.raises(ValueError, match="two columns are named alike"):
        Resource(StudyGroup, "Groups", route="/x",
                 listing=Listing(("name", kit.Column("name", "Again")), sort="name"))


def test_related_columns_and_search_read_the_row_a_foreign_key_points_at(db, instructor, course):
    group = new_group(db, instructor, course)
    page = Resource(StudyGroup, "Groups", route="/x", listing=Listing(
        (kit.Column("name", note="created_by_id.email"), "course_id.title"), sort="name",
        search=("course_id.title",), label="{name} of {course_id.title}"))
    listed = service.list_records(db, instructor, page, ListQuery(search="foundations"))
    assert [cell_text(c, group, listed.extra) for c in (*page.columns, page.columns[0].note_column)
            ] == ["Python Circle", "Python Foundations", instructor.email]
    assert listed.names == {group.id: "Python Circle of Python Foundations"}
    assert service.list_records(db, instructor, page, ListQuery(search="circle")).rows == []


# --- coupons on the kit: the domain service keeps its rules ------------------------------------

def test_coupons_through_the_kit_keep_their_rules_one_audit_entry_and_announce(
        db, instructor, other_instructor, admin, course, other_course, published):
    page = coupon_page.resource
    with pytest.raises(Invalid) as refused:
        service.create_record(db, instructor, page, {"code": "ab", "kind": "percent"})
    assert "code" in refused.value.errors
    db.rollback()
    with pytest.raises(PermissionDenied):
        service.create_record(db, other_instructor, page, {
            "code": "THEIRS", "kind": "percent", "value": "10", "course": str(course.id)})
    db.rollback()
    service.create_record(db, instructor, page, {"code": "mine10", "kind": "percent",
                                                 "value": "10", "course": str(course.id)})
    service.create_record(db, admin, page, {"code": "SITEWIDE", "kind": "fixed", "value": "5",
                                            "course": coupons.ALL_COURSES, "currency": "EUR"})
    db.commit()
    assert audit_actions(db) == ["coupon.create", "coupon.create"]
    assert [s.resources for s in published] == [("coupon",)]
    # The site-wide code applies to the instructor's course: listed for them, read-only.
    assert [c.code for c in service.list_records(db, instructor, page).rows] == [
        "SITEWIDE", "MINE10"]
    listed = service.list_records(db, admin, page)
    assert [[cell_text(col, c, listed.extra) for col in page.columns]
            for c in listed.rows] == [["SITEWIDE", "€5 off", "All courses", "Never", "0 / unlimited"],
                                      ["MINE10", "10%", "Python Foundations", "Never",
                                       "0 / unlimited"]]
    assert [c.code for c in service.list_records(db, other_instructor, page).rows] == [
        "SITEWIDE"]
    assert db.exec(select(Coupon.currency).where(Coupon.code == "SITEWIDE")).one() == "EUR"
    assert service.choices(db, instructor, page)["course"] == [(str(course.id), course.title)]
    assert service.choices(db, admin, page)["course"][0] == (coupons.ALL_COURSES, "All courses")


# --- layers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("module", ["resource.py", "service.py"])
def test_the_kits_service_and_declarations_do_not_depend_on_reflex(module):
    source = Path(__file__).parents[2] / "academy_app" / "admin" / "kit" / module
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert "reflex" not in imported
    assert not any(name.startswith(("academy_app.admin.kit.state", "academy_app.admin.kit.page",
                                    "academy_app.state")) for name in imported)


def test_two_editors_of_one_row_keep_each_others_changes_or_are_told(db, instructor, course):
    """Both open the form; the first saves the name. The second saves the capacity: the name
    stays the first one's. The second then saves the name they still have: refused, named."""
    group = new_group(db, instructor, course, capacity="10")
    db.commit()
    first = service.form_values(db, instructor, GROUPS, group.id)
    second = dict(first)
    service.update_record(db, instructor, GROUPS, group.id, {**first, "name": "Renamed"},
                          opened=first)
    db.commit()
    service.update_record(db, instructor, GROUPS, group.id, {**second, "capacity": "16"},
                          opened=second)
    db.commit()
    db.refresh(group)
    assert (group.name, group.capacity) == ("Renamed", 16)
    with pytest.raises(Conflict, match="Someone else changed Name"):
        service.update_record(db, instructor, GROUPS, group.id, {**second, "name": "Mine"},
                              opened=second)
    db.rollback()
    db.refresh(group)
    assert group.name == "Renamed"
