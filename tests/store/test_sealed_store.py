"""In the database, respondents' addresses are sealed tokens and keyed hashes only, on
SQLite and PostgreSQL, while the API and the conversation still see them in clear."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.app import create_app
from gateway.store.db import db_of
from gateway.store.models import Base, Survey
from gateway.store.sealing import contact_hash
from tests.conftest import SHIPPED_FLOWS
from tests.email.conftest import agency_for
from tests.sms.support import Gateway, make_gateway, replies, sms_settings

NUMBER = "+12025550142"
EMAIL = "Pat.Respondent@Example.gov"


def every_stored_value(gateway: Gateway) -> str:
    """Every table's every row, read with plain SQL, as one text."""
    engine = db_of(gateway.app).engine
    chunks = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(sa.text(f"SELECT * FROM {table.name}")):  # noqa: S608
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def test_no_table_holds_a_number_or_an_address_in_clear(database_url: str) -> None:
    gateway = make_gateway(database_url)
    survey_id = gateway.trigger(to=NUMBER)["id"]
    gateway.text("4", from_=NUMBER)
    gateway.text("yes", from_=NUMBER)
    gateway.text("STOP", from_=NUMBER)
    email_app = create_app(sms_settings(database_url, flows_dir=SHIPPED_FLOWS), {"TESTING": True})
    email_survey = agency_for(email_app).trigger(to=EMAIL)

    stored = every_stored_value(gateway)
    assert "2025550142" not in stored
    assert "pat.respondent" not in stored.lower()
    assert contact_hash(NUMBER) in stored  # found by its keyed hash
    # ... yet the agency's API and the conversation read them back.
    assert gateway.survey(survey_id)["to"] == NUMBER
    with db_of(email_app).session() as session:
        survey = session.get(Survey, email_survey["id"])
        assert survey is not None and survey.contact == "Pat.Respondent@example.gov"
    assert gateway.opted_out(NUMBER)


def test_the_raw_columns_hold_sealed_tokens(database_url: str) -> None:
    gateway = make_gateway(database_url)
    survey_id = gateway.trigger(to=NUMBER)["id"]
    gateway.text("4", from_=NUMBER)
    with db_of(gateway.app).engine.connect() as conn:
        contact, hashed = conn.execute(
            sa.text("SELECT contact, contact_hash FROM surveys WHERE id = :id"), {"id": survey_id}
        ).one()
        addresses = conn.execute(
            sa.text("SELECT direction, from_addr, to_addr, contact_hash FROM messages")
        ).all()
    assert contact.startswith("s0:") and hashed == contact_hash(NUMBER)
    assert {d for d, *_ in addresses} == {"inbound", "outbound"}
    for _direction, from_addr, to_addr, message_hash in addresses:
        assert from_addr is None or from_addr.startswith("s0:")
        assert to_addr is None or to_addr.startswith("s0:")
        assert message_hash == contact_hash(NUMBER)


def test_a_reply_finds_its_survey_by_the_hash(database_url: str) -> None:
    gateway = make_gateway(database_url)
    gateway.trigger(to=NUMBER)
    gateway.trigger(to="+12025550143")
    assert replies(gateway.text("4", from_=NUMBER)) == ["Would you come back? Reply YES or NO."]
    assert replies(gateway.text("4", from_="+12025550143")) == [
        "Would you come back? Reply YES or NO."
    ]


def test_a_batch_stores_its_numbers_sealed_and_honours_opt_outs_by_hash(
    database_url: str,
) -> None:
    gateway = make_gateway(database_url)
    first = gateway.trigger(to="+12025550151")["id"]
    gateway.text("STOP", from_="+12025550151")
    rows = [
        {"flow": "clinic-visit", "channel": "sms", "to": f"+1202555015{i}"} for i in range(1, 5)
    ]
    response = gateway.client.post(
        "/api/v1/surveys/batch",
        json={"surveys": rows},
        headers={"Authorization": f"Bearer {gateway.api_key}", "Idempotency-Key": "b1"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)

    stored = every_stored_value(gateway)
    for i in range(1, 5):
        assert f"202555015{i}" not in stored
    with db_of(gateway.app).session() as session:
        batch = session.scalars(sa.select(Survey).where(Survey.id != first)).all()
        statuses = {s.contact: s.status for s in batch}
    assert statuses == {
        "+12025550151": "opted_out",  # found by its hash, as a single trigger is
        "+12025550152": "sent",
        "+12025550153": "sent",
        "+12025550154": "sent",
    }
