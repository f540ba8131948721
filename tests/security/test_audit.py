"""The audit log records who did what to which record, and `gateway audit list` shows it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from tests.conftest import bearer
from tests.security.conftest import add_staff, sign_in
from tests.security.test_api_keys import create_key, gateway


def audit_lines(settings: Settings, *args: str) -> list[list[str]]:
    """`gateway audit list` as rows of (when, agency, actor, action, target, address)."""
    result = gateway(settings.database_url, "audit", "list", *args)
    assert result.exit_code == 0, result.output
    return [line.split("\t") for line in result.stdout.splitlines()]


def test_creating_and_revoking_a_key_are_recorded_with_its_prefix(settings: Settings) -> None:
    key = create_key(settings.database_url, "--agency", "dmv")
    gateway(settings.database_url, "keys", "revoke", key[:11])
    rows = audit_lines(settings)
    assert [(r[1], r[3], r[4]) for r in rows] == [
        ("dmv", "key.revoked", key[:11]),
        ("dmv", "key.created", key[:11]),
    ]
    assert all(r[2].startswith("cli:") for r in rows)
    assert key not in str(rows)


def test_webhook_changes_name_the_key_that_made_them(
    app: Flask, client: FlaskClient, settings: Settings, dmv_key: str
) -> None:
    made = client.post(
        "/api/v1/webhooks", json={"url": "https://hooks.dmv.example.gov/"}, headers=bearer(dmv_key)
    ).get_json()
    client.delete(f"/api/v1/webhooks/{made['id']}", headers=bearer(dmv_key))
    client.post("/api/v1/webhooks/alert-secret", headers=bearer(dmv_key))
    rows = audit_lines(settings, "--agency", "dmv")
    assert [(r[2], r[3], r[4]) for r in rows] == [
        (f"key:{dmv_key[:11]}", "alert_secret.rotated", "-"),
        (f"key:{dmv_key[:11]}", "webhook.deleted", made["id"]),
        (f"key:{dmv_key[:11]}", "webhook.subscribed", made["id"]),
    ]


def test_staff_sign_in_failure_and_sign_out_are_recorded(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    add_staff(app, "dmv", "pat@dmv.example.gov")
    assert sign_in(client, "pat@dmv.example.gov", "not the password") == 401
    assert sign_in(client, "nobody@dmv.example.gov") == 401
    assert sign_in(client, "pat@dmv.example.gov") == 302
    page = client.get("/dashboard/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/dashboard/logout", data={"csrf_token": token})
    rows = audit_lines(settings)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("dmv", "staff:pat@dmv.example.gov", "staff.signed_out"),
        ("dmv", "staff:pat@dmv.example.gov", "staff.signed_in"),
        ("-", "staff:nobody@dmv.example.gov", "staff.sign_in_failed"),
        ("dmv", "staff:pat@dmv.example.gov", "staff.sign_in_failed"),
    ]
    assert rows[0][5] == "127.0.0.1"


def test_the_listing_filters_by_action(settings: Settings) -> None:
    key = create_key(settings.database_url, "--agency", "dmv")
    gateway(settings.database_url, "keys", "revoke", key[:11])
    rows = audit_lines(settings, "--action", "key.created")
    assert [r[3] for r in rows] == ["key.created"]
