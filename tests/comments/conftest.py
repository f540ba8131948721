"""The comments tests' gateway: SMS and web, its flow with a ``comments:`` block."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.alerts import delivery as alert_delivery
from tests.comments.support import FLOWS
from tests.sms.support import Gateway, make_gateway


@pytest.fixture
def gw(database_url: str) -> Iterator[Gateway]:
    gateway = make_gateway(
        database_url, flows_dir=FLOWS, outbound_allowlist=("https://crisis.dmv.example.gov",)
    )
    yield gateway
    alert_delivery.wait_for_background(gateway.app)
