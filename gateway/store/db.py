"""The database handle: an engine, a session factory and the Alembic migrations.

``init_app`` attaches a :class:`Database` to the Flask app; code that holds the app reaches
it with :func:`db_of`, and code that does not (jobs, commands) builds one from settings.

SQLite databases (the embedded default) are migrated when the app starts, so that
``gateway run`` works with nothing configured. PostgreSQL is migrated only by
``gateway db upgrade`` (the Procfile's release step): several web workers starting at once
must not race each other through the same migration.
"""

from __future__ import annotations

import fcntl
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from gateway.store.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
ALEMBIC_INI = MIGRATIONS_DIR / "alembic.ini"


def normalize_url(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver.

    Hosting platforms hand out ``postgres://`` URLs, which SQLAlchemy does not accept, and
    plain ``postgresql://`` would select psycopg2, which is not installed.
    """
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def is_sqlite(url: str) -> bool:
    return sa.make_url(normalize_url(url)).get_backend_name() == "sqlite"


def _sqlite_file(url: sa.URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside the writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: A pooled connection idle for longer than this is checked before it is handed out.
IDLE_PING_SECONDS = 10.0


def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection only after it sat idle: a busy worker reuses connections many times
    a second, and a ping on each checkout would be one more round trip per request. A
    connection the server dropped (restart, idle timeout) is replaced, not handed out."""
    checked_in = record.info.get("checked_in")
    if checked_in is None or time.monotonic() - checked_in < IDLE_PING_SECONDS:
        return  # a new connection, or one in use a moment ago
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()  # hand the connection out idle, not inside the ping's
    except Exception as exc:
        raise DisconnectionError(f"pooled connection is gone: {exc}") from exc


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; for SQLite the file's directory is created when missing.

    Statement parameters are hidden from SQLAlchemy's errors and logs: they hold message
    bodies, answers, contacts and filter values, and an error message ends up in the logs.
    """
    parsed = sa.make_url(normalize_url(url))
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 15})
        engine = sa.create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    engine = sa.create_engine(parsed, **kwargs)
    event.listen(engine, "checkin", _on_checkin)
    event.listen(engine, "checkout", _on_checkout)
    return engine


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """Alembic's configuration, independent of the working directory.

    ``connection`` (when given) is used as is; otherwise ``url``, otherwise ``DATABASE_URL``.
    """
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = normalize_url(url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` to the database at ``url``."""
    database = Database(url)
    try:
        database.upgrade(revision)
    finally:
        database.dispose()


class Database:
    """An engine and its session factory; ``read_timeout`` is the seconds one statement of
    a read-heavy request may run (:mod:`gateway.store.slow_reads`; 0: no limit)."""

    def __init__(self, url: str, read_timeout: float = 0.0, **engine_kwargs: Any) -> None:
        self.url = normalize_url(url)
        self.read_timeout = read_timeout
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back when it raises."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        """Apply the migrations through this engine (its SQLite pragmas included).

        For a SQLite file, processes starting together (gunicorn workers) take turns on a
        lock file beside it, so one migrates and the others find it done.
        """
        path = _sqlite_file(self.engine.url) if self.is_sqlite else None
        if path is None:
            self._upgrade(revision)
            return
        with open(path.with_name(path.name + ".migrate-lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._upgrade(revision)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _upgrade(self, revision: str) -> None:
        with self.engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), revision)

    def create_all(self) -> None:
        """Create the tables from the models, bypassing migrations. For tests only."""
        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Flask, settings: Settings) -> Database:
    """Attach the database to ``app`` (``app.extensions["db"]``); migrate SQLite."""
    database = Database(settings.database_url, read_timeout=settings.read_statement_timeout)
    if database.is_sqlite:
        database.upgrade()
    app.extensions["db"] = database
    # The engine lives as long as the app: when an app is discarded (tests build many),
    # its pooled connections are closed properly instead of left to the garbage collector.
    weakref.finalize(app, database.dispose)
    return database


def db_of(app: Flask) -> Database:
    database: Database = app.extensions["db"]
    return database
