"""The least any Reflex app must do, as a floor for Academy's figures.

- Push: one state var, set from a Redis pub/sub listener through `app.modify_state`, to a connected
  tab (bench/realtime.py measures it beside Academy's bus).
- Event: a counter whose handler only adds one (bench/learning.py measures it beside Academy's
  "mark as complete"): the state manager's lock, load, save and the delta, and nothing else.
- Write: a handler that inserts one row into PostgreSQL in its own transaction (BARE_DATABASE_URL)
  and counts it: the least any handler that saves something must do, as a fairer floor for
  "mark as complete" than the counter."""

from __future__ import annotations

import asyncio
import json
import os
from functools import cache

import redis.asyncio as aioredis
import reflex as rx
import sqlalchemy as sa

CHANNEL = "bare:push"
ROWS = sa.Table("bare_rows", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("tab", sa.String(64), nullable=False))


class PushState(rx.State):
    value: int = 0


class CounterState(rx.State):
    count: int = 0

    @rx.event
    def increment(self) -> None:
        self.count += 1


@cache
def engine() -> sa.Engine:
    created = sa.create_engine(os.environ["BARE_DATABASE_URL"], pool_size=10, max_overflow=20)
    ROWS.create(created, checkfirst=True)
    return created


class RowState(rx.State):
    rows: int = 0

    @rx.event
    def record(self) -> None:
        with engine().begin() as connection:
            connection.execute(ROWS.insert().values(tab=self.router.session.client_token))
        self.rows += 1


def index() -> rx.Component:
    return rx.vstack(rx.text(PushState.value),
                     rx.button(CounterState.count, on_click=CounterState.increment),
                     rx.button(RowState.rows, on_click=RowState.record))


app = rx.App()
app.add_page(index)


async def _push(token: str, value: int) -> None:
    async with app.modify_state(rx.BaseStateToken(ident=token, cls=PushState)) as root:
        (await root.get_state(PushState)).value = value


async def listen() -> None:
    client = aioredis.Redis.from_url(os.environ["REFLEX_REDIS_URL"])
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(CHANNEL)
    manager = app.event_namespace._token_manager
    async for message in pubsub.listen():
        data = json.loads(message["data"])
        held = [t for t in data["tokens"] if (record := manager.token_to_socket.get(t)) is not None
                and record.instance_id == manager.instance_id]
        await asyncio.gather(*(_push(token, data["value"]) for token in held))


app.register_lifespan_task(listen)
