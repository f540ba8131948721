"""The log filter masks what a message or a traceback quotes: PostgreSQL's DETAIL values,
signed tokens, numbers and addresses; gunicorn's own lines withhold the request."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from config.gunicorn_logs import RequestTextFilter, mask_request_text
from config.logging import configure_logging

DETAIL = (
    'duplicate key value violates unique constraint "uq_surveys_idempotency"\n'
    "DETAIL:  Key (agency_id, idempotency_key)=(1, order-7731-Zanzibar) already exists.\n"
    'CONTEXT:  JSON data, line 1: {"office": "Zanzibar'
)


@pytest.fixture(params=["json", "text"])
def stderr_logs(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> Iterator[str]:
    root = logging.getLogger()
    level = root.level
    configure_logging(request.param, "DEBUG")
    yield request.param
    for handler in list(root.handlers):
        if getattr(handler, "_gateway_handler", False):
            root.removeHandler(handler)
    root.setLevel(level)


def test_a_traceback_quoting_a_rows_values_a_token_and_a_number_is_masked(
    stderr_logs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        raise RuntimeError(
            f"{DETAIL}\nlink /s/eyJzdXJ2ZXkiOiJzdl8xIn0.Zk9xQm.c2lnbmF0dXJl to +1 202 555 0187"
        )
    except RuntimeError:
        logging.getLogger("rq.worker").exception("job failed")
    written = capsys.readouterr().err
    if stderr_logs == "json":
        written = json.loads(written)["exception"]
    assert "uq_surveys_idempotency" in written, "the constraint is named"
    assert "DETAIL: [withheld]" in written and "CONTEXT: [withheld]" in written
    assert "Zanzibar" not in written and "order-7731" not in written
    assert "/s/[token]" in written and "eyJzdXJ2" not in written
    assert "555 0187" not in written


def test_a_key_quoted_inside_a_message_is_withheld(
    stderr_logs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("gateway.jobs").warning(
        "start failed: %s", "Key (body)=(Zanzibar parade) already exists."
    )
    written = capsys.readouterr().err
    assert "Key (body)=([withheld]) already exists." in written
    assert "Zanzibar" not in written


@pytest.mark.parametrize(
    ("line", "kept", "gone"),
    [
        (
            "Invalid request from ip=10.0.0.1: Invalid HTTP request line: 'GET /s/abc?to=1'",
            "Invalid request from ip=10.0.0.1: Invalid HTTP request line: [request text",
            "/s/abc",
        ),
        ("Invalid HTTP Header: 'X-Contact: quentin@example.gov'", "Invalid HTTP Header", "quentin"),
        (
            "Error handling request GET /f/visit?location=Zanzibar",
            "GET /f/visit?[query]",
            "Zanzibar",
        ),
        ("Request Line is too large (9007 > 4094)", "(9007 > 4094)", "\x00"),
    ],
)
def test_gunicorns_lines_withhold_the_request(line: str, kept: str, gone: str) -> None:
    masked = mask_request_text(line)
    assert kept in masked
    assert gone not in masked


def test_gunicorns_filter_masks_a_records_message_and_traceback() -> None:
    try:
        raise ValueError("bad path /u/eyJzdXJ2ZXkiOiJzdl8xIn0.Zk9xQm.c2lnbmF0dXJl?x=1")
    except ValueError as exc:
        record = logging.LogRecord(
            "gunicorn.error",
            logging.ERROR,
            __file__,
            1,
            "Error handling request %s",
            ("/s/eyJhbGciOiJ9xxxxxxxxxxxx?to=2025550187",),
            (type(exc), exc, exc.__traceback__),
        )
    assert RequestTextFilter().filter(record)
    assert record.getMessage() == "Error handling request /s/[token]?[query]"
    assert record.exc_text is not None and "eyJ" not in record.exc_text


def test_a_reply_pages_token_quoted_in_a_message_is_masked(
    stderr_logs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "eyJzIjoic3ZfcmVwbHkiLCJlIjoxNzkwMDAwMDAwfQ.c2lnbmF0dXJlLW9mLXJlcGx5"
    logging.getLogger("gateway.web").warning("page failed: /r/%s/sent", token)
    written = capsys.readouterr().err
    assert "/r/[token]/sent" in written and token[:12] not in written
