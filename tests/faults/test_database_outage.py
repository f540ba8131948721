"""PostgreSQL unreachable: the web answers 503 with Retry-After, and recovers by itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from gateway.store.db import db_of
from gateway.store.models import Survey
from tests.faults.tcp_proxy import TcpProxy
from tests.sms.support import Gateway, make_gateway
from tests.support.workers import empty_tables

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


@pytest.fixture
def proxy(migrated_postgres_url: str) -> Iterator[TcpProxy]:
    url = sa.make_url(migrated_postgres_url)
    server = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    server.start()
    yield server
    server.cut()


@pytest.fixture
def gateway(migrated_postgres_url: str, proxy: TcpProxy) -> Iterator[Gateway]:
    url = sa.make_url(migrated_postgres_url).set(host="127.0.0.1", port=proxy.port)
    gw = make_gateway(url.render_as_string(hide_password=False))
    yield gw
    db_of(gw.app).dispose()
    empty_tables(migrated_postgres_url)


def test_an_api_request_during_an_outage_is_told_to_retry_and_one_after_it_succeeds(
    gateway: Gateway, proxy: TcpProxy
) -> None:
    gateway.trigger(to="+12025550181")
    proxy.cut()
    during = gateway.client.post(
        "/api/v1/surveys",
        json={"flow": "clinic-visit", "channel": "sms", "to": "+12025550182"},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    assert during.status_code == 503
    assert during.headers["Retry-After"] == "5"
    assert during.get_json()["error"]["code"] == "database_unavailable"

    proxy.restore()
    gateway.trigger(to="+12025550183")
    contacts = sorted(s.contact for s in gateway.rows(Survey))
    assert contacts == ["+12025550181", "+12025550183"]


def test_readiness_fails_during_an_outage_and_passes_after_it(
    gateway: Gateway, proxy: TcpProxy
) -> None:
    assert gateway.client.get("/readyz").status_code == 200
    proxy.cut()
    assert gateway.client.get("/readyz").get_json()["failed"] == ["database"]
    proxy.restore()
    assert gateway.client.get("/readyz").status_code == 200
