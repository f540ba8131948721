"""Staff sign-in: scrypt-hashed passwords, lockout after repeated failures, and roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from gateway.agencies.keys import ensure_agency
from gateway.cli import main
from gateway.dashboard import auth
from gateway.dashboard.auth import create_staff
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.store.results_models import StaffMember
from tests.security.conftest import PASSWORD, DmvRecords, add_staff, sign_in
from tests.security.test_audit import audit_lines

EMAIL = "pat@dmv.example.gov"


def staff_row(app: Flask, email: str = EMAIL) -> StaffMember:
    with db_of(app).session() as session:
        member = session.query(StaffMember).filter_by(email=email).one()
        session.expunge(member)
        return member


def test_passwords_are_stored_as_scrypt_hashes(app: Flask) -> None:
    add_staff(app, "dmv", EMAIL)
    stored = staff_row(app).password_hash
    assert stored.startswith("scrypt:")
    assert PASSWORD not in stored


def test_five_failures_lock_the_account_even_against_the_right_password(
    app: Flask, client: FlaskClient
) -> None:
    add_staff(app, "dmv", EMAIL)
    for _ in range(auth.MAX_FAILED_SIGN_INS):
        assert sign_in(client, EMAIL, "wrong password!!") == 401
    assert sign_in(client, EMAIL) == 401
    locked_until = staff_row(app).locked_until
    assert locked_until is not None
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)


def test_four_failures_then_the_right_password_signs_in_and_clears_the_count(
    app: Flask, client: FlaskClient
) -> None:
    add_staff(app, "dmv", EMAIL)
    for _ in range(auth.MAX_FAILED_SIGN_INS - 1):
        sign_in(client, EMAIL, "wrong password!!")
    assert sign_in(client, EMAIL) == 302
    assert staff_row(app).failed_sign_ins == 0


def test_a_lock_ends_after_fifteen_minutes(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_staff(app, "dmv", EMAIL)
    for _ in range(auth.MAX_FAILED_SIGN_INS):
        sign_in(client, EMAIL, "wrong password!!")
    later = utcnow() + auth.LOCKOUT + timedelta(seconds=1)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    assert sign_in(client, EMAIL) == 302


def client_as(app: Flask, role: str) -> FlaskClient:
    with db_of(app).session() as session:
        create_staff(session, ensure_agency(session, "dmv"), EMAIL, PASSWORD, role)
    client = app.test_client()
    assert sign_in(client, EMAIL) == 302
    return client


PAGES = {
    "viewer": ["/dashboard/", "/dashboard/flows/dmv-visit"],
    "analyst": ["/dashboard/flows/dmv-visit/comments"],
    "admin": ["/dashboard/deliveries"],
}
RANK = ["viewer", "analyst", "admin"]


@pytest.mark.parametrize("role", RANK)
def test_each_role_opens_its_pages_and_is_refused_the_others(
    app: Flask, dmv_records: DmvRecords, role: str
) -> None:
    client = client_as(app, role)
    for needed, paths in PAGES.items():
        allowed = RANK.index(role) >= RANK.index(needed)
        for path in paths:
            assert client.get(path).status_code == (200 if allowed else 403), (role, path)


def test_a_viewer_sees_no_link_to_comments_or_deliveries(
    app: Flask, dmv_records: DmvRecords
) -> None:
    html = client_as(app, "viewer").get("/dashboard/flows/dmv-visit").get_data(as_text=True)
    assert "/comments" not in html
    assert "/dashboard/deliveries" not in html
    assert dmv_records.comment not in html


def test_staff_create_makes_a_viewer_unless_told_otherwise(app: Flask, settings: Settings) -> None:
    env = {"DATABASE_URL": settings.database_url}
    args = ["staff", "create", "--agency", "dmv", "--password-stdin"]
    made = CliRunner().invoke(main, [*args, "--email", EMAIL], input=PASSWORD + "\n", env=env)
    assert made.exit_code == 0, made.output
    assert "(viewer)" in made.output
    admin = CliRunner().invoke(
        main, [*args, "--email", "a@dmv.example.gov", "--role", "admin"], input=PASSWORD, env=env
    )
    assert "(admin)" in admin.output
    assert staff_row(app).role == "viewer"
    assert staff_row(app, "a@dmv.example.gov").role == "admin"
    created = [r for r in audit_lines(settings) if r[3] == "staff.created"]
    assert [r[4] for r in created] == ["a@dmv.example.gov (admin)", f"{EMAIL} (viewer)"]
