"""A gateway on the reach test flows, with a clock the tests set."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

from gateway.api import batch as batch_api
from gateway.api import surveys as surveys_api
from gateway.reach.sampling import draw
from gateway.sending import quiet_hours, starters, sweeper, texts
from gateway.services import queue
from gateway.store.db import db_of
from tests.sms.support import Gateway, make_gateway

FLOWS = Path(__file__).resolve().parent / "reach_flows"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Clock:
    """The time every trigger, hold and job of the test sees."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utc("2026-11-18T15:00")  # a Wednesday, 10:00 in Washington
        for module in (surveys_api, batch_api, queue, starters, texts, sweeper, quiet_hours):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def set(self, text: str) -> None:
        self.now = utc(text)


def open_gateway(database_url: str, **overrides: Any) -> Iterator[Gateway]:
    gateway = make_gateway(database_url, flows_dir=FLOWS, **overrides)
    yield gateway
    db_of(gateway.app).dispose()


def post(gateway: Gateway, body: dict[str, Any], key: str | None = None) -> TestResponse:
    headers = {"Authorization": f"Bearer {gateway.api_key}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return gateway.client.post("/api/v1/surveys", json=body, headers=headers)


def keys(flow_id: str, rate: float, *, sampled: bool, count: int) -> list[str]:
    """Idempotency keys whose draw for ``flow_id`` falls in (``sampled``) or out of the rate."""
    found: list[str] = []
    n = 0
    while len(found) < count:
        key = f"visit-{n}"
        if (draw(flow_id, key) < rate) == sampled:
            found.append(key)
        n += 1
    return found
