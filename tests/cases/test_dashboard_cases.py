"""The dashboard's case inbox and case page: lists and filters, the case's answers and
history, and the actions analysts take; viewers read only; another agency's staff get 404."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.cases.conftest import ANALYST, OTHER, PASSWORD, VIEWER, answer_survey, api
from tests.sms.support import Gateway


def signed_in(gateway: Gateway, email: str) -> FlaskClient:
    client = gateway.app.test_client()
    token = csrf(client, "/dashboard/login")
    response = client.post(
        "/dashboard/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def csrf(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match[1]


def _case_id(gateway: Gateway) -> str:
    answer_survey(gateway, "1", "yes")
    data = gateway.client.get("/api/v1/cases", headers=api(gateway)).get_json()["data"]
    return str(data[0]["id"])


def test_the_inbox_lists_open_unassigned_cases_and_filters_them(gateway: Gateway) -> None:
    case_id = _case_id(gateway)
    client = signed_in(gateway, ANALYST)
    html = client.get("/dashboard/cases").get_data(as_text=True)
    assert case_id in html and "Open (1)" in html and "Unassigned (1)" in html
    assert "Mine (0)" in html
    assert case_id in client.get("/dashboard/cases?view=unassigned").get_data(as_text=True)
    assert case_id not in client.get("/dashboard/cases?view=mine").get_data(as_text=True)
    assert case_id not in client.get("/dashboard/cases?priority=low").get_data(as_text=True)
    assert case_id in client.get("/dashboard/cases?office=Downtown&channel=sms").get_data(
        as_text=True
    )
    bad = client.get("/dashboard/cases?view=later")
    assert bad.status_code == 400 and "view must be one of" in bad.get_data(as_text=True)


def test_an_analyst_assigns_notes_and_resolves_from_the_case_page(gateway: Gateway) -> None:
    case_id = _case_id(gateway)
    client = signed_in(gateway, ANALYST)
    page = f"/dashboard/cases/{case_id}"
    html = client.get(page).get_data(as_text=True)
    assert "How satisfied were you with your visit?" in html
    token = csrf(client, page)
    assert (
        client.post(f"{page}/assign", data={"assignee": "me", "csrf_token": token}).status_code
        == 303
    )
    client.post(f"{page}/note", data={"note": "Called the office", "csrf_token": token})
    refused = client.post(
        f"{page}/status", data={"status": "resolved", "resolution": "", "csrf_token": token}
    )
    assert "error=" in refused.headers["Location"]
    shown = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Nothing was changed: a resolved case needs a resolution" in shown
    client.post(
        f"{page}/status", data={"status": "resolved", "resolution": "fixed", "csrf_token": token}
    )
    case = gateway.client.get(f"/api/v1/cases/{case_id}", headers=api(gateway)).get_json()
    assert (case["status"], case["resolution"], case["assignee"]) == ("resolved", "fixed", ANALYST)
    assert [h["kind"] for h in case["history"]] == ["opened", "assigned", "note", "status"]
    assert case_id in client.get("/dashboard/cases?view=resolved").get_data(as_text=True)
    assert "Mine (0)" in client.get("/dashboard/cases").get_data(as_text=True)


def test_an_action_without_the_form_token_is_refused(gateway: Gateway) -> None:
    case_id = _case_id(gateway)
    client = signed_in(gateway, ANALYST)
    response = client.post(f"/dashboard/cases/{case_id}/note", data={"note": "no token"})
    assert response.status_code == 400
    case = gateway.client.get(f"/api/v1/cases/{case_id}", headers=api(gateway)).get_json()
    assert [h["kind"] for h in case["history"]] == ["opened"]


def test_a_viewer_reads_cases_but_cannot_act(gateway: Gateway) -> None:
    case_id = _case_id(gateway)
    client = signed_in(gateway, VIEWER)
    html = client.get(f"/dashboard/cases/{case_id}").get_data(as_text=True)
    assert "Work the case" not in html and "Answers" in html
    token = csrf(client, f"/dashboard/cases/{case_id}")
    response = client.post(
        f"/dashboard/cases/{case_id}/assign", data={"assignee": "me", "csrf_token": token}
    )
    assert response.status_code == 403


COMMENT = "The wait at the counter was two hours"
APOLOGY = "We are sorry about your visit to Downtown. What went wrong?"
ANSWER = "Nobody called my number"


def test_a_viewer_reads_a_case_without_the_respondents_words(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "1", "yes", flow="office-comments", comment=COMMENT)
    listed = gateway.client.get("/api/v1/cases", headers=api(gateway)).get_json()["data"]
    case_id = next(c["id"] for c in listed if c["survey_id"] == survey_id)
    gateway.client.post(
        f"/api/v1/cases/{case_id}/replies", json={"template": "apology"}, headers=api(gateway)
    )
    gateway.text(ANSWER)
    gateway.client.patch(
        f"/api/v1/cases/{case_id}", json={"note": "Called the office"}, headers=api(gateway)
    )
    words = (COMMENT, APOLOGY, ANSWER)

    analyst = signed_in(gateway, ANALYST).get(f"/dashboard/cases/{case_id}").get_data(as_text=True)
    assert all(w in analyst for w in words)
    assert "shown to analysts and admins" not in analyst

    viewer = signed_in(gateway, VIEWER)
    html = viewer.get(f"/dashboard/cases/{case_id}").get_data(as_text=True)
    assert [w for w in words if w in html] == []
    assert "are shown to analysts and admins, as the comments are" in html
    assert html.count("shown to analysts and admins") >= 5  # the answer, texts, history
    # What viewers read elsewhere stays: the ratings, the questions, the staff's notes.
    assert "How satisfied were you with your visit?" in html and "Called the office" in html
    assert "Is there anything else you would like to tell us?" in html
    assert re.search(r"<td[^>]*>1</td>", html)  # the rating
    inbox = viewer.get("/dashboard/cases?view=all").get_data(as_text=True)
    assert case_id in inbox and [w for w in words if w in inbox] == []
    # As on the comments pages: viewers may not open them; API keys read comments, and
    # the cases' words with them.
    assert viewer.get("/dashboard/flows/office-comments/comments").status_code == 403
    detail = gateway.client.get(f"/api/v1/cases/{case_id}", headers=api(gateway)).get_json()
    assert COMMENT in [a["value"] for a in detail["answers"]]
    assert ANSWER in [h["body"] for h in detail["history"]]


def test_another_agencys_staff_get_404_on_every_case_page(gateway: Gateway) -> None:
    case_id = _case_id(gateway)
    client = signed_in(gateway, OTHER)
    assert client.get(f"/dashboard/cases/{case_id}").status_code == 404
    token = csrf(client, "/dashboard/cases")
    for action in ("assign", "status", "priority", "note", "link"):
        response = client.post(
            f"/dashboard/cases/{case_id}/{action}", data={"csrf_token": token, "note": "x"}
        )
        assert response.status_code == 404, action
    assert case_id not in client.get("/dashboard/cases?view=all").get_data(as_text=True)
    survey_id = gateway.client.get(f"/api/v1/cases/{case_id}", headers=api(gateway)).get_json()[
        "survey_id"
    ]
    opened = client.post("/dashboard/cases", data={"survey_id": survey_id, "csrf_token": token})
    assert opened.status_code == 404


def test_an_analyst_opens_a_case_from_a_response(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "4", "yes")
    client = signed_in(gateway, ANALYST)
    token = csrf(client, "/dashboard/cases")
    response = client.post("/dashboard/cases", data={"survey_id": survey_id, "csrf_token": token})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"by staff:{ANALYST}" in html
