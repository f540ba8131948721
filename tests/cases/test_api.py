"""``/api/v1/cases``: list, read and change an agency's cases; events for each change;
another agency's keys see none of them."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gateway.alerts.rules import DISPATCH_KEY
from gateway.store.db import db_of
from gateway.store.results_models import Delivery
from tests.cases.conftest import ANALYST, VIEWER, answer_survey, api
from tests.sms.support import Gateway

SUBSCRIBER = "https://crm.dmv.example.gov/events"


def _open(gateway: Gateway) -> str:
    answer_survey(gateway, "1", "yes")
    listed = gateway.client.get("/api/v1/cases?view=open", headers=api(gateway)).get_json()
    return str(listed["data"][0]["id"])


def test_an_opened_case_is_listed_and_read_with_its_answers_and_conversation(
    gateway: Gateway,
) -> None:
    case_id = _open(gateway)
    case = gateway.client.get(f"/api/v1/cases/{case_id}", headers=api(gateway)).get_json()
    assert case["status"] == "new" and case["priority"] == "high"
    assert {a["question"]: a["value"] for a in case["answers"]} == {
        "satisfied": 1,
        "may_contact": "yes",
    }
    assert case["survey"]["context"] == {"office": "Downtown"}
    assert case["resolutions"] == ["fixed", "explained"]
    assert case["replies"] == ["apology"]


def test_a_case_is_assigned_worked_and_resolved_with_a_code(gateway: Gateway) -> None:
    case_id = _open(gateway)
    url = f"/api/v1/cases/{case_id}"
    assigned = gateway.client.patch(
        url, json={"assignee": ANALYST, "status": "in_progress"}, headers=api(gateway)
    )
    assert assigned.status_code == 200, assigned.get_json()
    assert assigned.get_json()["assignee"] == ANALYST
    assert assigned.get_json()["first_action_at"] is not None
    resolved = gateway.client.patch(
        url,
        json={"status": "resolved", "resolution": "fixed", "note": "Called back"},
        headers=api(gateway),
    ).get_json()
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "fixed")
    kinds = [h["kind"] for h in resolved["history"]]
    assert kinds == ["opened", "assigned", "status", "status", "note"]
    reopened = gateway.client.patch(url, json={"status": "in_progress"}, headers=api(gateway))
    body = reopened.get_json()
    assert body["resolved_at"] is None and body["resolution"] is None
    assert body["history"][-1]["detail"].startswith("reopened")


def test_a_refused_change_changes_nothing_and_names_the_field(gateway: Gateway) -> None:
    case_id = _open(gateway)
    url = f"/api/v1/cases/{case_id}"
    for body, field in [
        ({"status": "resolved", "resolution": "shrugged"}, "resolution"),
        ({"status": "resolved"}, "resolution"),
        ({"assignee": "nobody@dmv.example.gov"}, "assignee"),
        ({"assignee": VIEWER}, "assignee"),
        ({"note": "x" * 5001}, "note"),
        ({"link": case_id}, "link"),
        ({"colour": "red"}, "colour"),
        ({"priority": "extreme", "note": "kept?"}, "priority"),
    ]:
        response = gateway.client.patch(url, json=body, headers=api(gateway))
        assert response.status_code == 422, (body, response.get_json())
        assert response.get_json()["error"]["details"]["field"] == field
    case = gateway.client.get(url, headers=api(gateway)).get_json()
    assert [h["kind"] for h in case["history"]] == ["opened"]
    assert case["status"] == "new" and case["assignee"] is None


def test_cases_are_linked_both_ways(gateway: Gateway) -> None:
    first = _open(gateway)
    answer_survey(gateway, "2", "no")
    listed = gateway.client.get("/api/v1/cases", headers=api(gateway)).get_json()["data"]
    second = next(c["id"] for c in listed if c["id"] != first)
    response = gateway.client.patch(
        f"/api/v1/cases/{first}", json={"link": second}, headers=api(gateway)
    )
    assert response.get_json()["links"] == [second]
    other = gateway.client.get(f"/api/v1/cases/{second}", headers=api(gateway)).get_json()
    assert other["links"] == [first]


def test_the_list_filters_and_pages(gateway: Gateway) -> None:
    for score in ("1", "2", "1"):
        answer_survey(gateway, score, "yes")
    seen: list[str] = []
    cursor = None
    while True:
        query = "/api/v1/cases?limit=2&priority=high&office=Downtown"
        if cursor:
            query += f"&cursor={cursor}"
        page = gateway.client.get(query, headers=api(gateway)).get_json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3
    none = gateway.client.get("/api/v1/cases?priority=low", headers=api(gateway)).get_json()
    assert none["data"] == []
    bad = gateway.client.get("/api/v1/cases?view=someday", headers=api(gateway))
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["field"] == "view"
    bad = gateway.client.get("/api/v1/cases?cursor=zzz", headers=api(gateway))
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["field"] == "cursor"


@pytest.mark.parametrize(
    "query",
    [
        "/cases?channel=",
        "/cases?view=",
        "/cases?cursor=",
        "/cases/figures?to=",
        "/cases/figures?from=",
    ],
)
def test_a_parameter_given_empty_is_refused_and_named(gateway: Gateway, query: str) -> None:
    answer = gateway.client.get(f"/api/v1{query}", headers=api(gateway))
    assert answer.status_code == 400
    field = query.rsplit("?", 1)[1].rstrip("=")
    assert answer.get_json()["error"]["details"]["field"] == field


def test_another_agency_key_gets_404_on_every_case_endpoint(gateway: Gateway) -> None:
    case_id = _open(gateway)
    other = api(gateway, gateway.other_key)  # type: ignore[attr-defined]
    assert gateway.client.get(f"/api/v1/cases/{case_id}", headers=other).status_code == 404
    patched = gateway.client.patch(
        f"/api/v1/cases/{case_id}", json={"status": "resolved"}, headers=other
    )
    assert patched.status_code == 404
    assert gateway.client.get("/api/v1/cases", headers=other).get_json()["data"] == []
    survey_id = gateway.client.get(f"/api/v1/cases/{case_id}", headers=api(gateway)).get_json()[
        "survey_id"
    ]
    opened = gateway.client.post("/api/v1/cases", json={"survey_id": survey_id}, headers=other)
    assert opened.status_code == 404


def test_subscribers_receive_signed_case_events(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[int] = []
    monkeypatch.setitem(gateway.app.extensions, DISPATCH_KEY, queued.extend)
    subscribed = gateway.client.post(
        "/api/v1/webhooks",
        json={"url": SUBSCRIBER, "events": ["case.opened", "case.assigned", "case.status_changed"]},
        headers=api(gateway),
    )
    assert subscribed.status_code == 201, subscribed.get_json()
    case_id = _open(gateway)
    gateway.client.patch(
        f"/api/v1/cases/{case_id}",
        json={"assignee": ANALYST, "status": "in_progress"},
        headers=api(gateway),
    )
    with db_of(gateway.app).session() as session:
        rows = list(session.scalars(sa.select(Delivery).order_by(Delivery.id)))
    events = [(d.event, json.loads(d.body)["case_id"]) for d in rows]
    assert events == [
        ("case.opened", case_id),
        ("case.assigned", case_id),
        ("case.status_changed", case_id),
    ]
    assert json.loads(rows[1].body)["assignee"] == ANALYST
    assert queued == [d.id for d in rows]  # each handed to the queue once committed
