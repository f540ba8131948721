"""Dashboard sessions end: sign-out, a new role, a new password and a removed account end
every session of the account (a copied cookie included), and sessions time out when idle
and after a fixed lifetime. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from config.settings import Settings
from gateway.dashboard import sessions
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.store.results_models import StaffMember
from tests.security.conftest import DmvRecords, add_staff, sign_in

EMAIL = "pat@dmv.example.gov"
PAGE = "/dashboard/flows/dmv-visit/comments"


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    return dataclasses.replace(settings, database_url=database_url)


class Clock:
    """The sessions' clock, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utcnow()
        monkeypatch.setattr(sessions, "utcnow", lambda: self.now)

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, EMAIL) == 302
    assert client.get(PAGE).status_code == 200
    return client


def replay(app: Flask, cookie: str) -> FlaskClient:
    """A different browser holding a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie, domain="localhost")
    return thief


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def sent_to_sign_in(client: FlaskClient) -> bool:
    response = client.get(PAGE)
    return response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


@pytest.fixture
def staff(app: Flask, dmv_records: DmvRecords) -> None:
    add_staff(app, "dmv", EMAIL)


def change(app: Flask, **values: object) -> None:
    with db_of(app).session() as session:
        member = session.scalars(sa.select(StaffMember).where(StaffMember.email == EMAIL)).one()
        for name, value in values.items():
            setattr(member, name, value)


def change_in_sql(app: Flask, **values: object) -> None:
    with db_of(app).session() as session:
        session.execute(sa.update(StaffMember).where(StaffMember.email == EMAIL).values(**values))


@pytest.mark.usefixtures("staff")
def test_a_cookie_replayed_after_sign_out_is_sent_to_the_sign_in(app: Flask) -> None:
    client = signed_in(app)
    cookie = cookie_of(client)
    assert replay(app, cookie).get(PAGE).status_code == 200  # the copy works while signed in
    html = client.get(PAGE).get_data(as_text=True)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/dashboard/logout", data={"csrf_token": token}).status_code == 302
    assert sent_to_sign_in(replay(app, cookie))


@pytest.mark.usefixtures("staff")
def test_sign_out_in_one_browser_ends_the_sessions_of_the_others(app: Flask) -> None:
    office, laptop = signed_in(app), signed_in(app)
    html = office.get(PAGE).get_data(as_text=True)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    office.post("/dashboard/logout", data={"csrf_token": token})
    assert sent_to_sign_in(laptop)
    assert sign_in(laptop, EMAIL) == 302 and laptop.get(PAGE).status_code == 200


@pytest.mark.usefixtures("staff")
@pytest.mark.parametrize("how", [change, change_in_sql])
def test_a_new_role_ends_the_session(app: Flask, how: object) -> None:
    client = signed_in(app)
    cookie = cookie_of(client)
    how(app, role="analyst")  # type: ignore[operator]
    assert sent_to_sign_in(replay(app, cookie))
    assert sent_to_sign_in(client)


@pytest.mark.usefixtures("staff")
@pytest.mark.parametrize("how", [change, change_in_sql])
def test_a_new_password_ends_the_session(app: Flask, how: object) -> None:
    client = signed_in(app)
    how(app, password_hash=generate_password_hash("a brand new password"))  # type: ignore[operator]
    assert sent_to_sign_in(client)
    assert sign_in(client, EMAIL, "a brand new password") == 302


@pytest.mark.usefixtures("staff")
def test_a_removed_account_is_sent_to_the_sign_in(app: Flask) -> None:
    client = signed_in(app)
    with db_of(app).session() as session:
        session.execute(sa.delete(StaffMember).where(StaffMember.email == EMAIL))
    assert sent_to_sign_in(client)


@pytest.mark.usefixtures("staff")
def test_a_session_unused_for_the_idle_timeout_ends(app: Flask, clock: Clock) -> None:
    client = signed_in(app)
    clock.advance(timedelta(minutes=29))
    assert client.get(PAGE).status_code == 200  # used: the idle time starts again
    clock.advance(timedelta(minutes=29))
    assert client.get(PAGE).status_code == 200
    clock.advance(timedelta(minutes=31))
    assert sent_to_sign_in(client)


@pytest.mark.usefixtures("staff")
def test_a_session_in_use_ends_at_its_absolute_lifetime(app: Flask, clock: Clock) -> None:
    client = signed_in(app)
    for _ in range(11 * 3):  # every twenty minutes for eleven hours
        clock.advance(timedelta(minutes=20))
        assert client.get(PAGE).status_code == 200
    clock.advance(timedelta(minutes=61))
    assert sent_to_sign_in(client)


@pytest.mark.usefixtures("staff")
def test_the_timeouts_are_settings(app: Flask, clock: Clock, settings: Settings) -> None:
    app.extensions["settings"] = dataclasses.replace(settings, dashboard_idle_minutes=5)
    client = signed_in(app)
    clock.advance(timedelta(minutes=6))
    assert sent_to_sign_in(client)
