"""The tests' servers: a configured server that answers is used as it is; one that does not
is replaced by a private throwaway server; without the server programs the run says which
Debian package to install."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis

from tests import private_services
from tests.faults.private_redis import free_port
from tests.private_services import Services


def silent_urls() -> Services:
    """URLs where nothing listens (a port just found free)."""
    port = free_port()
    return Services(
        postgres_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/test",
        redis_url=f"redis://127.0.0.1:{port}/0",
    )


def test_a_silent_redis_is_replaced_by_a_private_server_stopped_at_the_end() -> None:
    services = silent_urls()
    silent = services.redis_url
    private_services._redis(services)
    try:
        assert services.redis_url != silent
        with Redis.from_url(services.redis_url) as client:
            assert client.ping()
        assert services.notes[-1].startswith("Redis: a private server on port")
        assert not services.missing
    finally:
        services.stop()
    assert private_services.redis_answers(services.redis_url) is not None


@pytest.mark.skipif(
    private_services.server_binaries() is None, reason="PostgreSQL's server is not installed"
)
def test_a_silent_postgres_is_replaced_by_a_private_server_removed_at_the_end() -> None:
    services = silent_urls()
    private_services._postgres(services)
    try:
        assert private_services.postgres_answers(services.postgres_url) is None
        assert services.notes[-1].startswith("PostgreSQL: a private server on port")
        server = services._postgres
        assert server is not None
        root = server.root
    finally:
        services.stop()
    assert not Path(root).exists()


def test_without_the_postgres_programs_the_package_to_install_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(private_services, "server_binaries", lambda: None)
    services = silent_urls()
    private_services._postgres(services)
    assert "apt-get install postgresql" in services.missing["postgres"]
    assert "does not answer at" in services.missing["postgres"]


def test_without_redis_server_the_package_to_install_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tests.faults.private_redis.shutil.which", lambda name: None)
    services = silent_urls()
    private_services._redis(services)
    assert "apt-get install redis-server" in services.missing["redis"]
