"""The read cache: versioned scopes in Redis or in this process, and no stale read after a write.

Every write test warms the cache first (so a missed invalidation would serve the old value), writes
through the services and commits, then compares each cached read with the same read made with the
cache off, on SQLite and PostgreSQL, with the Redis store and the in-process one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from academy_app.db import session_scope
from academy_app.infra import cache
from academy_app.infra.cache import Cache, Entry, MemoryStore, RedisStore
from academy_app.models import Course, LessonProgress, Role, User, utcnow
from academy_app.services import authoring, catalog, enrollment, progress
from tasks.maintenance import check_cached_progress
from tests.factories import make_category, make_course, make_user

CACHE_REDIS = "redis://127.0.0.1:6379/4"


def redis_store() -> RedisStore:
    try:
        redis.Redis.from_url(CACHE_REDIS).ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {CACHE_REDIS}: {exc}. Run `make services`.")
    return RedisStore(CACHE_REDIS, namespace=f"academy:cache:test-{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[RedisStore | MemoryStore]:
    made = redis_store() if request.param == "redis" else MemoryStore()
    yield made
    made.clear()


@pytest.fixture
def shared_cache(store: RedisStore | MemoryStore) -> Cache:
    """The app's cache, on the store under test."""
    installed = Cache(store, ttl=300, describe="test cache")
    cache.use(installed)
    return installed


def test_a_write_is_read_back_until_its_scope_is_invalidated(store):
    entry = Entry("learner:1", "record")
    (found,) = store.read([entry])
    assert found.payload is None
    store.write(entry, found.version, cache.encode({"lessons": [1, 2]}), ttl=60)
    (found,) = store.read([entry])
    assert cache.decode(found.payload) == {"lessons": [1, 2]}
    store.invalidate(["learner:2"])
    assert store.read([entry])[0].payload is not None  # another scope's change leaves it alone
    store.invalidate(["learner:1"])
    assert store.read([entry])[0].payload is None


def test_a_reader_that_raced_a_writer_never_serves_what_it_read(store):
    """The reader takes the version, then (slowly) reads the database; the writer commits and
    invalidates meanwhile; what the reader stores afterwards must never be read."""
    entry = Entry("course:7", "outline")
    (before_write,) = store.read([entry])
    store.invalidate(["course:7"])  # the writer, after its commit
    store.write(entry, before_write.version, cache.encode("read before the write"), ttl=60)
    assert store.read([entry])[0].payload is None


def test_a_lost_version_costs_a_miss_and_never_revives_an_old_entry():
    """Redis may evict or expire a version key; tokens never repeat, so old entries stay dead."""
    store = redis_store()
    entry = Entry("catalog", "page-1")
    (found,) = store.read([entry])
    store.write(entry, found.version, cache.encode("page"), ttl=60)
    redis.Redis.from_url(CACHE_REDIS).delete(store.version("catalog"))
    (again,) = store.read([entry])
    assert again.payload is None and again.version != found.version
    store.clear()


def test_big_values_are_compressed_and_small_ones_are_not():
    small, big = cache.encode("x" * 100), cache.encode(list(range(5000)))
    assert small[:1] == b"p" and big[:1] == b"z"
    assert cache.decode(small) == "x" * 100 and cache.decode(big) == list(range(5000))


def test_entries_expire_after_their_time_to_live(store):
    entry = Entry("catalog", "short-lived")
    (found,) = store.read([entry])
    store.write(entry, found.version, cache.encode("soon gone"), ttl=1)
    assert store.read([entry])[0].payload is not None
    time.sleep(1.1)
    assert store.read([entry])[0].payload is None


def test_hits_and_misses_are_counted_per_kind(shared_cache: Cache, engine: Engine):
    with session_scope(engine) as session:
        for _ in range(3):
            shared_cache.get(session, Entry("catalog", "page"), lambda: "a page")
    assert (shared_cache.hits["catalog"], shared_cache.misses["catalog"]) == (2, 1)
    assert shared_cache.stats().hit_ratio == pytest.approx(2 / 3)


# --- no stale read after a write ---------------------------------------------------------------

def snapshot(engine: Engine, learner_id: int, slug: str) -> tuple:
    """What the learner pages and the catalog show, as plain data, read in a fresh session."""
    with session_scope(engine) as session:
        learner = session.get(User, learner_id)
        outline = catalog.course_outline(session, slug, learner)
        return (
            progress.dashboard(session, learner),
            (outline.course.title, outline.course.is_published, outline.instructor, outline.category,
             [(m.title, m.lessons) for m in outline.modules],
             outline.enrollment.status if outline.enrollment else None, outline.completed),
            catalog.search_courses(session, catalog.CatalogQuery.parse()),
            catalog.filter_counts(session, catalog.CatalogQuery.parse(level="beginner")),
            catalog.featured_courses(session),
        )


def uncached_snapshot(engine: Engine, learner_id: int, slug: str) -> tuple:
    installed = cache.cache()
    cache.use(Cache(None, ttl=300))
    try:
        return snapshot(engine, learner_id, slug)
    finally:
        cache.use(installed)


def test_no_write_is_followed_by_a_stale_read(shared_cache: Cache, engine: Engine, db: Session):
    instructor = make_user(db, Role.INSTRUCTOR, name="Iris Instructor")
    learner, other = make_user(db), make_user(db)
    data = make_category(db, "Data")
    course = make_course(db, instructor, title="Pandas", lessons_per_module=(2, 2), category=data)
    rival = make_course(db, instructor, title="Polars", lessons_per_module=(1,))
    slug, course_id = course.slug, course.id
    lesson_ids = [ls.id for ls in catalog.course_outline(db, slug, instructor).lessons]
    db.commit()

    def write(action: Callable[[Session], object]) -> None:
        with session_scope(engine) as session:
            action(session)

    def actor(session: Session, user: User) -> User:
        return session.get(User, user.id)

    def rename_instructor(session: Session) -> None:
        actor(session, instructor).full_name = "Iris Renamed"

    def rename_category(session: Session) -> None:
        session.get(type(data), data.id).name = "Data Science"

    def new_module_id(session: Session) -> int:
        return authoring.add_module(session, actor(session, instructor), course_id, "Extra").id

    created: dict[str, int] = {}
    writes: list[tuple[str, Callable[[Session], object]]] = [
        ("enroll", lambda s: enrollment.enroll_free(s, actor(s, learner), course_id)),
        ("complete a lesson",
         lambda s: progress.set_lesson_completion(s, actor(s, learner), lesson_ids[0], True)),
        ("complete another",
         lambda s: progress.set_lesson_completion(s, actor(s, learner), lesson_ids[3], True)),
        ("mark one undone (a bulk delete)",
         lambda s: progress.set_lesson_completion(s, actor(s, learner), lesson_ids[0], False)),
        ("another learner enrolls in the rival (popularity order)",
         lambda s: enrollment.enroll_free(s, actor(s, other), rival.id)),
        ("retitle the course", lambda s: authoring.update_course(
            s, actor(s, instructor), course_id,
            authoring.CourseForm(title="Pandas in depth", slug=slug, category="data", price="0"))),
        ("add a module", lambda s: created.setdefault("module", new_module_id(s))),
        ("add a lesson", lambda s: created.setdefault("lesson", authoring.add_lesson(
            s, actor(s, instructor), created["module"], authoring.LessonForm(title="Merge")).id)),
        ("rename the lesson", lambda s: authoring.update_lesson(
            s, actor(s, instructor), created["lesson"],
            authoring.LessonForm(title="Merge and join", duration_minutes="12"))),
        ("move a lesson", lambda s: authoring.move_lesson(s, actor(s, instructor), lesson_ids[1], -1)),
        ("rename a module", lambda s: authoring.rename_module(
            s, actor(s, instructor), created["module"], "Extras")),
        ("delete a lesson the learner completed",
         lambda s: authoring.delete_lesson(s, actor(s, instructor), lesson_ids[3])),
        ("delete a module", lambda s: authoring.delete_module(
            s, actor(s, instructor), created["module"])),
        ("unpublish", lambda s: authoring.set_published(s, actor(s, instructor), rival.id, False)),
        ("rename the instructor", rename_instructor),
        ("rename the category", rename_category),
    ]
    for what, action in writes:
        snapshot(engine, learner.id, slug)  # warm: a missed invalidation would now serve this
        write(action)
        assert snapshot(engine, learner.id, slug) == uncached_snapshot(engine, learner.id, slug), what
    assert shared_cache.stats().hits > 0


def test_a_transaction_reads_its_own_writes_and_caches_them_only_once_committed(
        shared_cache: Cache, engine: Engine, db: Session, student: User, instructor: User):
    course = make_course(db, instructor)
    student_id = student.id  # the rollback below expires the object
    db.commit()
    assert progress.dashboard(db, student) == []  # cached
    db.commit()
    enrollment.enroll_free(db, student, course.id)
    assert [entry.slug for entry in progress.dashboard(db, student)] == [course.slug]
    db.rollback()
    with session_scope(engine) as other:
        assert progress.dashboard(other, other.get(User, student_id)) == []


def test_without_a_cache_every_read_goes_to_the_database(engine: Engine, db: Session,
                                                         student: User, instructor: User):
    off = Cache(None, ttl=300)
    cache.use(off)
    course: Course = make_course(db, instructor)
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    for _ in range(2):
        assert len(progress.dashboard(db, student)) == 1
    assert (off.stats().hits, off.stats().misses, off.stats().bypassed) == (0, 0, 4)


def test_the_nightly_check_finds_and_drops_a_record_changed_behind_the_caches_back(
        shared_cache: Cache, engine: Engine, db: Session, student: User, instructor: User, caplog):
    course = make_course(db, instructor, lessons_per_module=(2,))
    enrollment.enroll_free(db, student, course.id)
    first, second = [ls.id for ls in catalog.course_outline(db, course.slug, student).lessons]
    progress.set_lesson_completion(db, student, first, True)
    db.commit()
    assert [entry.done for entry in progress.dashboard(db, student)] == [1]  # now cached
    db.commit()
    assert check_cached_progress() == 0  # the invalidation rules kept it true

    with engine.begin() as connection:  # a write no service made: the flush hook never saw it
        connection.execute(sa.insert(LessonProgress).values(
            user_id=student.id, lesson_id=second, completed_at=utcnow()))
    assert [entry.done for entry in progress.dashboard(db, student)] == [1]  # stale
    db.commit()
    assert check_cached_progress() == 1
    assert "were stale" in caplog.text
    assert [entry.done for entry in progress.dashboard(db, student)] == [2]
