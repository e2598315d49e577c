"""A learner sees the open study groups of the courses they take, and only those."""

from __future__ import annotations

import pytest
from sqlmodel import select

from academy_app.models import Enrollment, EnrollmentStatus, StudyGroup
from academy_app.services import enrollment, study_groups
from academy_app.services.errors import NotAuthenticated
from tests.factories import make_course


def test_a_learner_sees_the_open_groups_of_their_courses_only(db, instructor, student):
    taken = make_course(db, instructor, title="Taken")
    other = make_course(db, instructor, title="Not taken")
    enrollment.enroll_free(db, student, taken.id)
    db.add_all([StudyGroup(name="Circle", course_id=taken.id, meeting_url="https://meet.example/c"),
                StudyGroup(name="Closed", course_id=taken.id, is_open=False),
                StudyGroup(name="Elsewhere", course_id=other.id)])
    db.commit()
    [card] = study_groups.for_learner(db, student)
    assert (card.name, card.course, card.meeting_url) == ("Circle", "Taken",
                                                          "https://meet.example/c")


def test_a_cancelled_enrollment_hides_the_groups(db, instructor, student):
    course = make_course(db, instructor)
    enrollment.enroll_free(db, student, course.id)
    db.add(StudyGroup(name="Circle", course_id=course.id))
    db.commit()
    row = db.exec(select(Enrollment)).one()
    row.status = EnrollmentStatus.CANCELLED
    db.commit()
    assert study_groups.for_learner(db, student) == []


def test_only_https_meeting_links_reach_the_page(db, instructor, student):
    course = make_course(db, instructor)
    enrollment.enroll_free(db, student, course.id)
    db.add(StudyGroup(name="Circle", course_id=course.id, meeting_url="javascript:alert(1)"))
    db.commit()
    assert study_groups.for_learner(db, student)[0].meeting_url == ""


def test_a_visitor_is_asked_to_log_in(db):
    with pytest.raises(NotAuthenticated):
        study_groups.for_learner(db, None)
