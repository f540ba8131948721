"""The PostgreSQL and Redis servers the tests use: the configured ones when they answer,
else throwaway servers of the test run's own, started from the installed programs.

``TEST_POSTGRES_URL`` and ``TEST_REDIS_URL`` name the configured servers (by default the
machine's, on 127.0.0.1). When one does not answer, :func:`services_for_tests` starts a private
server on a free port (never touching the machine's own), points the run at it, and stops
and removes it when the run ends. When the server programs are not installed either, it
says which Debian package brings them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError

from tests.faults.private_postgres import PrivatePostgres, server_binaries
from tests.faults.private_redis import PrivateRedis

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES_PACKAGE = "postgresql"
REDIS_PACKAGE = "redis-server"


def postgres_answers(url: str) -> str | None:
    """None when PostgreSQL at ``url`` accepts a connection, else why not."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except sa.exc.OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    finally:
        engine.dispose()


def redis_answers(url: str) -> str | None:
    """None when Redis at ``url`` answers PING, else why not."""
    try:
        with Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3) as probe:
            probe.ping()
        return None
    except RedisError as exc:
        return str(exc)


@dataclass
class Services:
    """The servers of one test run, and what was done to have them."""

    postgres_url: str
    redis_url: str
    #: One line per service: which server the run uses, or why it has none.
    notes: list[str] = field(default_factory=list)
    #: Services neither answering nor startable here: name -> what to install.
    missing: dict[str, str] = field(default_factory=dict)
    _postgres: PrivatePostgres | None = None
    _redis: PrivateRedis | None = None
    _redis_dir: Path | None = None

    def stop(self) -> None:
        """Stop and remove the private servers this run started (none of the machine's)."""
        if self._postgres is not None:
            self._postgres.remove()
            self._postgres = None
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        if self._redis_dir is not None:
            shutil.rmtree(self._redis_dir, ignore_errors=True)
            self._redis_dir = None


def services_for_tests() -> Services:
    """The servers to test against, private ones started where the configured ones are
    silent; sets ``TEST_POSTGRES_URL`` and ``TEST_REDIS_URL`` for the programs the tests
    start. Private servers are stopped at exit at the latest."""
    services = Services(
        postgres_url=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        redis_url=os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL),
    )
    atexit.register(services.stop)
    _postgres(services)
    _redis(services)
    os.environ["TEST_POSTGRES_URL"] = services.postgres_url
    os.environ["TEST_REDIS_URL"] = services.redis_url
    return services


def _postgres(services: Services) -> None:
    configured = services.postgres_url
    why = postgres_answers(configured)
    if why is None:
        services.notes.append(f"PostgreSQL: {_shown(configured)}")
        return
    if server_binaries() is None:
        services.missing["postgres"] = (
            f"PostgreSQL does not answer at {_shown(configured)} ({why}) and its server "
            f"programs (initdb, pg_ctl) are not installed: apt-get install {POSTGRES_PACKAGE}"
        )
        services.notes.append(services.missing["postgres"])
        return
    server = PrivatePostgres()
    server.init()
    server.start()
    services._postgres = server
    services.postgres_url = server.url
    services.notes.append(
        f"PostgreSQL: a private server on port {server.port} for this run"
        f" (none answers at {_shown(configured)}: {why})"
    )


def _redis(services: Services) -> None:
    configured = services.redis_url
    why = redis_answers(configured)
    if why is None:
        services.notes.append(f"Redis: {configured}")
        return
    directory = Path(tempfile.mkdtemp(prefix="gateway-redis-"))
    try:
        server = PrivateRedis(directory)
    except RuntimeError:
        directory.rmdir()
        services.missing["redis"] = (
            f"Redis does not answer at {configured} ({why}) and redis-server is not"
            f" installed: apt-get install {REDIS_PACKAGE}"
        )
        services.notes.append(services.missing["redis"])
        return
    server.start()
    services._redis, services._redis_dir = server, directory
    services.redis_url = server.url
    services.notes.append(
        f"Redis: a private server on port {server.port} for this run"
        f" (none answers at {configured}: {why})"
    )


def _shown(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)
