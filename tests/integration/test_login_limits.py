"""The log-in limit holds across backend processes: attempts spread over two workers sharing Redis
count in one window, and a crafted flood over the WebSocket gets the same refusal as a browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from academy_app.demo import DEMO_PASSWORD
from academy_app.state.account import AccountFormState
from tests.appserver import RunningApp, two_backends
from tests.wsclient import ReflexTab, handler_name, handoff_ticket, run

REDIS_URL = "redis://127.0.0.1:6379/11"
PER_MINUTE = 5  # the production default, which the other server tests raise


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory,
                postgres) -> Iterator[tuple[RunningApp, RunningApp]]:
    with two_backends(tmp_path_factory, postgres.create_database(), REDIS_URL,
                      {"ACADEMY_LOGIN_ATTEMPTS_PER_MINUTE": str(PER_MINUTE)}) as workers:
        yield workers


async def attempt(app: RunningApp, email: str, password: str) -> str:
    tab = ReflexTab(app.url)
    await tab.connect()
    await tab.open("/login")
    replies = await tab.send(handler_name(AccountFormState, "login"),
                             {"form_data": {"email": email, "password": password}})
    await tab.close()
    return "logged in" if handoff_ticket(replies) else ReflexTab.var(replies, "form_error")


def test_attempts_on_two_workers_share_one_window(two_workers):
    a, b = two_workers

    async def scenario() -> list[str]:
        answers = [await attempt((a, b)[n % 2], "student@academy.test", "guess-guess-guess")
                   for n in range(PER_MINUTE)]
        # The right password, on either worker, once the window is full.
        answers.append(await attempt(a, "student@academy.test", DEMO_PASSWORD))
        answers.append(await attempt(b, "student@academy.test", DEMO_PASSWORD))
        return answers

    answers = run(scenario())
    assert answers[:PER_MINUTE] == ["Email or password is incorrect"] * PER_MINUTE
    assert all(answer.startswith("Too many log-in attempts: try again in")
               for answer in answers[PER_MINUTE:]), answers
    log = a.log_text() + b.log_text()
    assert "login refused by rate limit" in log
