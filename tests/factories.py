"""Test data built through the services wherever a service exists for it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from academy_app.models import (
    Category,
    Course,
    CourseLevel,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonKind,
    Module,
    Role,
    User,
)
from academy_app.services.accounts import SignupForm, register, start_session

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)


def make_user(db: Session, role: Role = Role.STUDENT, email: str | None = None,
              name: str = "Test Learner") -> User:
    email = email or f"user{next(_sequence)}@example.com"
    user = register(db, SignupForm(full_name=name, email=email, password=PASSWORD), role=role)
    db.commit()
    return user


def make_course(db: Session, instructor: User, *, title: str = "Course", slug: str | None = None,
                lessons_per_module: tuple[int, ...] = (2, 2), price_cents: int = 0,
                published: bool = True, level: CourseLevel = CourseLevel.BEGINNER,
                category: Category | None = None, subtitle: str = "",
                description: str = "") -> Course:
    """Course authoring has no service yet (it arrives with the instructor workspace)."""
    course = Course(slug=slug or f"course-{next(_sequence)}", title=title, subtitle=subtitle,
                    description=description, level=level, price_cents=price_cents,
                    is_published=published, instructor_id=instructor.id,
                    category_id=category.id if category else None)
    db.add(course)
    db.flush()
    # Positions are added in reverse so the tests prove ordering comes from `position`, not ids.
    for m_index in reversed(range(len(lessons_per_module))):
        module = Module(course_id=course.id, title=f"Module {m_index + 1}", position=m_index)
        db.add(module)
        db.flush()
        for l_index in reversed(range(lessons_per_module[m_index])):
            db.add(Lesson(module_id=module.id, title=f"Lesson {m_index + 1}.{l_index + 1}",
                          kind=LessonKind.VIDEO if l_index == 0 else LessonKind.TEXT,
                          body=f"Body of lesson {m_index + 1}.{l_index + 1}", position=l_index))
    db.commit()
    return course


def logged_in_learners(db: Session, course_id: int, count: int,
                       label: str = "learner") -> list[tuple[User, str]]:
    """`count` learners enrolled in the course, each with a login session: (user, the login
    cookie's value). Made in bulk (no password: they never log in through the form), for the
    benchmarks and drills that need many socket clients."""
    learners = [User(email=f"{label}-{i}@example.com", full_name=f"{label.title()} {i}",
                     password_hash="!", role=Role.STUDENT) for i in range(count)]
    db.add_all(learners)
    db.flush()
    db.add_all(Enrollment(user_id=user.id, course_id=course_id, status=EnrollmentStatus.ACTIVE)
               for user in learners)
    tokens = [start_session(db, user) for user in learners]
    db.commit()
    return list(zip(learners, tokens, strict=True))


def make_category(db: Session, name: str) -> Category:
    category = Category(name=name, slug=name.lower())
    db.add(category)
    db.commit()
    return category


def race(engine: Engine, count: int, action: Callable[[Session, int], object]) -> list[BaseException]:
    """Run `action` in `count` threads released at the same moment, each with its own session and
    transaction, and return the errors they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                action(session, index)
                session.commit()
            except BaseException as exc:
                session.rollback()
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
