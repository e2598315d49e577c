"""Course ratings and reviews: who may review, one review per learner, editing, the staff's reply
and the averages the catalog shows. Every test runs on SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, func, select

from academy_app.models import CourseReview, Lesson, Module, Notification, Role, User
from academy_app.services import catalog, enrollment, profile, progress, reviews
from academy_app.services.catalog import CatalogQuery
from academy_app.services.errors import Invalid, NotAuthenticated, NotFound, PermissionDenied
from academy_app.settings import get_settings
from tests.factories import make_course, make_user, race
from tests.unit.test_account import picture

GOOD = "Clear lessons and useful exercises throughout."


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Python basics", lessons_per_module=(2, 3))


def lesson_ids(db: Session, course) -> list[int]:
    return list(db.exec(select(Lesson.id).join(Module).where(Module.course_id == course.id)
                        .order_by(Module.position, Lesson.position)))


def learner(db: Session, course, name: str = "Lena Learner", done: int = 2) -> User:
    """Enrolled, with the first `done` lessons of five completed (2 = 40 %)."""
    user = make_user(db, name=name)
    enrollment.enroll_free(db, user, course.id)
    for lesson_id in lesson_ids(db, course)[:done]:
        progress.set_lesson_completion(db, user, lesson_id, True)
    db.commit()
    return user


def count_reviews(db: Session) -> int:
    return db.exec(select(func.count()).select_from(CourseReview)).one()


def test_a_learner_past_the_threshold_reviews_and_it_shows_with_the_average(db, course):
    author = learner(db, course)
    reviews.save_review(db, author, course.id, 4, GOOD)
    db.commit()
    shown = reviews.course_reviews(db, author, course.slug)
    assert (shown.summary.average, shown.summary.count, shown.summary.rounded) == (4.0, 1, "4.0")
    assert [(r.author, r.rating, r.body, r.mine) for r in shown.reviews] == [
        ("Lena Learner", 4, GOOD, True)]
    assert shown.own is not None and shown.can_review and not shown.can_reply


@pytest.mark.parametrize("done", [0, 1])  # 0 % and 20 %, under the default 30 %
def test_a_learner_under_the_threshold_is_refused_and_told_what_is_needed(db, course, done):
    early = learner(db, course, done=done)
    with pytest.raises(PermissionDenied, match="completed 30% of it"):
        reviews.save_review(db, early, course.id, 5, GOOD)
    shown = reviews.course_reviews(db, early, course.slug)
    assert not shown.can_review and "30%" in shown.hint
    assert count_reviews(db) == 0


def test_the_threshold_is_a_setting(db, course, monkeypatch):
    monkeypatch.setattr(get_settings(), "review_min_percent", 0)
    reviews.save_review(db, learner(db, course, done=0), course.id, 3, GOOD)
    assert count_reviews(db) == 1


def test_strangers_staff_and_visitors_cannot_review(db, course, instructor):
    stranger = make_user(db, name="Not Enrolled")
    admin = make_user(db, Role.ADMIN, name="Ada Admin")
    with pytest.raises(PermissionDenied, match="Enroll in this course"):
        reviews.save_review(db, stranger, course.id, 5, GOOD)
    for staff in (instructor, admin):
        with pytest.raises(PermissionDenied, match="Staff of a course"):
            reviews.save_review(db, staff, course.id, 5, GOOD)
    with pytest.raises(NotAuthenticated):
        reviews.save_review(db, None, course.id, 5, GOOD)
    visitor_view = reviews.course_reviews(db, None, course.slug)
    assert not visitor_view.can_review and visitor_view.hint.startswith("Log in")
    assert count_reviews(db) == 0


def test_a_draft_or_missing_course_is_not_found(db, instructor):
    draft = make_course(db, instructor, published=False)
    someone = make_user(db)
    for course_id in (draft.id, 999_999, 2**63, "1", None):
        with pytest.raises(NotFound):
            reviews.save_review(db, someone, course_id, 5, GOOD)
    with pytest.raises(NotFound):
        reviews.course_reviews(db, someone, draft.slug)


@pytest.mark.parametrize(("rating", "body", "field"), [
    (0, GOOD, "rating"), (6, GOOD, "rating"), (True, GOOD, "rating"), ("5", GOOD, "rating"),
    (None, GOOD, "rating"), (4.5, GOOD, "rating"),
    (4, "", "body"), (4, "   Too short  ", "body"), (4, "x" * (reviews.MAX_BODY + 1), "body"),
    (4, ["not text"], "body"),
])
def test_invalid_reviews_are_refused_with_a_message_per_field(db, course, rating, body, field):
    author = learner(db, course)
    with pytest.raises(Invalid) as refused:
        reviews.save_review(db, author, course.id, rating, body)
    assert set(refused.value.errors) == {field}
    assert count_reviews(db) == 0


def test_saving_again_edits_the_one_review(db, course):
    author = learner(db, course)
    first = reviews.save_review(db, author, course.id, 2, GOOD)
    db.commit()
    again = reviews.save_review(db, author, course.id, 2, GOOD)  # a double click: no change
    assert again.id == first.id and again.edited_at is None
    edited = reviews.save_review(db, author, course.id, 5, "Better on a second read, really.")
    db.commit()
    assert edited.id == first.id and edited.edited_at is not None
    assert count_reviews(db) == 1
    assert reviews.course_reviews(db, author, course.slug).summary.average == 5.0


def test_two_tabs_posting_at_once_make_one_review(db, engine, course):
    author = learner(db, course)
    db.commit()
    errors = race(engine, 4, lambda session, i: reviews.save_review(
        session, session.get(User, author.id), course.id, 1 + i, f"{GOOD} Take {i}."))
    assert errors == []
    assert count_reviews(db) == 1


def test_the_viewers_own_review_comes_first_then_the_newest(db, course):
    first = learner(db, course, name="First Writer")
    reviews.save_review(db, first, course.id, 4, GOOD)
    reviews.save_review(db, learner(db, course, name="Second Writer"), course.id, 5, GOOD)
    db.commit()
    assert [r.author for r in reviews.course_reviews(db, None, course.slug).reviews] == [
        "Second Writer", "First Writer"]
    assert [r.author for r in reviews.course_reviews(db, first, course.slug).reviews] == [
        "First Writer", "Second Writer"]


def test_a_review_shows_its_authors_picture_and_without_one_their_initials(db, course):
    pictured = learner(db, course, name="Pia Pictured")
    profile.set_avatar(db, pictured, picture())
    reviews.save_review(db, pictured, course.id, 5, GOOD)
    reviews.save_review(db, learner(db, course, name="Noel Plain"), course.id, 4, GOOD)
    db.commit()
    url = profile.avatar_url(db.get(User, pictured.id).avatar)
    for viewer in (None, pictured):  # as a visitor sees them, and as their author does
        shown = {r.author: (r.avatar, r.initials)
                 for r in reviews.course_reviews(db, viewer, course.slug).reviews}
        assert shown == {"Pia Pictured": (url, "PP"), "Noel Plain": ("", "NP")}


def test_the_average_covers_every_review(db, course):
    for index, stars in enumerate((5, 4, 4)):
        reviews.save_review(db, learner(db, course, name=f"Learner {index}"), course.id, stars,
                            GOOD)
    db.commit()
    summary = reviews.summaries(db, [course.id])[course.id]
    assert summary.count == 3 and summary.rounded == "4.3"
    assert reviews.summaries(db, [999])[999] == reviews.RatingSummary(None, 0)


def test_only_the_courses_staff_reply_once_and_may_edit_it(db, course, instructor):
    author = learner(db, course)
    review = reviews.save_review(db, author, course.id, 3, GOOD)
    db.commit()
    other_instructor = make_user(db, Role.INSTRUCTOR, name="Other Instructor")
    for intruder in (author, learner(db, course, name="Peer"), other_instructor):
        with pytest.raises(PermissionDenied):
            reviews.save_reply(db, intruder, review.id, "Not yours to answer.")
    with pytest.raises(Invalid):
        reviews.save_reply(db, instructor, review.id, "   ")
    with pytest.raises(NotFound):
        reviews.save_reply(db, instructor, 2**63, "Thanks!")
    reviews.save_reply(db, instructor, review.id, "Thanks, more exercises are coming.")
    reviews.save_reply(db, instructor, review.id, "Thanks, more exercises came in module 3.")
    db.commit()
    shown = reviews.course_reviews(db, instructor, course.slug)
    assert shown.can_reply and not shown.can_review
    assert [(r.reply, r.reply_author) for r in shown.reviews] == [
        ("Thanks, more exercises came in module 3.", "Iris Instructor")]
    told = db.exec(select(Notification).where(Notification.user_id == author.id,
                                              Notification.kind == "review.reply")).all()
    assert len(told) == 1  # the first reply is news; its edits are not


def test_catalog_cards_carry_the_average_and_sort_by_it(db, instructor, course):
    other = make_course(db, instructor, title="Statistics", lessons_per_module=(2, 3))
    unrated = make_course(db, instructor, title="Unrated", lessons_per_module=(1,))
    reviews.save_review(db, learner(db, course), course.id, 3, GOOD)
    db.commit()
    query = CatalogQuery.parse(sort="rating")
    before = catalog.search_courses(db, query)  # cached now: the next review must refresh it
    assert before.items[0].title == "Python basics"
    reviews.save_review(db, learner(db, other, name="Fan"), other.id, 5, GOOD)
    db.commit()
    cards = catalog.search_courses(db, query).items
    assert [c.title for c in cards] == ["Statistics", "Python basics", "Unrated"]
    assert [(c.rating, c.reviews) for c in cards] == [(5.0, 1), (3.0, 1), (None, 0)]
    assert unrated.id == cards[-1].id


def test_a_changed_rating_refreshes_the_cached_cards(db, course):
    author = learner(db, course)
    reviews.save_review(db, author, course.id, 2, GOOD)
    db.commit()
    assert catalog.featured_courses(db)[0].rating == 2.0
    reviews.save_review(db, author, course.id, 4, GOOD)
    db.commit()
    assert catalog.featured_courses(db)[0].rating == 4.0
    assert db.exec(select(func.count(col(CourseReview.id)))).one() == 1
