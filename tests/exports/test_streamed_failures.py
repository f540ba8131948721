"""A streamed export that fails: before its first byte it is the API's JSON error with the
gateway's headers, never a 200; after it, the stream raises so the server aborts the
chunked response (no clean end a client could mistake for a whole export). On SQLite and
PostgreSQL, with hostile filters refused before anything is streamed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway.exports import floip
from gateway.exports.streams import started
from gateway.store.db import Database
from tests.conftest import bearer
from tests.support.results import AddSurvey

WHEN = datetime(2026, 10, 5, 12, tzinfo=UTC)


def _failing_query(*_args: Any, **_kwargs: Any) -> Any:
    raise sa.exc.DataError("SELECT", {}, Exception("refused by the store"))


@pytest.mark.parametrize("fmt", ["csv", "floip-data"])
def test_an_export_whose_query_fails_is_a_json_error_not_a_200(
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    add_survey("visit-v2", WHEN, answers={"trust": "yes"})
    monkeypatch.setattr(Database, "session", _failing_query)
    response = client.get(f"/api/v1/responses?flow=visit-v2&format={fmt}", headers=bearer(dmv_key))
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"  # type: ignore[index]
    assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize("fmt", ["csv", "floip-data"])
@pytest.mark.parametrize("query", ["context.office=%00", "flow=visit%00v2"])
def test_an_export_with_a_hostile_filter_is_refused_before_the_first_byte(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey, fmt: str, query: str
) -> None:
    add_survey("visit-v2", WHEN, answers={"trust": "yes"}, context={"office": "Main"})
    response = client.get(
        f"/api/v1/responses?flow=visit-v2&format={fmt}&{query}", headers=bearer(dmv_key)
    )
    assert response.status_code == 422
    assert response.mimetype == "application/json"


def test_a_floip_stream_runs_its_query_before_its_first_byte(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_survey("visit-v2", WHEN, answers={"trust": "yes"})
    made: list[str] = []
    rows = floip.rows

    def watched(*args: Any, **kwargs: Any) -> Iterator[str]:
        for piece in rows(*args, **kwargs):
            made.append(piece)
            yield piece

    monkeypatch.setattr(floip, "rows", watched)
    response = client.get(
        "/api/v1/responses?flow=visit-v2&format=floip-data",
        headers=bearer(dmv_key),
        buffered=False,
    )
    assert made == ["["]  # made in the view, after the query ran
    assert response.status_code == 200
    assert response.get_data(as_text=True).endswith("]\n")  # the rest, to its clean end


def test_a_failure_after_the_first_byte_is_raised_to_the_server() -> None:
    def broken() -> Iterator[str]:
        yield "id,status\r\n"
        raise sa.exc.DataError("SELECT", {}, Exception("refused by the store"))

    stream = started(broken())
    assert next(stream) == "id,status\r\n"
    with pytest.raises(sa.exc.DataError):
        next(stream)


def test_a_failure_before_the_first_byte_is_raised_in_the_view() -> None:
    def broken() -> Iterator[str]:
        raise sa.exc.DataError("SELECT", {}, Exception("refused by the store"))
        yield ""  # pragma: no cover

    with pytest.raises(sa.exc.DataError):
        started(broken())
