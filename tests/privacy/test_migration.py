"""p01_contact_privacy seals and hashes the plaintext contacts of an existing database,
drops the plaintext, and its downgrade opens them back, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.store import sealing as contacts
from gateway.store.db import alembic_config, make_engine, upgrade

BEFORE = "r02_results_covering_indexes"
NUMBER = "+12025550123"
EMAIL = "Jane.Doe@example.gov"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def keys() -> contacts.Keyring:
    keyring = contacts.keyring_from(None, None, "test-secret-key")
    contacts.install(keyring)
    return keyring


def seed_plaintext(url: str) -> None:
    survey = {
        "agency_id": 1,
        "flow_version_id": 1,
        "flow_id": "clinic-visit",
        "language": "en",
        "context": "{}",
        "state": "{}",
        "status": "completed",
        "created_at": NOW,
        "updated_at": NOW,
    }
    message = {
        "body": "",
        "status": "received",
        "attempts": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO agencies (id, slug, name, created_at) VALUES (1, 'dmv', 'DMV', :t)"
            ),
            {"t": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO flow_versions (id, flow_id, version, agency_slug, content_hash, "
                "source, source_path, loaded_at) VALUES (1, 'clinic-visit', 1, 'dmv', 'h', '', "
                "'f.yaml', :t)"
            ),
            {"t": NOW},
        )
        insert_survey = sa.text(
            "INSERT INTO surveys (id, agency_id, flow_version_id, flow_id, channel, contact, "
            "language, context, status, state, created_at, updated_at) VALUES (:id, :agency_id, "
            ":flow_version_id, :flow_id, :channel, :contact, :language, :context, :status, "
            ":state, :created_at, :updated_at)"
        )
        conn.execute(
            insert_survey,
            [
                {**survey, "id": "sv_sms", "channel": "sms", "contact": NUMBER},
                {**survey, "id": "sv_email", "channel": "email", "contact": EMAIL},
                {**survey, "id": "sv_web", "channel": "web", "contact": ""},
            ],
        )
        insert_message = sa.text(
            "INSERT INTO messages (survey_id, direction, channel, from_addr, to_addr, body, "
            "status, attempts, created_at, updated_at) VALUES (:survey_id, :direction, 'sms', "
            ":from_addr, :to_addr, :body, :status, :attempts, :created_at, :updated_at)"
        )
        conn.execute(
            insert_message,
            [
                {**message, "survey_id": "sv_sms", "direction": "outbound",
                 "from_addr": "+12025550100", "to_addr": NUMBER},
                {**message, "survey_id": "sv_sms", "direction": "inbound",
                 "from_addr": NUMBER, "to_addr": "+12025550100"},
                {**message, "survey_id": None, "direction": "inbound",
                 "from_addr": "+12025550199", "to_addr": "+12025550100"},
            ],
        )  # fmt: skip
        conn.execute(
            sa.text(
                "INSERT INTO opt_outs (contact, channel, keyword, created_at) "
                "VALUES (:contact, 'sms', 'STOP', :t)"
            ),
            [
                {"contact": NUMBER, "t": NOW},
                {"contact": "Jane.Doe@example.gov", "t": NOW},
                {"contact": "jane.doe@example.gov", "t": NOW},
                {"contact": "+12025550177", "t": NOW},
            ],
        )
    engine.dispose()


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        result = [tuple(row) for row in conn.execute(sa.text(sql))]
    engine.dispose()
    return result


def test_the_upgrade_seals_and_hashes_existing_contacts_and_drops_the_plaintext(
    empty_url: str, keys: contacts.Keyring
) -> None:
    upgrade(empty_url, BEFORE)
    seed_plaintext(empty_url)
    upgrade(empty_url, "p01_contact_privacy")

    surveys = {
        id_: (contact, hashed)
        for id_, contact, hashed in rows(empty_url, "SELECT id, contact, contact_hash FROM surveys")
    }
    assert keys.open(surveys["sv_sms"][0]) == NUMBER  # type: ignore[arg-type]
    assert surveys["sv_sms"][1] == keys.contact_hash(NUMBER)
    assert keys.open(surveys["sv_email"][0]) == EMAIL  # type: ignore[arg-type]
    assert surveys["sv_email"][1] == keys.contact_hash("jane.doe@example.gov")
    assert surveys["sv_web"] == (None, None)

    messages = rows(
        empty_url, "SELECT direction, from_addr, to_addr, contact_hash FROM messages ORDER BY id"
    )
    assert [(keys.open(m[1]), keys.open(m[2])) for m in messages] == [  # type: ignore[arg-type]
        ("+12025550100", NUMBER),
        (NUMBER, "+12025550100"),
        ("+12025550199", "+12025550100"),
    ]
    assert [m[3] for m in messages] == [
        keys.contact_hash(NUMBER),
        keys.contact_hash(NUMBER),
        keys.contact_hash("+12025550199"),
    ]
    # One opt-out per address: the two spellings of the email address became one.
    assert sorted(
        str(h) for (h,) in rows(empty_url, "SELECT contact_hash FROM opt_outs")
    ) == sorted(keys.contact_hash(c) for c in (NUMBER, EMAIL, "+12025550177"))
    everything = " ".join(
        str(v)
        for table in ("surveys", "messages", "opt_outs")
        for row in rows(empty_url, f"SELECT * FROM {table}")  # noqa: S608
        for v in row
    )
    assert "2025550" not in everything and "jane" not in everything.lower()


def test_the_downgrade_opens_the_contacts_back(empty_url: str, keys: contacts.Keyring) -> None:
    upgrade(empty_url, BEFORE)
    seed_plaintext(empty_url)
    upgrade(empty_url, "p01_contact_privacy")
    command.downgrade(alembic_config(empty_url), BEFORE)

    assert sorted(rows(empty_url, "SELECT id, contact FROM surveys"), key=str) == [
        ("sv_email", EMAIL),
        ("sv_sms", NUMBER),
        ("sv_web", ""),
    ]
    assert rows(empty_url, "SELECT from_addr, to_addr FROM messages ORDER BY id") == [
        ("+12025550100", NUMBER),
        (NUMBER, "+12025550100"),
        ("+12025550199", "+12025550100"),
    ]
    # An opt-out whose address no survey or message holds any more stays, as its hash.
    opt_outs = sorted(str(c) for (c,) in rows(empty_url, "SELECT contact FROM opt_outs"))
    assert opt_outs == sorted([NUMBER, EMAIL, f"hash:{keys.contact_hash('+12025550177')}"])
    upgrade(empty_url, "p01_contact_privacy")  # and up again
