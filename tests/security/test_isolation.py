"""Agency isolation: another agency's key or staff session sees nothing of dmv's.

Every endpoint under ``/api/`` and ``/dashboard`` is listed below, either with the test that
probes it from another agency or as public; a new endpoint that is neither fails
:func:`test_every_api_and_dashboard_endpoint_is_probed_or_public`. Where an endpoint takes
an id, dmv's id asked for by irs gets the very answer a missing id gets: 404, same body.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.store.comment_models import CommentReading
from gateway.store.db import db_of
from gateway.store.results_models import AlertSecret, WebhookSubscription
from tests.conftest import bearer
from tests.security.conftest import DmvRecords

#: Endpoints that show no agency's data, so have nothing to isolate.
PUBLIC = {
    "api_description.openapi_json": "the API's OpenAPI description",
    "dashboard.login": "the sign-in form",
    "dashboard.static": "stylesheets and images",
    "dashboard.logout": "ends the caller's own session",
    "dashboard_oidc.login": "sends the browser to the identity provider",
    "dashboard_oidc.callback": "signs in the staff member the provider names",
}

#: Endpoint -> the test below that asks it for dmv's data with irs credentials.
PROBED = {
    "api.surveys.create": "test_triggering_another_agencys_flow_is_answered_as_a_missing_flow",
    "api.batch.create_batch_view": (
        "test_a_batch_naming_another_agencys_flow_rejects_it_as_a_missing_flow"
    ),
    "api.surveys.show": "test_another_agencys_survey_is_answered_as_a_missing_survey",
    "api.responses.index": "test_responses_of_another_agencys_flow_are_empty",
    "api.reports.a11": "test_the_a11_report_of_another_agencys_flow_is_a_missing_flow",
    "api.webhooks.subscriptions": "test_listings_never_show_another_agencys_webhooks",
    "api.webhooks.subscribe": "test_listings_never_show_another_agencys_webhooks",
    "api.webhooks.unsubscribe": "test_deleting_another_agencys_webhook_is_a_missing_webhook",
    "api.webhooks.deliveries": "test_listings_never_show_another_agencys_webhooks",
    "api.webhooks.rotate_alert_secret": "test_rotating_the_alert_secret_leaves_other_agencies",
    "dashboard.index": "test_the_dashboard_lists_only_the_agencys_own_flows",
    "dashboard.flow_page": "test_another_agencys_flow_page_is_a_missing_page",
    "dashboard.comments_page": "test_another_agencys_comments_page_is_a_missing_page",
    "dashboard.deliveries_page": "test_the_dashboard_lists_only_the_agencys_own_flows",
    "api.agency.show": "test_agency_settings_are_the_agencys_own_and_admin_only",
    "api.agency.update": "test_agency_settings_are_the_agencys_own_and_admin_only",
    "api.agency.add_sender": "test_agency_settings_are_the_agencys_own_and_admin_only",
    "api.agency.default_sender": "test_agency_settings_are_the_agencys_own_and_admin_only",
    "api.agency.remove_sender": "test_agency_settings_are_the_agencys_own_and_admin_only",
    "api.agency.set_twilio_account": "test_agency_settings_are_the_agencys_own_and_admin_only",
    "api.agency.clear_twilio_account": "test_agency_settings_are_the_agencys_own_and_admin_only",
    "api.cases.list_cases": "test_case_listings_and_figures_never_show_another_agencys_cases",
    "api.cases.case_figures": "test_case_listings_and_figures_never_show_another_agencys_cases",
    "api.cases.open_case": "test_another_agencys_case_is_answered_as_a_missing_case",
    "api.cases.read_case": "test_another_agencys_case_is_answered_as_a_missing_case",
    "api.cases.update_case": "test_another_agencys_case_is_answered_as_a_missing_case",
    "api.cases.reply": "test_another_agencys_case_is_answered_as_a_missing_case",
    "dashboard.cases_page": "test_case_listings_and_figures_never_show_another_agencys_cases",
    "dashboard.figures_page": "test_case_listings_and_figures_never_show_another_agencys_cases",
    "dashboard.open_case": "test_another_agencys_case_page_is_a_missing_page",
    "dashboard.case_page": "test_another_agencys_case_page_is_a_missing_page",
    "dashboard.case_action": "test_another_agencys_case_page_is_a_missing_page",
    "api.comments.index": "test_another_agencys_comments_are_never_listed_or_corrected",
    "dashboard.themes_page": "test_another_agencys_comments_are_never_listed_or_corrected",
    "dashboard.theme_comments_page": "test_another_agencys_comments_are_never_listed_or_corrected",
    "dashboard.correct_comment_themes": (
        "test_another_agencys_comments_are_never_listed_or_corrected"
    ),
}


def guarded_rules(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") or rule.rule.startswith("/dashboard")
    ]


def test_every_api_and_dashboard_endpoint_is_probed_or_public(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in guarded_rules(app)}
    assert sorted(endpoints - PROBED.keys() - PUBLIC.keys()) == []
    assert sorted(PROBED.keys() - endpoints) == []  # no stale entries
    for test_name in PROBED.values():
        assert callable(globals().get(test_name)), test_name


def filled_path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", "x1", rule.rule)


def test_every_api_endpoint_refuses_a_request_without_a_key(app: Flask) -> None:
    client = app.test_client()
    for rule in guarded_rules(app):
        if not rule.rule.startswith("/api/") or rule.endpoint in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(filled_path(rule), method=method)
            assert response.status_code == 401, (method, rule.rule)


def test_every_dashboard_page_sends_a_stranger_to_the_sign_in(app: Flask) -> None:
    client = app.test_client()
    for rule in guarded_rules(app):
        if not rule.rule.startswith("/dashboard") or rule.endpoint in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(filled_path(rule), method=method)
            assert response.status_code == 302, (method, rule.rule)
            assert response.headers["Location"].startswith("/dashboard/login"), rule.rule


def assert_same_as_missing(
    other: TestResponse, missing: TestResponse, other_id: str, missing_id: str
) -> None:
    """404 both, and the bodies equal once each names its own id."""
    assert other.status_code == missing.status_code == 404
    assert other.get_data(as_text=True).replace(other_id, "ID") == missing.get_data(
        as_text=True
    ).replace(missing_id, "ID")


def missing_like(identifier: str) -> str:
    """An id shaped like ``identifier`` that names nothing."""
    return identifier[:3] + "0" * (len(identifier) - 3)


def test_another_agencys_survey_is_answered_as_a_missing_survey(
    client: FlaskClient, irs_key: str, dmv_key: str, dmv_records: DmvRecords
) -> None:
    survey_id = dmv_records.survey_id
    missing = missing_like(survey_id)
    other = client.get(f"/api/v1/surveys/{survey_id}", headers=bearer(irs_key))
    absent = client.get(f"/api/v1/surveys/{missing}", headers=bearer(irs_key))
    assert_same_as_missing(other, absent, survey_id, missing)
    own = client.get(f"/api/v1/surveys/{survey_id}", headers=bearer(dmv_key))
    assert own.status_code == 200  # the probe asked for something that exists


def test_triggering_another_agencys_flow_is_answered_as_a_missing_flow(
    client: FlaskClient, irs_key: str, dmv_records: DmvRecords
) -> None:
    body = {"channel": "sms", "to": "+12025550123"}
    other = client.post(
        "/api/v1/surveys", json={**body, "flow": "dmv-visit"}, headers=bearer(irs_key)
    )
    absent = client.post(
        "/api/v1/surveys", json={**body, "flow": "abc-zzzzz"}, headers=bearer(irs_key)
    )
    assert_same_as_missing(other, absent, "dmv-visit", "abc-zzzzz")


def test_responses_of_another_agencys_flow_are_empty(
    client: FlaskClient, irs_key: str, dmv_records: DmvRecords
) -> None:
    listing = client.get("/api/v1/responses", headers=bearer(irs_key))
    assert listing.get_json()["data"] == []
    by_flow = client.get("/api/v1/responses?flow=dmv-visit", headers=bearer(irs_key))
    assert by_flow.get_json() == {"data": [], "next_cursor": None}
    other = client.get("/api/v1/responses?flow=dmv-visit&format=csv", headers=bearer(irs_key))
    absent = client.get("/api/v1/responses?flow=abc-zzzzz&format=csv", headers=bearer(irs_key))
    assert_same_as_missing(other, absent, "dmv-visit", "abc-zzzzz")


def test_the_a11_report_of_another_agencys_flow_is_a_missing_flow(
    client: FlaskClient, irs_key: str, dmv_records: DmvRecords
) -> None:
    for fmt in ("json", "csv"):
        query = f"fiscal_year=2027&quarter=1&format={fmt}"
        other = client.get(f"/api/v1/reports/a11?flow=dmv-visit&{query}", headers=bearer(irs_key))
        absent = client.get(f"/api/v1/reports/a11?flow=abc-zzzzz&{query}", headers=bearer(irs_key))
        assert_same_as_missing(other, absent, "dmv-visit", "abc-zzzzz")


def test_listings_never_show_another_agencys_webhooks(
    client: FlaskClient, irs_key: str, dmv_records: DmvRecords
) -> None:
    made = client.post(
        "/api/v1/webhooks", json={"url": "https://hooks.irs.example.gov/"}, headers=bearer(irs_key)
    )
    assert made.status_code == 201
    subscriptions = client.get("/api/v1/webhooks", headers=bearer(irs_key)).get_json()["data"]
    assert [s["url"] for s in subscriptions] == ["https://hooks.irs.example.gov/"]
    deliveries = client.get("/api/v1/webhooks/deliveries", headers=bearer(irs_key))
    assert deliveries.get_json()["data"] == []
    before = f"/api/v1/webhooks/deliveries?before={dmv_records.delivery_id + 1}"
    assert client.get(before, headers=bearer(irs_key)).get_json()["data"] == []


def test_deleting_another_agencys_webhook_is_a_missing_webhook(
    app: Flask, client: FlaskClient, irs_key: str, dmv_records: DmvRecords
) -> None:
    sub_id = dmv_records.subscription_id
    missing = missing_like(sub_id)
    other = client.delete(f"/api/v1/webhooks/{sub_id}", headers=bearer(irs_key))
    absent = client.delete(f"/api/v1/webhooks/{missing}", headers=bearer(irs_key))
    assert_same_as_missing(other, absent, sub_id, missing)
    with db_of(app).session() as session:
        sub = session.get(WebhookSubscription, sub_id)
        assert sub is not None and sub.deleted_at is None


def test_rotating_the_alert_secret_leaves_other_agencies(
    app: Flask, client: FlaskClient, irs_key: str, dmv_key: str, dmv_records: DmvRecords
) -> None:
    dmv_secret = client.post("/api/v1/webhooks/alert-secret", headers=bearer(dmv_key))
    irs_secret = client.post("/api/v1/webhooks/alert-secret", headers=bearer(irs_key))
    assert irs_secret.get_json()["secret"] != dmv_secret.get_json()["secret"]
    with db_of(app).session() as session:
        stored = session.scalars(sa.select(AlertSecret.secret)).all()
    assert dmv_secret.get_json()["secret"] in stored


def test_another_agencys_flow_page_is_a_missing_page(
    irs_staff: FlaskClient, dmv_records: DmvRecords
) -> None:
    other = irs_staff.get("/dashboard/flows/dmv-visit")
    absent = irs_staff.get("/dashboard/flows/abc-zzzzz")
    assert_same_as_missing(other, absent, "dmv-visit", "abc-zzzzz")


def test_another_agencys_comments_page_is_a_missing_page(
    irs_staff: FlaskClient, dmv_records: DmvRecords
) -> None:
    other = irs_staff.get("/dashboard/flows/dmv-visit/comments")
    absent = irs_staff.get("/dashboard/flows/abc-zzzzz/comments")
    assert_same_as_missing(other, absent, "dmv-visit", "abc-zzzzz")
    assert dmv_records.comment not in other.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/deliveries"])
def test_the_dashboard_lists_only_the_agencys_own_flows(
    irs_staff: FlaskClient, dmv_records: DmvRecords, path: str
) -> None:
    page = irs_staff.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for secret in ("dmv-visit", "hooks.dmv.example.gov", dmv_records.survey_id):
        assert secret not in html


def test_a_batch_naming_another_agencys_flow_rejects_it_as_a_missing_flow(
    client: FlaskClient, irs_key: str, dmv_records: DmvRecords
) -> None:
    row = {"channel": "sms", "to": "+12025550123"}
    body = {"surveys": [{**row, "flow": "dmv-visit"}, {**row, "flow": "abc-zzzzz"}]}
    response = client.post("/api/v1/surveys/batch", json=body, headers=bearer(irs_key))
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["accepted"] == 0
    other, absent = answer["rejected"]
    assert str(other).replace("dmv-visit", "ID").replace("'row': 1", "'row': N") == str(
        absent
    ).replace("abc-zzzzz", "ID").replace("'row': 2", "'row': N")


def _dmv_case(client: FlaskClient, dmv_key: str, survey_id: str) -> str:
    opened = client.post("/api/v1/cases", json={"survey_id": survey_id}, headers=bearer(dmv_key))
    assert opened.status_code == 201, opened.get_json()
    case_id: str = opened.get_json()["id"]
    return case_id


def test_another_agencys_case_is_answered_as_a_missing_case(
    client: FlaskClient, irs_key: str, dmv_key: str, dmv_records: DmvRecords
) -> None:
    case_id = _dmv_case(client, dmv_key, dmv_records.survey_id)
    missing = missing_like(case_id)
    irs = bearer(irs_key)
    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"note": "seen"}),
        ("POST", "/replies", {"template": "apology"}),
    ]:
        other = client.open(
            f"/api/v1/cases/{case_id}{suffix}", method=method, json=body, headers=irs
        )
        absent = client.open(
            f"/api/v1/cases/{missing}{suffix}", method=method, json=body, headers=irs
        )
        assert_same_as_missing(other, absent, case_id, missing)
    survey_id = dmv_records.survey_id
    missing_survey = missing_like(survey_id)
    other = client.post("/api/v1/cases", json={"survey_id": survey_id}, headers=irs)
    absent = client.post("/api/v1/cases", json={"survey_id": missing_survey}, headers=irs)
    assert_same_as_missing(other, absent, survey_id, missing_survey)
    own = client.get(f"/api/v1/cases/{case_id}", headers=bearer(dmv_key)).get_json()
    assert [h["kind"] for h in own["history"]] == ["opened"]  # nothing irs sent landed


def test_case_listings_and_figures_never_show_another_agencys_cases(
    client: FlaskClient,
    irs_key: str,
    dmv_key: str,
    irs_staff: FlaskClient,
    dmv_records: DmvRecords,
) -> None:
    case_id = _dmv_case(client, dmv_key, dmv_records.survey_id)
    listed = client.get("/api/v1/cases?view=all", headers=bearer(irs_key)).get_json()
    assert listed["data"] == []
    found = client.get(
        "/api/v1/cases/figures?from=2026-01-01&to=2026-12-31", headers=bearer(irs_key)
    ).get_json()
    assert found["by_flow"] == [] and found["by_office"] == []
    assert "dmv-visit" not in str(found)
    for path in ("/dashboard/cases?view=all", "/dashboard/cases/figures?from=2026-01-01"):
        page = irs_staff.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert case_id not in html and "dmv-visit" not in html


def test_another_agencys_case_page_is_a_missing_page(
    client: FlaskClient, dmv_key: str, irs_staff: FlaskClient, dmv_records: DmvRecords
) -> None:
    case_id = _dmv_case(client, dmv_key, dmv_records.survey_id)
    missing = missing_like(case_id)
    other = irs_staff.get(f"/dashboard/cases/{case_id}")
    absent = irs_staff.get(f"/dashboard/cases/{missing}")
    assert_same_as_missing(other, absent, case_id, missing)
    html = irs_staff.get("/dashboard/cases").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    for action in ("assign", "status", "priority", "note", "link", "reply"):
        form = {"csrf_token": token[1], "note": "seen", "template": "apology"}
        other = irs_staff.post(f"/dashboard/cases/{case_id}/{action}", data=form)
        absent = irs_staff.post(f"/dashboard/cases/{missing}/{action}", data=form)
        assert_same_as_missing(other, absent, case_id, missing)
    survey_id = dmv_records.survey_id
    form = {"csrf_token": token[1], "survey_id": survey_id}
    other = irs_staff.post("/dashboard/cases", data=form)
    absent = irs_staff.post("/dashboard/cases", data={**form, "survey_id": missing_like(survey_id)})
    assert_same_as_missing(other, absent, survey_id, missing_like(survey_id))
    own = client.get(f"/api/v1/cases/{case_id}", headers=bearer(dmv_key)).get_json()
    assert [h["kind"] for h in own["history"]] == ["opened"]


DMV_ACCOUNT = "AC" + "d" * 32
DMV_TOKEN = "0123456789abcdef0123456789abcdef"


def _admin_key(app: Flask, slug: str) -> str:
    with db_of(app).session() as session:
        _, key = create_api_key(session, ensure_agency(session, slug), "admin", admin=True)
    return key


def test_agency_settings_are_the_agencys_own_and_admin_only(
    app: Flask, client: FlaskClient, dmv_key: str, irs_key: str, dmv_records: DmvRecords
) -> None:
    dmv_admin, irs_admin = _admin_key(app, "dmv"), _admin_key(app, "irs")
    added = client.post(
        "/api/v1/agency/senders",
        json={"channel": "sms", "address": "+12025550100"},
        headers=bearer(dmv_admin),
    )
    assert added.status_code == 201
    sender_id = str(added.get_json()["id"])
    account = {"account_sid": DMV_ACCOUNT, "auth_token": DMV_TOKEN}
    set_account = client.put(
        "/api/v1/agency/twilio-account", json=account, headers=bearer(dmv_admin)
    )
    assert set_account.status_code == 200
    missing = str(int(sender_id) + 1000)
    # Another agency's admin: its own settings only, dmv's sender id as a missing one.
    seen = client.get("/api/v1/agency", headers=bearer(irs_admin)).get_json()
    assert seen["agency"] == "irs" and seen["senders"] == [] and seen["twilio_account"] is None
    for method, suffix in (("DELETE", ""), ("POST", "/default")):
        other = client.open(
            f"/api/v1/agency/senders/{sender_id}{suffix}", method=method, headers=bearer(irs_admin)
        )
        absent = client.open(
            f"/api/v1/agency/senders/{missing}{suffix}", method=method, headers=bearer(irs_admin)
        )
        assert_same_as_missing(other, absent, sender_id, missing)
    taken = client.post(
        "/api/v1/agency/senders",
        json={"channel": "sms", "address": "+12025550100"},
        headers=bearer(irs_admin),
    )
    assert taken.status_code == 422 and "dmv" not in taken.get_data(as_text=True)
    # Keys that are not admin keys, of either agency, neither read nor change anything.
    calls = [
        ("GET", "/api/v1/agency", None),
        ("PATCH", "/api/v1/agency", {"display_name": "Hijacked"}),
        ("POST", "/api/v1/agency/senders", {"channel": "sms", "address": "+12025550199"}),
        ("POST", f"/api/v1/agency/senders/{sender_id}/default", None),
        ("DELETE", f"/api/v1/agency/senders/{sender_id}", None),
        ("PUT", "/api/v1/agency/twilio-account", account),
        ("DELETE", "/api/v1/agency/twilio-account", None),
    ]
    for key in (dmv_key, irs_key):
        for method, path, body in calls:
            answer = client.open(path, method=method, json=body, headers=bearer(key))
            assert answer.status_code == 403, (method, path)
    mine = client.get("/api/v1/agency", headers=bearer(dmv_admin))
    shown = mine.get_json()
    assert shown["display_name"] is None
    assert [s["address"] for s in shown["senders"]] == ["+12025550100"]
    assert shown["twilio_account"]["account_sid"] == DMV_ACCOUNT
    # The token is never given back, by any answer.
    for answer in (added, set_account, mine):
        assert DMV_TOKEN not in answer.get_data(as_text=True)


def test_another_agencys_comments_are_never_listed_or_corrected(
    app: Flask, irs_staff: FlaskClient, irs_key: str, dmv_records: DmvRecords
) -> None:
    with db_of(app).session() as session:
        reading = CommentReading(
            id=424242,  # an id no page's text holds by chance
            survey_id=dmv_records.survey_id,
            question_id="comment",
            agency_id=session.scalar(sa.text("SELECT id FROM agencies WHERE slug = 'dmv'")),
            flow_id=dmv_records.flow_id,
            channel="sms",
            language="en",
            themes=["staff_courtesy"],
            sentiment="negative",
            reader="rules",
        )
        session.add(reading)
        session.flush()
        reading_id = str(reading.id)
    listed = app.test_client().get(
        f"/api/v1/comments?flow={dmv_records.flow_id}", headers=bearer(irs_key)
    )
    assert listed.status_code == 200 and listed.get_json()["data"] == []
    for page in ("themes", "themes/comments"):
        other = irs_staff.get(f"/dashboard/flows/dmv-visit/{page}")
        absent = irs_staff.get(f"/dashboard/flows/abc-zzzzz/{page}")
        assert_same_as_missing(other, absent, "dmv-visit", "abc-zzzzz")
    token = re.search(r'name="csrf_token" value="([^"]+)"', irs_staff.get("/dashboard/").text)
    assert token is not None
    form = {"csrf_token": token[1], "theme": ["fees"]}
    other = irs_staff.post(f"/dashboard/comments/{reading_id}/themes", data=form)
    absent = irs_staff.post("/dashboard/comments/999999999/themes", data=form)
    assert_same_as_missing(other, absent, reading_id, "999999999")
    with db_of(app).session() as session:
        kept = session.get(CommentReading, int(reading_id))
        assert kept is not None and kept.corrected_themes is None
