"""Ids in URLs: a number no id column can hold (past INTEGER's range, zero, negative) names no row.
Our routes answer 404 and the REST API a 422 problem, never a database error (a 500), on SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from academy_app.api.routes import routes
from academy_app.api.v1.app import api
from academy_app.infra.session_cookie import SESSION_COOKIE
from academy_app.services import accounts
from academy_app.services.payments import Receipt
from academy_app.text import MAX_ID
from tests.factories import make_course
from tests.unit.test_api import V1, assert_problem, bearer, log_in
from tests.unit.test_payments import PNG, submit

PAST_BIGINT = "99999999999999999999"  # SQLite cannot even bind it
PAST_INTEGER = str(MAX_ID + 1)  # fits BIGINT, not an id column
NOT_IDS = [PAST_BIGINT, PAST_INTEGER, "0", "-1", "007x"]


@pytest.fixture
def browser(db, student) -> TestClient:
    """The student's browser, logged in (the session cookie), where a server error is a 500."""
    client = TestClient(routes, raise_server_exceptions=False)
    client.cookies.set(SESSION_COOKIE, accounts.start_session(db, student))
    db.commit()
    return client


@pytest.mark.parametrize("payment_id", NOT_IDS)
def test_a_receipt_url_whose_id_no_row_can_have_is_not_found(browser, payment_id):
    response = browser.get(f"/receipts/{payment_id}")
    assert response.status_code == 404, response.text


def test_a_receipt_url_with_a_real_id_still_serves_the_file(browser, db, student, instructor):
    course = make_course(db, instructor, title="Data", slug="data", price_cents=4900)
    payment = submit(db, student, course, receipt=Receipt(PNG))
    assert browser.get(f"/receipts/{payment.id}").content == PNG


@pytest.mark.parametrize("lesson_id", NOT_IDS)
def test_an_api_lesson_id_no_row_can_have_is_a_problem_not_a_server_error(db, student, lesson_id):
    client = TestClient(api, raise_server_exceptions=False)
    headers = bearer(log_in(client, student.email))
    for method in ("PUT", "DELETE"):
        assert_problem(client.request(method, f"{V1}/me/progress/lessons/{lesson_id}",
                                      headers=headers), 422)
