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
