"""Alembic environment: the app's SQLModel metadata and the URL from settings (or -x url=...).

Any number of processes may run `alembic upgrade head` on one database at the same moment (`make
run`, `make worker` and a deploy's `make migrate` all do): one upgrades the schema while the others
wait for it, then find it at head and do nothing.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig

import sqlalchemy as sa
from sqlmodel import SQLModel

import academy_app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from academy_app.db import make_engine
from academy_app.settings import get_settings
from alembic import context

config = context.config
url = context.get_x_argument(as_dictionary=True).get("url") or get_settings().database_url
# Only alembic's own command line (cmd_opts set) takes its logging from alembic.ini, so that it says
# which revisions it applied; callers in a process of their own (the tests) keep their logging.
if config.cmd_opts is not None and config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

# pg_advisory_lock's key: any constant, the same in every Academy process.
MIGRATION_LOCK_KEY = 250_250_001


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=SQLModel.metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        # The caller (the tests, the benchmarks) owns this connection and the transaction around
        # it, so only the caller can hold a lock until the result is committed. It migrates a
        # throwaway database of its own.
        _run(given)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection, _one_migrator_at_a_time(connection):
            _run(connection)
    finally:
        engine.dispose()  # closing the connection also releases the lock after a failure


@contextmanager
def _one_migrator_at_a_time(connection: sa.Connection) -> Iterator[None]:
    """Hold the database's migration lock from before the current revision is read until the
    upgrade is committed, so a second migrator reads the revision the first one committed."""
    if connection.dialect.name == "postgresql":
        # A session lock, taken in a transaction of its own before the migration's begins: that
        # transaction's first snapshot is then taken after the previous holder committed, whatever
        # the isolation level. (A transaction-level lock would come after that snapshot.)
        lock = sa.select(sa.func.pg_try_advisory_lock(MIGRATION_LOCK_KEY))
        if not connection.execute(lock).scalar_one():
            log.info("Another process is migrating this database; waiting for it")
            connection.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
        connection.commit()
        yield
        connection.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
        connection.commit()
    else:
        # SQLite: the whole upgrade is one transaction, begun with BEGIN IMMEDIATE (db.make_engine),
        # which takes the database's write lock (in WAL mode as exclusive as BEGIN EXCLUSIVE) and
        # waits up to the engine's busy timeout for it. Alembic runs inside it: left to itself, it
        # commits each revision on SQLite, and another migrator could read the revision in between.
        with connection.begin():
            yield


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=SQLModel.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
