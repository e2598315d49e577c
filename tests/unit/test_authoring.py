"""Course authoring: forms, ownership, ordering and publishing."""

from __future__ import annotations

import pytest
from sqlmodel import select

from academy_app.admin.courses import course_page
from academy_app.admin.kit import service as kit_service
from academy_app.admin.kit.state import cell_text
from academy_app.models import AuditEntry, Course, Lesson, LessonKind, Role
from academy_app.services import authoring, payments
from academy_app.services.authoring import CourseForm, LessonForm
from academy_app.services.catalog import course_outline
from academy_app.services.errors import Conflict, Invalid, NotFound, PermissionDenied
from tests.factories import make_category, make_course, make_user

COURSES = course_page.resource


def new_course(db, instructor, **fields) -> Course:
    fields.setdefault("title", "Intro to SQL")
    course = authoring.create_course(db, instructor, CourseForm(**fields))
    db.commit()
    return course


def test_create_course_generates_a_slug_and_parses_the_price(db, instructor):
    make_category(db, "Data")
    course = new_course(db, instructor, title="Zoë's Données & SQL!", price="49.90",
                        category="data", level="intermediate")
    assert (course.slug, course.price_cents, course.instructor_id) == (
        "zoe-s-donnees-sql", 4990, instructor.id)
    assert course.is_published is False
    entry = db.exec(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id) == ("course.create", instructor.id)


@pytest.mark.parametrize(("fields", "field"), [
    ({"title": "x"}, "title"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"price": "-5"}, "price"),
    ({"price": "12.345"}, "price"),
    ({"price": "free"}, "price"),
    ({"price": "NaN"}, "price"),
    ({"price": "sNaN"}, "price"),
    ({"price": "-Infinity"}, "price"),
    ({"level": "wizard"}, "level"),
    ({"category": "nope"}, "category"),
    ({"currency": "XYZ"}, "currency"),
    ({"cover_image_url": "javascript:alert(1)"}, "cover_image_url"),
])
def test_bad_course_input_names_the_field(db, instructor, fields, field):
    with pytest.raises(Invalid) as refused:
        authoring.create_course(db, instructor, CourseForm(**{"title": "Good title", **fields}))
    assert field in refused.value.errors


def test_a_slug_is_unique(db, instructor):
    new_course(db, instructor, slug="sql")
    with pytest.raises(Invalid, match="already uses"):
        authoring.create_course(db, instructor, CourseForm(title="Another", slug="sql"))


def test_students_cannot_author_and_instructors_only_touch_their_own(db, instructor):
    course = new_course(db, instructor)
    student, other = make_user(db), make_user(db, Role.INSTRUCTOR)
    admin = make_user(db, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        authoring.create_course(db, student, CourseForm(title="Mine now"))
    for outsider in (student, other):
        with pytest.raises(PermissionDenied):
            authoring.update_course(db, outsider, course.id, CourseForm(title="Hijacked"))
        with pytest.raises(PermissionDenied):
            authoring.add_module(db, outsider, course.id, "Hijacked")
        with pytest.raises(PermissionDenied):
            authoring.set_published(db, outsider, course.id, True)
    authoring.update_course(db, admin, course.id, CourseForm(title="Renamed by admin"))
    assert [c.title for c in kit_service.list_records(db, other, COURSES).rows] == []
    assert [c.title for c in kit_service.list_records(db, instructor, COURSES).rows] == [
        "Renamed by admin"]
    assert len(kit_service.list_records(db, admin, COURSES).rows) == 1
    with pytest.raises(PermissionDenied):
        kit_service.list_records(db, student, COURSES)


def test_the_workspace_list_counts_lessons_learners_and_waiting_payments(db, instructor):
    paid = make_course(db, instructor, title="Paid", price_cents=900, lessons_per_module=(2, 1))
    empty = make_course(db, instructor, title="Empty", lessons_per_module=())
    learner = make_user(db)
    payments.submit_payment(db, learner, paid.id, reference="BANK-1")
    db.commit()
    listed = kit_service.list_records(db, instructor, COURSES)
    cells = {c.title: [cell_text(column, c, listed.extra) for column in COURSES.columns]
             for c in listed.rows}
    assert cells == {"Paid": ["Paid", "Published", "$9", "3", "1", "1 waiting", instructor.full_name],
                     "Empty": ["Empty", "Published", "Free", "0", "0", "—", instructor.full_name]}
    assert listed.rights[empty.id].actions == ()


def test_publishing_needs_a_lesson(db, instructor):
    course = new_course(db, instructor)
    with pytest.raises(Conflict, match="at least one lesson"):
        authoring.set_published(db, instructor, course.id, True)
    module = authoring.add_module(db, instructor, course.id, "Basics")
    authoring.add_lesson(db, instructor, module.id, LessonForm(title="SELECT"))
    assert authoring.set_published(db, instructor, course.id, True).is_published


def test_deleting_the_last_lesson_unpublishes(db, instructor):
    course = new_course(db, instructor)
    module = authoring.add_module(db, instructor, course.id, "Basics")
    lesson = authoring.add_lesson(db, instructor, module.id, LessonForm(title="Only lesson"))
    authoring.set_published(db, instructor, course.id, True)
    authoring.delete_lesson(db, instructor, lesson.id)
    db.commit()
    db.refresh(course)
    assert course.is_published is False


def test_modules_and_lessons_are_added_in_order_and_can_be_moved(db, instructor):
    course = new_course(db, instructor, slug="ordering")
    first = authoring.add_module(db, instructor, course.id, "First")
    second = authoring.add_module(db, instructor, course.id, "Second")
    a = authoring.add_lesson(db, instructor, first.id, LessonForm(title="A"))
    authoring.add_lesson(db, instructor, first.id, LessonForm(title="B"))
    authoring.add_lesson(db, instructor, first.id, LessonForm(title="C"))
    authoring.move_lesson(db, instructor, a.id, 1)
    authoring.move_module(db, instructor, second.id, -1)
    authoring.move_module(db, instructor, second.id, -1)  # already first: nothing happens
    db.commit()
    outline = course_outline(db, "ordering", instructor)
    assert [m.title for m in outline.modules] == ["Second", "First"]
    assert [lesson.title for lesson in outline.lessons] == ["B", "A", "C"]


def test_lessons_validate_kind_video_address_and_duration(db, instructor):
    course = new_course(db, instructor)
    module = authoring.add_module(db, instructor, course.id, "Basics")
    with pytest.raises(Invalid) as refused:
        authoring.add_lesson(db, instructor, module.id, LessonForm(
            title="Clip", kind="video", video_url="http://insecure.example", duration_minutes="x"))
    assert set(refused.value.errors) == {"video_url", "duration_minutes"}
    lesson = authoring.add_lesson(db, instructor, module.id, LessonForm(
        title="Clip", kind="video", video_url="https://cdn.example/clip.mp4", duration_minutes="7"))
    assert (lesson.kind, lesson.duration_minutes) == (LessonKind.VIDEO, 7)
    authoring.update_lesson(db, instructor, lesson.id, LessonForm(title="Now text", kind="text",
                                                                 video_url="https://x.example"))
    db.commit()
    db.refresh(lesson)
    assert (lesson.title, lesson.kind, lesson.video_url) == ("Now text", LessonKind.TEXT, "")


def test_deleting_a_module_deletes_its_lessons(db, instructor):
    course = make_course(db, instructor, lessons_per_module=(2, 1))
    module_id = course_outline(db, course.slug, instructor).modules[0].id
    authoring.delete_module(db, instructor, module_id)
    db.commit()
    assert len(db.exec(select(Lesson)).all()) == 1


def test_unknown_ids_are_not_found_for_staff_and_refused_for_students(db, instructor):
    with pytest.raises(NotFound):
        authoring.add_lesson(db, instructor, 424242, LessonForm(title="x"))
    with pytest.raises(PermissionDenied):
        authoring.add_lesson(db, make_user(db), 424242, LessonForm(title="x"))
