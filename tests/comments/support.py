"""A gateway with the comments tests' flow, driven by text, read back by API."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.agencies.keys import ensure_agency
from gateway.alerts import delivery as alert_delivery
from gateway.dashboard.auth import create_staff
from gateway.store.db import db_of
from tests.sms.support import Gateway, replies

FLOWS = Path(__file__).resolve().parent / "flows"
CRISIS_HOOK = "https://crisis.dmv.example.gov/hook"
SSN = "123-45-6789"
PHONE = "202-555-0143"
COMMENT = f"Waited 3 hours and the clerk was rude. My SSN is {SSN}, call me at {PHONE}"
PASSWORD = "correct horse battery"


def converse(gw: Gateway, texts: list[str], **trigger: object) -> tuple[str, list[list[str]]]:
    survey_id = gw.trigger(flow="comment-visit", context={"office": "Main"}, **trigger)["id"]
    answered = [replies(gw.text(text)) for text in texts]
    alert_delivery.wait_for_background(gw.app)
    return survey_id, answered


def api(gw: Gateway, path: str) -> str:
    response = gw.client.get(path, headers={"Authorization": f"Bearer {gw.api_key}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def dashboard(gw: Gateway, path: str) -> str:
    with db_of(gw.app).session() as session:
        create_staff(session, ensure_agency(session, "dmv"), "analyst@dmv.example.gov", PASSWORD)
    client = gw.app.test_client()
    html = client.get("/dashboard/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    login = {"email": "analyst@dmv.example.gov", "password": PASSWORD, "csrf_token": token[1]}
    assert client.post("/dashboard/login", data=login).status_code == 302
    page = client.get(path)
    assert page.status_code == 200
    return page.get_data(as_text=True)
