"""Alembic's environment: run the migrations on the connection or URL it is given.

``gateway.store.db.upgrade`` passes a connection; the ``alembic`` command line (for writing
new migrations) falls back to ``DATABASE_URL`` or the embedded SQLite default.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from config.settings import Settings
from gateway.store.db import make_engine, normalize_url
from gateway.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url") or normalize_url(Settings.from_env().database_url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


def run_offline() -> None:
    url = config.attributes.get("url") or normalize_url(Settings.from_env().database_url)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
