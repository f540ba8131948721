"""Every contact attempt visible: in the API's survey detail and, as the response rate
per attempt kind and channel, on the dashboard's flow page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from gateway.agencies.keys import ensure_agency
from gateway.dashboard.auth import create_staff
from gateway.sending.sweeper import sweep
from gateway.store.db import db_of
from tests.reach.contact_plan import EMAIL, FLOW, LINK, age, emails_sent, reach_gateway, when
from tests.sms.support import Gateway
from tests.web.support import follow, page_form

PASSWORD = "correct horse battery"


@pytest.fixture
def gw(database_url: str) -> Iterator[Gateway]:
    gateway = reach_gateway(database_url)
    yield gateway
    db_of(gateway.app).dispose()


def test_the_trigger_answer_and_the_survey_detail_list_the_attempts(gw: Gateway) -> None:
    created = gw.trigger(flow=FLOW, fallback_to={"email": EMAIL})
    # The 202 answer is the survey as accepted, with or without Redis: its contacts planned
    # (the reminders are planned once the first contact is made).
    assert (created["status"], created["messages"], created["sent_at"]) == ("queued", [], None)
    assert [(a["kind"], a["outcome"]) for a in created["attempts"]] == [
        ("first", "starting"),
        ("fallback", "planned"),
    ]
    survey = gw.survey(created["id"])
    sent_at = when(survey["sent_at"])
    first, reminder_1, reminder_2, fallback = survey["attempts"]
    assert first == {
        "kind": "first",
        "number": 1,
        "channel": "sms",
        "reason": None,
        "outcome": "sent",
        "detail": None,
        "due_at": first["due_at"],
        "attempted_at": survey["sent_at"],
        "delivery": "simulated",
    }
    assert (reminder_1["outcome"], when(reminder_1["due_at"])) == (
        "scheduled",
        sent_at + timedelta(hours=4),
    )
    assert when(reminder_2["due_at"]) == sent_at + timedelta(days=1)
    assert (fallback["kind"], fallback["channel"], fallback["reason"]) == (
        "fallback",
        "email",
        "no_answer",
    )
    assert when(fallback["due_at"]) == sent_at + timedelta(days=2)
    assert EMAIL not in str(survey["attempts"])  # the address is not shown


def test_another_agency_cannot_see_the_attempts(gw: Gateway) -> None:
    survey_id = gw.trigger(flow=FLOW)["id"]
    with db_of(gw.app).session() as session:
        from gateway.agencies.keys import create_api_key

        _row, other_key = create_api_key(session, ensure_agency(session, "irs"), "tests")
    response = gw.client.get(
        f"/api/v1/surveys/{survey_id}", headers={"Authorization": f"Bearer {other_key}"}
    )
    assert response.status_code == 404


def sweep_after(gw: Gateway, survey_id: str, delta: timedelta) -> None:
    age(gw, survey_id, delta)
    sweep(gw.app)


def sign_in(gw: Gateway) -> FlaskClient:
    with db_of(gw.app).session() as session:
        create_staff(session, ensure_agency(session, "dmv"), "analyst@dmv.example.gov", PASSWORD)
    client = gw.app.test_client()
    html = client.get("/dashboard/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    data = {"email": "analyst@dmv.example.gov", "password": PASSWORD, "csrf_token": token[1]}
    assert client.post("/dashboard/login", data=data).status_code == 302
    return client


def attempt_table(html: str) -> list[list[str]]:
    section = html.split('id="attempts-heading"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def test_the_dashboard_shows_the_response_rate_of_each_attempt_kind(gw: Gateway) -> None:
    # A answers the first text; B answers after the first reminder; C answers the
    # fallback email on the web; D never answers.
    a = gw.trigger(flow=FLOW, to="+12025550131")["id"]
    gw.text("5", from_="+12025550131")
    b = gw.trigger(flow=FLOW, to="+12025550132")["id"]
    c = gw.trigger(flow=FLOW, to="+12025550133", fallback_to={"email": EMAIL})["id"]
    d = gw.trigger(flow=FLOW, to="+12025550134")["id"]
    for survey_id in (a, b, c, d):
        sweep_after(gw, survey_id, timedelta(hours=4, minutes=1))
    gw.text("4", from_="+12025550132")
    for survey_id in (c, d):
        sweep_after(gw, survey_id, timedelta(hours=20))  # reminder 2
        sweep_after(gw, survey_id, timedelta(days=1))  # C: the fallback email
    [email] = emails_sent(gw)
    page = follow(gw.client, gw.client.get(LINK.findall(email.text)[0]))
    follow(gw.client, page_form(page).submit(gw.client, answer="3"))

    html = sign_in(gw).get(f"/dashboard/flows/{FLOW}").get_data(as_text=True)
    assert attempt_table(html) == [
        ["First contact", "sms", "4", "1", "25%"],
        ["Reminder", "sms", "5", "1", "20%"],
        ["Fallback", "email", "1", "1", "100%"],
    ]
    assert "Response rate by attempt" in html  # the chart the table describes
