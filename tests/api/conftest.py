"""API fixtures: a flows directory of small test flows, two agencies with keys, and a
record of the surveys handed to the job queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.services import queue
from tests.conftest import bearer

VISIT = """\
id: office-visit
version: 1
title: {en: Office visit, es: Visita a la oficina}
agency: dmv
languages: [en, es]
channels: [sms, voice, email]
context: [office]
expires_after: 24h
questions:
  - id: satisfied
    type: rating
    prompt:
      en: How satisfied were you with the {office} office?
      es: ¿Qué tan satisfecho quedó con la oficina de {office}?
  - id: comment
    type: text
    optional: true
    prompt:
      en: Anything else?
      es: ¿Algo más?
"""

SMS_ONLY = """\
id: quick-poll
version: 2
title: Quick poll
agency: dmv
channels: [sms]
questions:
  - id: easy
    type: yesno
    prompt: Was it easy?
"""

OTHER_AGENCY = """\
id: tax-call
version: 1
title: Tax call
agency: irs
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
"""

EXPIRED_PRA = """\
id: old-form
version: 1
title: Old form
agency: dmv
pra:
  omb_control_number: "1234-5678"
  expiration_date: 2020-01-31
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
"""

FLOWS = {
    "office-visit.yaml": VISIT,
    "quick-poll.yaml": SMS_ONLY,
    "tax-call.yaml": OTHER_AGENCY,
    "old-form.yaml": EXPIRED_PRA,
}


@pytest.fixture
def flow_files() -> dict[str, str]:
    return FLOWS


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, datetime | None]]:
    """(survey id, send_at) of each survey handed to the job queue."""
    calls: list[tuple[str, datetime | None]] = []

    def record(app: Flask, survey_id: str, send_at: datetime | None) -> None:
        calls.append((survey_id, send_at))

    monkeypatch.setattr(queue, "enqueue_start", record)
    return calls


VALID = {
    "flow": "office-visit",
    "channel": "sms",
    "to": "+12025550123",
    "context": {"office": "Springfield"},
}


@pytest.fixture
def trigger(
    client: FlaskClient, dmv_key: str, enqueued: list[tuple[str, datetime | None]]
) -> Callable[..., TestResponse]:
    """POST /api/v1/surveys as the dmv agency: the valid body with ``changes`` applied."""

    def post(headers: dict[str, str] | None = None, **changes: Any) -> TestResponse:
        body = {**VALID, **changes}
        body = {k: v for k, v in body.items() if v is not None}
        return client.post(
            "/api/v1/surveys", json=body, headers={**bearer(dmv_key), **(headers or {})}
        )

    return post
