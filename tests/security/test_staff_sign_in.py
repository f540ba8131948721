"""Staff sign-in: scrypt-hashed passwords, lockout after repeated failures, and roles."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from gateway.agencies.keys import ensure_agency
from gateway.cli import main
from gateway.dashboard import auth, throttle
from gateway.dashboard.auth import create_staff
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.store.results_models import StaffMember
from gateway.store.security_models import SignInThrottle
from tests.security.conftest import PASSWORD, DmvRecords, add_staff, sign_in
from tests.security.test_audit import audit_lines

EMAIL = "pat@dmv.example.gov"


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    return dataclasses.replace(settings, database_url=database_url)


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


def test_five_failures_from_one_address_hold_it_even_against_the_right_password(
    app: Flask, client: FlaskClient
) -> None:
    add_staff(app, "dmv", EMAIL)
    for _ in range(auth.MAX_FAILED_SIGN_INS):
        assert sign_in(client, EMAIL, "wrong password!!") == 401
    assert sign_in(client, EMAIL) == 401
    with db_of(app).session() as session:
        holds = [row.blocked_until for row in session.scalars(sa.select(SignInThrottle))]
    (held_until,) = [until for until in holds if until is not None]
    assert timedelta(minutes=14) < held_until - utcnow() <= timedelta(minutes=15)
    assert staff_row(app).locked_until is None  # the account itself is not locked


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_stranger_hammering_from_elsewhere_cannot_lock_the_staff_member_out(
    app: Flask, settings: Settings
) -> None:
    add_staff(app, "dmv", EMAIL)
    stranger = from_address(app, "198.51.100.7")
    for _ in range(throttle.MAX_FAILED_PER_ADDRESS + 5):
        assert sign_in(stranger, EMAIL, "wrong password!!") == 401
    assert sign_in(stranger, EMAIL) == 401  # the stranger's address is held
    assert sign_in(from_address(app, "203.0.113.20"), EMAIL) == 302
    actions = [r[3] for r in audit_lines(settings)]
    assert actions.count("staff.locked_out") == 1
    assert actions.count("staff.sign_in_failed") == throttle.MAX_FAILED_PER_ADDRESS + 6
    assert "staff.signed_in" in actions


def test_an_address_that_fails_across_many_accounts_is_held_for_all_of_them(
    app: Flask, settings: Settings
) -> None:
    add_staff(app, "dmv", EMAIL)
    sprayer = from_address(app, "198.51.100.8")
    for n in range(throttle.MAX_FAILED_PER_ADDRESS):
        assert sign_in(sprayer, f"guess{n}@dmv.example.gov", "wrong password!!") == 401
    assert sign_in(sprayer, EMAIL) == 401  # never failed for this account, but held
    assert sign_in(from_address(app, "203.0.113.21"), EMAIL) == 302
    held = [r for r in audit_lines(settings) if r[3] == "staff.address_held"]
    assert len(held) == 1


def test_failures_older_than_the_window_are_forgotten(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_staff(app, "dmv", EMAIL)
    client = from_address(app, "198.51.100.9")
    for _ in range(auth.MAX_FAILED_SIGN_INS - 1):
        sign_in(client, EMAIL, "wrong password!!")
    later = utcnow() + auth.LOCKOUT + timedelta(seconds=1)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    assert sign_in(client, EMAIL, "wrong password!!") == 401
    assert sign_in(client, EMAIL) == 302  # one failure counted, not five


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
