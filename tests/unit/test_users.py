"""Account administration: admins only, never on themselves, everything audited."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from academy_app.admin.audit import audit_page
from academy_app.admin.kit import service as kit_service
from academy_app.admin.kit.service import ListQuery
from academy_app.admin.users import user_page
from academy_app.models import AuditEntry, Role, User
from academy_app.services import accounts, audit, users
from academy_app.services.errors import (
    AuthenticationFailed,
    Conflict,
    Invalid,
    NotAuthenticated,
    PermissionDenied,
)
from tests.factories import PASSWORD, make_user, race

USERS = user_page.resource
AUDIT = audit_page.resource


@pytest.fixture
def admin(db):
    return make_user(db, Role.ADMIN, name="Ada Admin")


@pytest.mark.parametrize("who", ["instructor", "student", "nobody"])
def test_only_admins_administer_accounts(db, admin, instructor, student, who):
    outsider = {"instructor": instructor, "student": student, "nobody": None}[who]
    refused = NotAuthenticated if outsider is None else PermissionDenied
    for attempt in (lambda: kit_service.list_records(db, outsider, USERS),
                    lambda: users.change_role(db, outsider, student.id, "admin"),
                    lambda: users.set_active(db, outsider, student.id, False),
                    lambda: kit_service.list_records(db, outsider, AUDIT),
                    # and through the page, whatever a crafted event names
                    lambda: kit_service.run_action(db, outsider, USERS, "role", student.id, "admin"),
                    lambda: kit_service.run_action(db, outsider, USERS, "deactivate", student.id)):
        with pytest.raises(refused):
            attempt()
    db.refresh(student)
    assert student.role is Role.STUDENT and student.is_active


def test_search_by_name_or_email_and_role(db, admin, instructor, student):
    make_user(db, email="zoe@example.com", name="Zoë Ångström")

    def found(text: str = "", role: str = "all") -> list[int | str]:
        query = ListQuery(search=text, filters={"role": role})
        return [u.email for u in kit_service.list_records(db, admin, USERS, query).rows]

    # (SQLite folds case for ASCII only, so the non-ASCII letter is typed as stored.)
    assert found("ZOë") == found("zoe@") == ["zoe@example.com"]
    assert found(role="instructor") == [instructor.email]
    assert found("%") == []


def test_the_users_page_changes_roles_and_access_through_the_service(db, admin, student):
    kit_service.run_action(db, admin, USERS, "role", student.id, "instructor")
    kit_service.run_action(db, admin, USERS, "deactivate", student.id)
    with pytest.raises(Conflict):  # offered on active accounts only
        kit_service.run_action(db, admin, USERS, "deactivate", student.id)
    with pytest.raises(Invalid):
        kit_service.run_action(db, admin, USERS, "role", student.id, "superuser")
    with pytest.raises(Conflict):  # never on oneself
        kit_service.run_action(db, admin, USERS, "role", admin.id, "student")
    db.commit()
    db.refresh(student)
    assert (student.role, student.is_active) == (Role.INSTRUCTOR, False)
    assert db.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
        "user.role", "user.deactivate"]
    listed = kit_service.list_records(db, admin, USERS)
    assert listed.rights[student.id].actions == ("role", "reactivate")


def test_role_changes_are_validated_and_audited(db, admin, student):
    with pytest.raises(Invalid):
        users.change_role(db, admin, student.id, "superuser")
    users.change_role(db, admin, student.id, "instructor")
    db.commit()
    entry = db.exec(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.entity_id) == ("user.role", admin.id, student.id)
    assert '"student"' in entry.before and '"instructor"' in entry.after


def test_admins_cannot_demote_or_deactivate_themselves(db, admin):
    with pytest.raises(Conflict):
        users.change_role(db, admin, admin.id, "student")
    with pytest.raises(Conflict):
        users.set_active(db, admin, admin.id, False)


def as_read_now(db, user: User) -> User:
    """`user` as a request that began now holds it: read once, not updated by later commits."""
    db.commit()
    with Session(db.get_bind(), expire_on_commit=False) as other:
        row = other.get(User, user.id)
        other.commit()
    return row


def active_admins(db) -> int:
    return db.exec(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.is_active)).one()


def test_an_admin_may_demote_another_but_the_last_active_admin_stays(db, admin):
    other = make_user(db, Role.ADMIN, name="Bo Admin")
    stale_other = as_read_now(db, other)
    users.change_role(db, admin, other.id, "instructor")
    db.commit()
    # Bo's open page still shows them as an admin; what they try now would leave no admin.
    for attempt in (lambda: users.change_role(db, stale_other, admin.id, "student"),
                    lambda: users.set_active(db, stale_other, admin.id, False),
                    lambda: kit_service.run_action(db, stale_other, USERS, "deactivate", admin.id)):
        with pytest.raises(Conflict, match="At least one active admin must remain"):
            attempt()
    db.rollback()
    db.refresh(admin)
    assert (admin.role, admin.is_active) == (Role.ADMIN, True)


def test_a_deactivated_admin_neither_counts_nor_acts_as_one(db, admin, student):
    second, third = (make_user(db, Role.ADMIN, name=n) for n in ("Bo Admin", "Cy Admin"))
    stale_second, stale_third = as_read_now(db, second), as_read_now(db, third)
    users.set_active(db, admin, second.id, False)
    users.change_role(db, stale_third, second.id, "student")  # an inactive admin may be demoted
    db.commit()
    with pytest.raises(PermissionDenied, match="no longer an active admin"):
        users.change_role(db, stale_second, student.id, "admin")
    users.set_active(db, admin, third.id, False)
    db.commit()
    with pytest.raises(Conflict, match="At least one active admin must remain"):
        users.set_active(db, stale_third, admin.id, False)
    db.rollback()
    assert active_admins(db) == 1


def test_two_admins_demoting_each_other_at_once_leave_one_admin(engine, db, admin):
    other = make_user(db, Role.ADMIN, name="Bo Admin")
    db.commit()
    pairs = [(admin.id, other.id), (other.id, admin.id)]

    def remove(session: Session, index: int) -> None:
        actor_id, target_id = pairs[index]
        actor = session.get(User, actor_id)
        if index:
            users.set_active(session, actor, target_id, False)
        else:
            users.change_role(session, actor, target_id, "student")

    errors = race(engine, 2, remove)
    # The loser waited for the winner's lock (the last admin stays) or, if it began after the
    # winner's commit, read itself demoted (admins only): refused either way.
    assert len(errors) == 1 and isinstance(errors[0], Conflict | PermissionDenied), errors
    assert active_admins(db) == 1


def test_deactivating_logs_out_everywhere_and_blocks_log_in(db, admin, student):
    tokens = [accounts.start_session(db, student) for _ in range(3)]
    db.commit()
    users.set_active(db, admin, student.id, False)
    db.commit()
    assert all(accounts.user_for_token(db, token) is None for token in tokens)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, student.email, PASSWORD)
    users.set_active(db, admin, student.id, True)
    db.commit()
    assert accounts.authenticate(db, student.email, PASSWORD).id == student.id


def test_the_audit_log_lists_actions_newest_first_with_their_actor(db, admin, student):
    users.change_role(db, admin, student.id, "instructor")
    users.set_active(db, admin, student.id, False)
    db.commit()
    listed = kit_service.list_records(db, admin, AUDIT)
    assert [row.action for row in listed.rows] == ["user.deactivate", "user.role"]
    assert set(listed.extra["actor_id.full_name"].values()) == {"Ada Admin"}
    assert listed.names[listed.rows[1].id] == "user.role by Ada Admin"
    changes = next(column for column in AUDIT.listing.columns if column.name == "changes")
    assert changes.format(listed.rows[1]) == "role: student → instructor"
    # Searched by what was done, filtered by what it was done to and when.
    assert [row.action for row in kit_service.list_records(
        db, admin, AUDIT, ListQuery(search="role")).rows] == ["user.role"]
    assert kit_service.list_records(db, admin, AUDIT, ListQuery(
        filters={"action": "course", "created_at": "day"})).rows == []
    assert len(kit_service.list_records(db, admin, AUDIT, ListQuery(
        filters={"action": "user", "created_at": "day"})).rows) == 2


def test_the_audit_log_is_read_only():
    rights = AUDIT.permissions
    assert rights.who("create") == rights.who("edit") == rights.who("delete") == ()


@pytest.mark.parametrize(("before", "after", "shown"), [
    ('{"title": "Old", "price_cents": 0}', '{"title": "New", "price_cents": 0}', "title: Old → New"),
    ("{}", '{"code": "SPRING", "value": 20, "note": "", "ends": null}', "code: SPRING; value: 20"),
    ('{"title": "Gone"}', "{}", "title: Gone (removed)"),
    ('{"body": ""}', '{"body": "a  b\\nc"}', "body: empty → a b c"),
    ('{"a": 1}', '{"a": 1}', "(no field changed)"),
    ("not json", "{}", "value: not json (removed)"),
])
def test_an_entry_reads_as_what_changed(before, after, shown):
    assert audit.describe_change(before, after) == shown


def test_a_long_value_is_cut_in_the_log_and_kept_whole_in_the_entry(db, admin):
    body = "x" * 50_000
    audit.record(db, admin, "lesson.update", admin, {"body": ""}, {"body": body})
    db.commit()
    entry = db.exec(select(AuditEntry)).one()
    assert entry.after == f'{{"body": "{body}"}}'
    shown = audit.describe_change(entry.before, entry.after)
    assert shown.startswith("body: empty → xxx") and shown.endswith("…") and len(shown) < 100
