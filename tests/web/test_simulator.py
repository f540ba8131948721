"""The simulator: recorded texts and emails, and replies through the SMS webhook's handler."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.store.sealing import new_key
from tests.email.conftest import agency_for, email_settings
from tests.web.support import follow, page_form, text


def test_the_simulator_lists_simulated_emails_with_their_links(tmp_path: Path) -> None:
    app = create_app(email_settings(tmp_path, None), {"TESTING": True})
    agency_for(app).trigger()
    page = app.test_client().get("/simulator")
    assert page.status_code == 200
    assert "simulated" in text(page)
    assert '<a class="usa-link" href="https://gateway.example.gov/a/' in text(page)


def test_a_text_sent_in_the_simulator_goes_through_the_sms_handler(
    tmp_path: Path,
) -> None:
    app = create_app(email_settings(tmp_path, None), {"TESTING": True})
    client: FlaskClient = app.test_client()
    form = page_form(client.get("/simulator"))
    page = follow(client, form.submit(client, **{"from": "+12025550199", "body": "VISIT Downtown"}))
    assert "Text received" in text(page)
    with db_of(app).session() as session:
        survey = session.scalars(sa.select(Survey)).one()
        assert (survey.flow_id, survey.channel, survey.contact) == (
            "office-visit",
            "sms",
            "+12025550199",
        )
    assert "I am satisfied with the service I received today." in text(page)


def test_a_simulator_form_without_its_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/simulator/sms", data={"from": "+12025550199", "body": "VISIT"})
    assert response.status_code == 400


def test_the_simulator_is_not_served_in_production(tmp_path: Path) -> None:
    settings = email_settings(tmp_path, None).with_overrides(
        {
            "environment": "production",
            "contact_encryption_keys": f"k1:{new_key()}",
            "contact_hash_key": new_key(),
        }
    )
    app = create_app(settings, {"TESTING": True})
    assert app.test_client().get("/simulator").status_code == 404
