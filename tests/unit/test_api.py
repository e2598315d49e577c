"""The REST API under /api/v1: tokens, the same rules as the pages, problem bodies, request limits,
and Schemathesis against its own OpenAPI document. In process (Starlette's TestClient), on SQLite
and PostgreSQL, with Redis where limits are shared."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select, update
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from academy_app.api.v1 import tokens
from academy_app.api.v1.app import api, rest_api
from academy_app.infra import ratelimit
from academy_app.infra.security_headers import security_headers
from academy_app.models import Certificate, LessonProgress, LoginSession, Role, User, utcnow
from academy_app.services import accounts, enrollment, users
from academy_app.services.catalog import course_outline
from academy_app.settings import Settings, get_settings
from tests.appserver import TEST_ISSUER_KEY
from tests.factories import PASSWORD, make_course, make_user

LIVE_REDIS = "redis://127.0.0.1:6379/7"
V1 = "/api/v1"


@pytest.fixture
def client(db) -> TestClient:
    return TestClient(api)


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Python", slug="python")


@pytest.fixture
def draft(db, instructor):
    return make_course(db, instructor, title="Secret plans", slug="secret-plans", published=False)


@pytest.fixture
def enrolled(db, student, course):
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    return student


@pytest.fixture
def shared_redis(monkeypatch) -> str:
    try:
        redis.Redis.from_url(LIVE_REDIS).flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {LIVE_REDIS}: {exc}. Run `make services`.")
    monkeypatch.setattr(get_settings(), "redis_url", LIVE_REDIS)
    ratelimit.limiter.cache_clear()
    yield LIVE_REDIS
    ratelimit.limiter.cache_clear()


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> dict:
    response = client.post(f"{V1}/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(pair: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def lesson_ids(engine: Engine, slug: str) -> list[int]:
    with Session(engine) as session:
        return [lesson.id for lesson in course_outline(session, slug, None).lessons]


def count(engine: Engine, table, *where) -> int:
    """In a session of its own: the test's `db` session must not hold SQLite's write lock while
    the API writes."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


# --- tokens -------------------------------------------------------------------------------------

def test_a_token_pair_opens_the_learners_own_records(client, enrolled):
    pair = log_in(client, enrolled.email)
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 15 * 60
    assert pair["refresh_expires_in"] > 13 * 24 * 3600  # a login's lifetime (ACADEMY_SESSION_DAYS)
    response = client.get(f"{V1}/me/enrollments", headers=bearer(pair))
    assert response.status_code == 200
    assert [(e["course_slug"], e["status"], e["percent"]) for e in response.json()] == [
        ("python", "active", 0)]


def test_wrong_password_and_unknown_email_get_the_same_401(client, student):
    answers = [client.post(f"{V1}/auth/token", json={"email": email, "password": "not-the-one-123"})
               for email in (student.email, "nobody@example.com")]
    assert [assert_problem(a, 401)["detail"] for a in answers] == ["Email or password is incorrect"] * 2


def test_the_log_in_pages_limits_apply_to_the_token_endpoint(client, student, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_attempts_per_minute", 2)
    for _ in range(2):
        client.post(f"{V1}/auth/token", json={"email": student.email, "password": "wrong-password-1"})
    refused = client.post(f"{V1}/auth/token", json={"email": student.email, "password": PASSWORD})
    assert "Too many log-in attempts" in assert_problem(refused, 429)["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_failures_at_the_token_endpoint_make_their_address_wait(client, student, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_attempts_per_minute", 100)
    for _ in range(accounts.FREE_FAILURES):
        client.post(f"{V1}/auth/token", json={"email": student.email, "password": "wrong-password-1"})
    refused = client.post(f"{V1}/auth/token", json={"email": student.email, "password": PASSWORD})
    assert "Too many log-in attempts: try again in" in assert_problem(refused, 429)["detail"]
    assert refused.headers["retry-after"] == "1"
    elsewhere = TestClient(api, client=("198.51.100.20", 50000))  # the owner, from another address
    assert elsewhere.post(f"{V1}/auth/token",
                          json={"email": student.email, "password": PASSWORD}).status_code == 200


def test_refreshing_rotates_and_a_reused_refresh_token_ends_the_login(client, engine, student):
    first = log_in(client, student.email)
    second = client.post(f"{V1}/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get(f"{V1}/me/enrollments", headers=bearer(second)).status_code == 200
    assert count(engine, LoginSession) == 1  # rotation keeps one row per login

    # The first refresh token again (a thief's copy, say): the whole login ends, for both.
    replay = client.post(f"{V1}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert "already used" in assert_problem(replay, 401)["detail"]
    assert replay.headers["www-authenticate"] == "Bearer"
    assert_problem(client.post(f"{V1}/auth/refresh",
                               json={"refresh_token": second["refresh_token"]}), 401)
    assert_problem(client.get(f"{V1}/me/enrollments", headers=bearer(second)), 401)
    assert count(engine, LoginSession) == 0


def test_refresh_tokens_are_stored_only_as_keyed_hashes(client, engine, student):
    pair = log_in(client, student.email)
    with Session(engine) as session:
        stored = session.exec(select(LoginSession.token_hash)).one()
    jti = jwt.decode(pair["refresh_token"], options={"verify_signature": False})["jti"]
    assert jti not in stored and pair["refresh_token"] not in stored
    # Not a browser session either: no cookie value hashes to it.
    for candidate in (jti, pair["refresh_token"], f"refresh:{jti}"):
        with Session(engine) as session:
            assert accounts.user_for_token(session, candidate) is None


def test_log_out_ends_the_refresh_and_access_tokens_at_once(client, student):
    pair = log_in(client, student.email)
    for _ in range(2):  # idempotent
        assert client.post(f"{V1}/auth/logout",
                           json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert_problem(client.get(f"{V1}/me/enrollments", headers=bearer(pair)), 401)
    assert_problem(client.post(f"{V1}/auth/refresh",
                               json={"refresh_token": pair["refresh_token"]}), 401)
    assert client.post(f"{V1}/auth/logout", json={"refresh_token": "junk"}).status_code == 204


def test_log_out_everywhere_ends_api_logins_too(client, db, student):
    pair = log_in(client, student.email)
    assert accounts.end_all_sessions(db, student) == 1
    db.commit()
    assert_problem(client.post(f"{V1}/auth/refresh",
                               json={"refresh_token": pair["refresh_token"]}), 401)
    assert_problem(client.get(f"{V1}/me/enrollments", headers=bearer(pair)), 401)


def test_a_deactivated_user_can_neither_refresh_nor_call_nor_log_in(client, db, engine, student):
    admin = make_user(db, Role.ADMIN)
    pair = log_in(client, student.email)
    users.set_active(db, admin, student.id, False)
    db.commit()
    assert_problem(client.post(f"{V1}/auth/refresh",
                               json={"refresh_token": pair["refresh_token"]}), 401)
    assert_problem(client.get(f"{V1}/me/enrollments", headers=bearer(pair)), 401)
    assert_problem(client.post(f"{V1}/auth/token",
                               json={"email": student.email, "password": PASSWORD}), 401)

    # Even with its login row still there, the account's flag alone refuses both tokens.
    users.set_active(db, admin, student.id, True)
    db.commit()
    pair = log_in(client, student.email)
    with Session(engine) as session:
        session.exec(update(User).where(User.id == student.id).values(is_active=False))
        session.commit()
    assert_problem(client.post(f"{V1}/auth/refresh",
                               json={"refresh_token": pair["refresh_token"]}), 401)
    assert_problem(client.get(f"{V1}/me/enrollments", headers=bearer(pair)), 401)


def test_an_idle_api_login_ends_like_a_browser_login(client, engine, student):
    pair = log_in(client, student.email)
    idle = timedelta(minutes=get_settings().session_idle_minutes + 1)
    with Session(engine) as session:
        session.exec(update(LoginSession).values(last_seen_at=utcnow() - idle))
        session.commit()
    assert_problem(client.post(f"{V1}/auth/refresh",
                               json={"refresh_token": pair["refresh_token"]}), 401)


def test_tokens_are_refused_when_forged_expired_or_of_the_other_kind(client, student, monkeypatch):
    pair = log_in(client, student.email)
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "somebody-elses-key-of-32-bytes-at-least", "HS256")
    assert_problem(client.get(f"{V1}/me/enrollments",
                              headers={"Authorization": f"Bearer {forged}"}), 401)
    assert_problem(client.get(f"{V1}/me/enrollments",
                              headers={"Authorization": f"Bearer {pair['refresh_token']}"}), 401)
    assert_problem(client.post(f"{V1}/auth/refresh",
                               json={"refresh_token": pair["access_token"]}), 401)
    assert_problem(client.get(f"{V1}/me/enrollments"), 401)

    monkeypatch.setattr(tokens, "ACCESS_LIFETIME", timedelta(seconds=-1))
    expired = log_in(client, student.email)
    assert_problem(client.get(f"{V1}/me/enrollments", headers=bearer(expired)), 401)


# --- the same rules as the pages ----------------------------------------------------------------

def test_a_draft_is_found_by_its_staff_only(client, db, student, instructor, draft, course):
    assert_problem(client.get(f"{V1}/courses/secret-plans"), 404)
    student_pair = log_in(client, student.email)
    assert_problem(client.get(f"{V1}/courses/secret-plans", headers=bearer(student_pair)), 404)
    assert_problem(client.get(f"{V1}/me/progress/secret-plans", headers=bearer(student_pair)), 404)
    staff = client.get(f"{V1}/courses/secret-plans", headers=bearer(log_in(client, instructor.email)))
    assert staff.status_code == 200 and staff.json()["is_published"] is False
    listed = client.get(f"{V1}/courses").json()
    assert [item["slug"] for item in listed["items"]] == ["python"]


def test_a_course_outline_lists_lessons_in_order_and_the_callers_enrollment(client, engine,
                                                                            enrolled, course):
    anonymous = client.get(f"{V1}/courses/python").json()
    assert anonymous["enrollment_status"] is None
    assert [lesson["id"] for module in anonymous["modules"] for lesson in module["lessons"]] == (
        lesson_ids(engine, "python"))
    mine = client.get(f"{V1}/courses/python", headers=bearer(log_in(client, enrolled.email))).json()
    assert mine["enrollment_status"] == "active"
    assert_problem(client.get(f"{V1}/courses/python", headers={"Authorization": "Bearer junk"}), 401)


def test_a_lesson_of_a_course_not_enrolled_in_cannot_be_marked(client, engine, student, course):
    pair = log_in(client, student.email)
    first = lesson_ids(engine, "python")[0]
    refused = client.put(f"{V1}/me/progress/lessons/{first}", headers=bearer(pair))
    assert assert_problem(refused, 403)["detail"] == "Enroll in this course to track your progress"
    assert_problem(client.put(f"{V1}/me/progress/lessons/987654", headers=bearer(pair)), 404)
    assert count(engine, LessonProgress) == 0


def test_marking_a_lesson_twice_is_idempotent_and_so_is_unmarking(client, engine, enrolled, course):
    pair = log_in(client, enrolled.email)
    first = lesson_ids(engine, "python")[0]
    answers = [client.put(f"{V1}/me/progress/lessons/{first}", headers=bearer(pair)) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["course"] == {"percent": 25, "done": 1, "total": 4, "is_complete": False,
                                           "completed_lesson_ids": [first],
                                           "next_lesson_id": lesson_ids(engine, "python")[1]}
    assert count(engine, LessonProgress) == 1
    mine = client.get(f"{V1}/me/progress/python", headers=bearer(pair)).json()
    assert (mine["enrollment_status"], mine["completed_lesson_ids"]) == ("active", [first])
    for _ in range(2):
        undone = client.delete(f"{V1}/me/progress/lessons/{first}", headers=bearer(pair))
        assert undone.status_code == 200 and undone.json()["course"]["done"] == 0
    assert count(engine, LessonProgress) == 0


def test_finishing_a_course_issues_a_certificate_anyone_can_verify(client, engine, enrolled, course):
    pair = log_in(client, enrolled.email)
    for lesson_id in lesson_ids(engine, "python"):
        last = client.put(f"{V1}/me/progress/lessons/{lesson_id}", headers=bearer(pair)).json()
    assert last["course"]["is_complete"] is True
    enrollments = client.get(f"{V1}/me/enrollments", headers=bearer(pair)).json()
    assert [(e["status"], e["percent"]) for e in enrollments] == [("completed", 100)]
    with Session(engine) as session:
        code = session.exec(select(Certificate.code)).one()
    checked = client.get(f"{V1}/certificates/{code.lower()}")  # anonymous, case forgiven
    assert checked.status_code == 200
    assert (checked.json()["status"], checked.json()["course_title"]) == ("valid", "Python")
    assert_problem(client.get(f"{V1}/certificates/0000-0000-0000-0000"), 404)
    assert_problem(client.get(f"{V1}/certificates/not a code"), 404)


def test_the_catalog_takes_the_pages_query_and_refuses_what_does_not_fit(client, db, instructor):
    for n in range(5):
        make_course(db, instructor, title=f"Data {n}", slug=f"data-{n}", price_cents=100 * n)
    page = client.get(f"{V1}/courses", params={"q": "data", "price": "paid", "sort": "price_high",
                                               "per_page": 2, "page": 2}).json()
    assert (page["total"], page["pages"], page["page"], page["per_page"]) == (4, 2, 2, 2)
    assert [item["slug"] for item in page["items"]] == ["data-2", "data-1"]
    past_the_end = client.get(f"{V1}/courses", params={"per_page": 2, "page": 99}).json()
    assert past_the_end["page"] == 3 and len(past_the_end["items"]) == 1
    for bad in ({"sort": "random"}, {"page": 0}, {"per_page": 49}, {"q": "x\x00"}, {"level": "guru"}):
        body = assert_problem(client.get(f"{V1}/courses", params=bad), 422)
        assert list(body["errors"]) == [f"query.{next(iter(bad))}"]


def test_notifications_are_listed_and_marked_read(client, enrolled):
    pair = log_in(client, enrolled.email)
    mine = client.get(f"{V1}/me/notifications", headers=bearer(pair)).json()
    assert mine["unread"] == 1 and mine["items"][0]["kind"] == "enrollment.active"
    assert mine["items"][0]["read_at"] is None
    assert client.post(f"{V1}/me/notifications/read", headers=bearer(pair)).json() == {"marked": 1}
    assert client.get(f"{V1}/me/notifications", headers=bearer(pair)).json()["unread"] == 0


def test_unknown_paths_methods_and_bodies_are_problems_not_pages(client):
    assert_problem(client.get(f"{V1}/nothing-here"), 404)
    assert_problem(client.delete(f"{V1}/courses"), 405)
    body = assert_problem(client.post(f"{V1}/auth/token", content=b"{not json",
                                      headers={"Content-Type": "application/json"}), 422)
    assert body["errors"]
    # Text PostgreSQL cannot store is refused before it reaches the database, or never queried.
    assert_problem(client.post(f"{V1}/auth/token",
                               json={"email": "a\x00@example.com", "password": "p\x00" * 6}), 401)
    assert_problem(client.get(f"{V1}/courses/a%00b"), 422)


def test_the_api_is_served_under_api_v1_with_the_security_headers():
    async def pages(scope, receive, send):
        await PlainTextResponse("a page")(scope, receive, send)

    # The order academy_app.py gives Reflex's api_transformer (the upload cap aside).
    app = TestClient(security_headers(rest_api(pages)))
    spec = app.get(f"{V1}/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "Academy API"
    assert "frame-ancestors 'none'" in spec.headers["content-security-policy"]
    assert app.get("/api/v10").text == "a page"
    assert app.get("/courses").text == "a page"


def test_production_refuses_any_origin():
    with pytest.raises(ValueError, match="not '\\*'"):
        Settings(env="production", secret_key="k" * 40, credential_issuer_key=TEST_ISSUER_KEY,
                 extra_origins=["*"])


# --- request limits -----------------------------------------------------------------------------

def test_requests_over_the_hourly_limit_get_429_with_retry_after(client, db, student, shared_redis,
                                                                 monkeypatch):
    monkeypatch.setattr(get_settings(), "api_anonymous_per_hour", 3)
    monkeypatch.setattr(get_settings(), "api_authenticated_per_hour", 2)
    other = make_user(db)
    pair, others = log_in(client, student.email), log_in(client, other.email)  # anonymous: 2
    junk = {"Authorization": "Bearer junk"}
    assert client.get(f"{V1}/courses", headers=junk).status_code == 200  # a bad token: anonymous
    refused = client.get(f"{V1}/courses")
    assert_problem(refused, 429)
    assert 3500 <= int(refused.headers["retry-after"]) <= 3600

    # With a valid token the user's own window counts, wherever they call from.
    assert [client.get(f"{V1}/me/enrollments", headers=bearer(pair)).status_code
            for _ in range(3)] == [200, 200, 429]
    assert client.get(f"{V1}/me/enrollments", headers=bearer(others)).status_code == 200
    assert redis.Redis.from_url(shared_redis).zcard(f"academy:rl:api:user:{student.id}") == 2


# --- the OpenAPI document, fuzzed -----------------------------------------------------------------

# Read from the app in process, as a client would read it. (Loaded at import: Schemathesis's
# fixture-based loader does not run on pytest 9.)
schema = schemathesis.openapi.from_asgi(f"{V1}/openapi.json", api)


@pytest.fixture
def learner_token(client, enrolled, draft, monkeypatch) -> str:
    """A learner enrolled in a course, beside a draft; no request limits in the way."""
    monkeypatch.setattr(get_settings(), "api_anonymous_per_hour", 1_000_000)
    monkeypatch.setattr(get_settings(), "api_authenticated_per_hour", 1_000_000)
    return log_in(client, enrolled.email)["access_token"]


# On PostgreSQL, the stricter of the two (it refuses NUL in text, and integers past 32 bits).
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_the_openapi_documents_promises(case, learner_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {learner_token}"},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance,
                content_type_conformance])


def test_discussions_are_read_under_the_pages_rule_and_stay_anonymous(client, db, enrolled,
                                                                      course):
    import uuid

    from academy_app.services import discussions
    lesson_id = course_outline(db, course.slug, enrolled).lessons[0].id
    thread = discussions.start_thread(db, enrolled, lesson_id, kind="question", title="Stuck",
                                      body="on `loops`", anonymous=True,
                                      request_id=uuid.uuid4().hex)
    db.commit()
    peer = make_user(db, name="Pat Peer")
    outsider = make_user(db, name="Olive Outsider")
    enrollment.enroll_free(db, peer, course.id)
    db.commit()
    seen = bearer(log_in(client, peer.email))
    [row] = client.get(f"{V1}/me/lessons/{lesson_id}/threads", headers=seen).json()
    assert (row["title"], row["author"]) == ("Stuck", "Anonymous")
    detail = client.get(f"{V1}/me/threads/{thread.id}", headers=seen).json()
    assert detail["opening"]["author"] == "Anonymous" and "<code>loops</code>" in \
        detail["opening"]["body_html"]
    assert str(enrolled.full_name) not in str(detail)
    away = bearer(log_in(client, outsider.email))
    assert client.get(f"{V1}/me/lessons/{lesson_id}/threads", headers=away).status_code == 403
    assert client.get(f"{V1}/me/threads/{thread.id}", headers=away).status_code == 403

    discussions.set_thread_hidden(db, db.get(User, course.instructor_id), thread.id, True)
    db.commit()
    assert client.get(f"{V1}/me/lessons/{lesson_id}/threads", headers=seen).json() == []
    detail = client.get(f"{V1}/me/threads/{thread.id}", headers=seen).json()
    assert detail["thread"]["hidden"] and detail["thread"]["title"] == "Hidden by a moderator"
    assert "loops" not in str(detail) and "Stuck" not in str(detail)
