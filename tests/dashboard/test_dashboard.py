"""The staff dashboard: sign-in with CSRF, agency scoping, and the figures on its pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from gateway.agencies.keys import ensure_agency
from gateway.cli import main
from gateway.dashboard.auth import create_staff
from gateway.store.db import Database, db_of
from gateway.store.results_models import StaffMember
from tests.support.results import AddSurvey

PASSWORD = "correct horse battery"


def add_staff(app: Flask, slug: str, email: str) -> None:
    with db_of(app).session() as session:
        create_staff(session, ensure_agency(session, slug), email, PASSWORD)


def csrf(client: FlaskClient, path: str = "/dashboard/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> int:
    token = csrf(client)
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/dashboard/login", data=data).status_code


@pytest.fixture
def dmv_staff(app: Flask, client: FlaskClient) -> FlaskClient:
    add_staff(app, "dmv", "analyst@dmv.example.gov")
    assert sign_in(client, "analyst@dmv.example.gov") == 302
    return client


def at(day: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@pytest.fixture
def results(add_survey: AddSurvey) -> None:
    add_survey("visit-v2", at(1), answers={"trust": "yes", "comment": "Quick and friendly"},
               context={"office": "Main"})  # fmt: skip
    add_survey("visit-v2", at(2), answers={"trust": "no", "comment": "Le café était froid"},
               context={"office": "Main"}, language="es")  # fmt: skip
    add_survey("visit-v2", at(3), channel="voice", status="started", answers={"trust": "no"},
               context={"office": "North"})  # fmt: skip
    add_survey("visit-v2", at(4), status="sent", context={"office": "North"})
    add_survey("tax-call", at(4), answers={"trust": "no"})


def test_pages_need_a_signed_in_staff_member(client: FlaskClient) -> None:
    response = client.get("/dashboard/flows/visit-v2")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login")


def test_a_staff_member_signs_in_and_sees_their_agencys_flows(dmv_staff: FlaskClient) -> None:
    html = dmv_staff.get("/dashboard/").get_data(as_text=True)
    assert "visit-v2" in html and "call-drivers" in html
    assert "tax-call" not in html


def test_a_wrong_password_is_refused(app: Flask, client: FlaskClient) -> None:
    add_staff(app, "dmv", "analyst@dmv.example.gov")
    assert sign_in(client, "analyst@dmv.example.gov", "wrong password!!") == 401
    assert client.get("/dashboard/").status_code == 302


def test_an_unknown_email_is_refused_like_a_wrong_password(client: FlaskClient) -> None:
    assert sign_in(client, "nobody@dmv.example.gov") == 401


def test_signing_in_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    add_staff(app, "dmv", "analyst@dmv.example.gov")
    client.get("/dashboard/login")
    data = {"email": "analyst@dmv.example.gov", "password": PASSWORD}
    assert client.post("/dashboard/login", data=data).status_code == 400
    assert client.get("/dashboard/").status_code == 302


def test_signing_out_needs_the_csrf_token_and_ends_the_session(dmv_staff: FlaskClient) -> None:
    assert dmv_staff.post("/dashboard/logout").status_code == 400
    token = csrf(dmv_staff, "/dashboard/")
    assert dmv_staff.post("/dashboard/logout", data={"csrf_token": token}).status_code == 302
    assert dmv_staff.get("/dashboard/").status_code == 302


def test_another_agencys_flow_is_not_found(app: Flask, client: FlaskClient) -> None:
    add_staff(app, "irs", "agent@irs.example.gov")
    sign_in(client, "agent@irs.example.gov")
    assert client.get("/dashboard/flows/visit-v2").status_code == 404
    assert client.get("/dashboard/flows/visit-v2/comments").status_code == 404
    assert client.get("/dashboard/flows/tax-call").status_code == 200


def cells(html: str, row_header: str) -> list[str]:
    """The cells of the table row headed ``row_header``."""
    match = re.search(rf'<th scope="row">{re.escape(row_header)}</th>(.*?)</tr>', html, re.S)
    assert match, row_header
    return re.findall(r"<td>(.*?)</td>", match.group(1))


def test_the_funnel_shows_each_step_and_the_response_rate(
    dmv_staff: FlaskClient, results: None
) -> None:
    html = dmv_staff.get("/dashboard/flows/visit-v2").get_data(as_text=True)
    # sms: 3 triggered, all delivered, 2 answered, 2 completed; rates of the delivered.
    assert cells(html, "sms") == ["3", "3", "2", "2", "66.7%", "66.7%"]
    assert cells(html, "voice") == ["1", "1", "1", "0", "100%", "0%"]


def test_the_trust_score_is_the_share_of_yes(dmv_staff: FlaskClient, results: None) -> None:
    html = dmv_staff.get("/dashboard/flows/visit-v2").get_data(as_text=True)
    assert cells(html, "trust")[1:3] == ["3", "–"]
    assert cells(html, "trust")[3] == "33.3%"


def test_breakdowns_by_office_score_each_office(dmv_staff: FlaskClient, results: None) -> None:
    html = dmv_staff.get("/dashboard/flows/visit-v2").get_data(as_text=True)
    assert cells(html, "Main") == ["2", "2", "50%"]
    assert cells(html, "North") == ["2", "1", "0%"]


def test_filters_narrow_every_figure(dmv_staff: FlaskClient, results: None) -> None:
    html = dmv_staff.get("/dashboard/flows/visit-v2?channel=voice").get_data(as_text=True)
    assert '<th scope="row">sms</th>' not in html
    html = dmv_staff.get("/dashboard/flows/visit-v2?language=es").get_data(as_text=True)
    assert cells(html, "sms")[:1] == ["1"]
    html = dmv_staff.get("/dashboard/flows/visit-v2?from=2026-10-03&to=2026-10-03")
    assert cells(html.get_data(as_text=True), "voice")[:1] == ["1"]


def test_a_bad_filter_date_is_refused_with_its_name(dmv_staff: FlaskClient) -> None:
    response = dmv_staff.get("/dashboard/flows/visit-v2?from=October")
    assert response.status_code == 400
    assert "The from date" in response.get_data(as_text=True)


def test_each_chart_has_its_data_in_a_table(dmv_staff: FlaskClient, results: None) -> None:
    html = dmv_staff.get("/dashboard/flows/visit-v2").get_data(as_text=True)
    assert html.count('<svg role="img"') == html.count("<figure")
    assert html.count("<title id=") == html.count("<desc id=") >= 3
    assert "<caption>Answers to trust</caption>" in html


def test_comments_are_searchable_including_accented_words(
    dmv_staff: FlaskClient, results: None
) -> None:
    html = dmv_staff.get("/dashboard/flows/visit-v2/comments?q=café").get_data(as_text=True)
    assert "Le café était froid" in html and "Quick and friendly" not in html
    html = dmv_staff.get("/dashboard/flows/visit-v2/comments").get_data(as_text=True)
    assert "Le café était froid" in html and "Quick and friendly" in html


def test_a_search_with_like_wildcards_matches_them_literally(
    dmv_staff: FlaskClient, results: None
) -> None:
    html = dmv_staff.get("/dashboard/flows/visit-v2/comments?q=%25").get_data(as_text=True)
    assert "No comments match." in html


def test_the_cli_creates_a_staff_account_with_a_scrypt_hash(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "cli-test")
    result = CliRunner().invoke(
        main,
        ["staff", "create", "--agency", "dmv", "--email", "Lead@DMV.example.gov"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    database = Database(database_url)
    with database.session() as session:
        member = session.scalars(sa.select(StaffMember)).one()
        assert member.email == "lead@dmv.example.gov"
        assert member.password_hash.startswith("scrypt:")
    database.dispose()


def test_the_cli_refuses_a_short_password(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "cli-test")
    result = CliRunner().invoke(
        main,
        ["staff", "create", "--agency", "dmv", "--email", "a@dmv.example.gov", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output


def test_without_dates_the_page_shows_the_90_days_up_to_the_newest_survey(
    dmv_staff: FlaskClient, add_survey: AddSurvey
) -> None:
    add_survey("visit-v2", datetime(2026, 3, 1, tzinfo=UTC), answers={"trust": "yes"})
    add_survey("visit-v2", at(4), answers={"trust": "yes"})
    html = dmv_staff.get("/dashboard/flows/visit-v2").get_data(as_text=True)
    assert cells(html, "sms")[:1] == ["1"]
    assert 'value="2026-07-07"' in html and 'value="2026-10-04"' in html
    html = dmv_staff.get("/dashboard/flows/visit-v2?from=2026-01-01").get_data(as_text=True)
    assert cells(html, "sms")[:1] == ["2"]
