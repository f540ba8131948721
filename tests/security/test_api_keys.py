"""API keys: long and random, listed without the key, revocable by prefix, never logged."""

from __future__ import annotations

import base64
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from config.settings import Settings
from gateway.agencies.keys import KEY_PREFIX, generate_key
from gateway.app import create_app
from gateway.cli import main
from tests.conftest import bearer


def gateway(url: str, *args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env={"DATABASE_URL": url})
    return result


def create_key(url: str, *args: str) -> str:
    result = gateway(url, "keys", "create", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[-1]


@pytest.fixture
def url(settings: Settings) -> str:
    return settings.database_url


def columns(listing: str) -> dict[str, str]:
    """The first key's row of ``gateway keys list``, by column name."""
    header, row = listing.splitlines()[:2]
    return dict(zip(re.split(r"\s{2,}", header), re.split(r"\s{2,}", row), strict=True))


def near(shown: str, expected: datetime) -> bool:
    """``shown`` (a listing's minute, UTC) is within a minute of ``expected``."""
    when = datetime.strptime(shown, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    return abs(when - expected) < timedelta(minutes=2)


def test_a_key_carries_at_least_32_random_bytes() -> None:
    keys = {generate_key() for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        body = key.removeprefix(KEY_PREFIX)
        assert len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) >= 32


def test_the_listing_shows_prefix_label_and_dates_but_never_the_key(url: str) -> None:
    key = create_key(url, "--agency", "dmv", "--label", "case system")
    listing = gateway(url, "keys", "list").stdout
    assert key not in listing
    assert key[:11] in listing
    header, row = listing.splitlines()
    assert header.split() == ["PREFIX", "AGENCY", "LABEL", "CREATED", "LAST", "USED", "EXPIRES",
                              "REVOKED"]  # fmt: skip
    assert "dmv" in row and "case system" in row


def test_the_listing_can_be_narrowed_to_one_agency(url: str) -> None:
    dmv = create_key(url, "--agency", "dmv")
    irs = create_key(url, "--agency", "irs")
    listing = gateway(url, "keys", "list", "--agency", "irs").stdout
    assert irs[:11] in listing and dmv[:11] not in listing


def test_a_revoked_key_no_longer_opens_the_api(settings: Settings, url: str) -> None:
    key = create_key(url, "--agency", "dmv")
    client = create_app(settings, {"TESTING": True}).test_client()
    assert client.get("/api/v1/responses", headers=bearer(key)).status_code == 200
    result = gateway(url, "keys", "revoke", key[:11])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/responses", headers=bearer(key)).status_code == 401
    revoked = columns(gateway(url, "keys", "list").stdout)["REVOKED"]
    assert near(revoked, datetime.now(UTC))


def test_revoking_an_unknown_prefix_says_where_to_look(url: str) -> None:
    create_key(url, "--agency", "dmv")
    result = gateway(url, "keys", "revoke", "gw_nothing1")
    assert result.exit_code == 1
    assert "no API key with the prefix 'gw_nothing1'; see `gateway keys list`" in result.output


def test_a_key_created_to_expire_stops_working_after_its_days(
    settings: Settings, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = create_key(url, "--agency", "dmv", "--expires-in-days", "30")
    expires = columns(gateway(url, "keys", "list").stdout)["EXPIRES"]
    assert near(expires, datetime.now(UTC) + timedelta(days=30))
    client = create_app(settings, {"TESTING": True}).test_client()
    assert client.get("/api/v1/responses", headers=bearer(key)).status_code == 200
    later = datetime.now(UTC) + timedelta(days=31)
    monkeypatch.setattr("gateway.api.auth.utcnow", lambda: later)
    assert client.get("/api/v1/responses", headers=bearer(key)).status_code == 401


def test_a_key_never_appears_in_the_logs(
    settings: Settings, url: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    key = create_key(url, "--agency", "dmv")
    client = create_app(settings, {"TESTING": True}).test_client()
    client.get("/api/v1/responses", headers=bearer(key))
    client.get("/api/v1/surveys/sv_missing", headers=bearer(key))
    client.post("/api/v1/surveys", json={"flow": "nope"}, headers=bearer(key))
    client.get("/api/v1/responses", headers=bearer(key + "x"))
    gateway(url, "keys", "revoke", key[:11])
    client.get("/api/v1/responses", headers=bearer(key))
    assert caplog.records  # the requests above were logged at all
    assert key not in caplog.text
    assert key[11:] not in caplog.text
