"""`/readyz`: 200 when the database, Redis (when configured) and flows are there; 503
naming the failed check otherwise."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from config.settings import Settings
from gateway.app import create_app
from tests.conftest import REDIS_TEST_URL


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_ready_gateway_answers_200_with_every_check_ok(settings: Settings) -> None:
    response = create_app(settings, {"TESTING": True}).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "redis": "not configured (jobs run in the web process)",
            "flows": "ok",
        },
    }


@pytest.mark.redis
def test_a_reachable_redis_is_checked_and_reported_ok(settings: Settings) -> None:
    app = create_app(settings.with_overrides({"redis_url": REDIS_TEST_URL}), {"TESTING": True})
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["redis"] == "ok"


def test_an_unreachable_redis_makes_the_gateway_unready(settings: Settings) -> None:
    unreachable = f"redis://127.0.0.1:{closed_port()}/0"
    app = create_app(settings.with_overrides({"redis_url": unreachable}), {"TESTING": True})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.get_json()
    assert body["failed"] == ["redis"]
    assert body["checks"]["redis"].startswith("redis unreachable")


def test_an_unreachable_database_makes_the_gateway_unready(settings: Settings) -> None:
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none"
    app = create_app(settings.with_overrides({"database_url": unreachable}), {"TESTING": True})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["database"]


def test_a_gateway_with_no_flow_loaded_is_unready(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: [not a flow\n")
    app = create_app(settings.with_overrides({"flows_dir": tmp_path}), {"TESTING": True})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["flows"]
    assert "1 file(s) refused" in body["checks"]["flows"]


def test_healthz_counts_the_flows_and_names_no_flow_agency_or_file(
    settings: Settings, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-flows"
    broken.mkdir()
    for flow in settings.flows_dir.glob("*.y*ml"):
        (broken / flow.name).write_text(flow.read_text())
    (broken / "zz-secret-pilot.yaml").write_text("id: secret-pilot\nagency: [\n")
    app = create_app(settings.with_overrides({"flows_dir": broken}), {"TESTING": True})
    registry = app.extensions["flows"]
    assert registry.flows and registry.refused
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "flows": {"loaded": len(registry.flows), "refused": 1},
    }
    body = response.get_data(as_text=True)
    for flow in registry.flows.values():
        assert flow.id not in body and flow.agency not in body and flow.content_hash not in body
    assert "secret-pilot" not in body and str(tmp_path) not in body
