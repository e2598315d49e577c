"""The learners table, its CSV export and the analytics staff see."""

from __future__ import annotations

import csv
import io

import pytest

from academy_app.models import Role
from academy_app.services import enrollment, payments, progress, reports
from academy_app.services.catalog import course_outline
from academy_app.services.errors import PermissionDenied
from tests.factories import make_course, make_user


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Python", slug="python")


@pytest.fixture
def learners(db, course):
    """Ann finished 3 of 4 lessons, Bob 1; Eve's name would be a formula in a spreadsheet."""
    lessons = [lesson.id for lesson in course_outline(db, "python", None).lessons]
    people = {name: make_user(db, name=name) for name in ("Ann Archer", "Bob Brown", "=cmd|x")}
    for name, done in (("Ann Archer", 3), ("Bob Brown", 1), ("=cmd|x", 0)):
        enrollment.enroll_free(db, people[name], course.id)
        for lesson_id in lessons[:done]:
            progress.set_lesson_completion(db, people[name], lesson_id, True)
    db.commit()
    return people


def test_learners_table_shows_progress_and_sorts(db, instructor, course, learners):
    rows = reports.course_learners(db, instructor, course.id, sort="percent", descending=True)
    assert [(r.name, r.percent, r.done, r.total) for r in rows] == [
        ("Ann Archer", 75, 3, 4), ("Bob Brown", 25, 1, 4), ("=cmd|x", 0, 0, 4)]
    assert [r.name for r in reports.course_learners(db, instructor, course.id, text="bob")] == [
        "Bob Brown"]


def test_csv_export_neutralises_formulas(db, instructor, course, learners):
    table = list(csv.reader(io.StringIO(reports.learners_csv(db, instructor, course.id))))
    assert table[0][:4] == ["Name", "Email", "Status", "Percent complete"]
    assert "'=cmd|x" in [row[0] for row in table[1:]]
    assert len(table) == 4


def test_only_the_courses_staff_see_its_learners_and_analytics(db, course, learners):
    for outsider in (make_user(db), make_user(db, Role.INSTRUCTOR)):
        with pytest.raises(PermissionDenied):
            reports.course_learners(db, outsider, course.id)
        with pytest.raises(PermissionDenied):
            reports.learners_csv(db, outsider, course.id)
        with pytest.raises(PermissionDenied):
            reports.course_analytics(db, outsider, course.id)


def test_analytics_count_enrollments_completions_and_approved_revenue(db, instructor, course,
                                                                      learners):
    paid = make_course(db, instructor, price_cents=2500)
    buyer = make_user(db)
    payment = payments.submit_payment(db, buyer, paid.id, reference="BANK-1")
    payments.approve_payment(db, instructor, payment.id)
    payments.submit_payment(db, make_user(db), paid.id, reference="BANK-2")  # still pending
    db.commit()

    one = reports.course_analytics(db, instructor, course.id)
    assert [step.learners for step in one.funnel] == [2, 1, 1, 0]
    assert (one.learners, sum(n for _, n in one.enrollments_by_day)) == (3, 3)
    assert len(one.enrollments_by_day) == reports.ANALYTICS_DAYS

    overall = reports.overall_analytics(db, instructor)
    assert overall.revenue_cents == {"USD": 2500}
    assert overall.learners == 5
    assert reports.overall_analytics(db, make_user(db, Role.INSTRUCTOR)).learners == 0
