"""PostgreSQL restarted for real (a private server stopped and started while the web
serves): requests during the restart are told to retry (503, Retry-After), the web
recovers by itself, and what was committed before the restart is all there after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.store.db import db_of, upgrade
from gateway.store.models import Survey
from tests.faults.private_postgres import PrivatePostgres, server_binaries
from tests.sms.support import Gateway, make_gateway

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(server_binaries() is None, reason="PostgreSQL's server is not installed"),
]


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.init()
    server.start()
    upgrade(server.url)
    yield server
    server.remove()


@pytest.fixture
def gateway(postgres: PrivatePostgres) -> Iterator[Gateway]:
    if not postgres.is_running():  # a test that failed midway left it stopped
        postgres.start()
    gw = make_gateway(postgres.url)
    yield gw
    db_of(gw.app).dispose()


def trigger(gateway: Gateway, to: str) -> tuple[int, dict[str, str], dict[str, object]]:
    response = gateway.client.post(
        "/api/v1/surveys",
        json={"flow": "clinic-visit", "channel": "sms", "to": to},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    return response.status_code, dict(response.headers), response.get_json()


def test_during_a_restart_the_api_says_retry_and_after_it_nothing_is_lost(
    gateway: Gateway, postgres: PrivatePostgres
) -> None:
    before, _, accepted = trigger(gateway, "+12025550181")
    assert before == 202

    postgres.stop()
    status, headers, body = trigger(gateway, "+12025550182")
    assert (status, headers["Retry-After"]) == (503, "5")
    assert body["error"]["code"] == "database_unavailable"  # type: ignore[index]
    ready = gateway.client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["failed"] == ["database"]

    postgres.start()
    assert gateway.client.get("/readyz").status_code == 200  # no restart of the web needed
    after, _, _ = trigger(gateway, "+12025550183")
    assert after == 202
    surveys = {s.contact: s for s in gateway.rows(Survey)}
    assert sorted(surveys) == ["+12025550181", "+12025550183"]
    assert surveys["+12025550181"].id == accepted["id"]


def test_a_respondents_text_during_a_restart_is_answered_503_and_one_after_it_200(
    gateway: Gateway, postgres: PrivatePostgres
) -> None:
    postgres.stop()
    during = gateway.text("4")
    assert during.status_code == 503 and during.headers["Retry-After"] == "5"
    postgres.start()
    assert gateway.text("4").status_code == 200
