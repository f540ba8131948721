"""`gateway agencies ...` and the admin API keep an agency's settings: checked whole
(a bad value changes nothing), audited, the Twilio token sealed and never shown; and
`gateway flows check` refuses a flow naming a sender its agency does not own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from gateway.agencies import profiles, senders
from gateway.agencies.keys import ensure_agency
from gateway.agencies.profiles import contact_hours
from gateway.cli import main
from gateway.flows.loader import load_flow_text
from gateway.privacy.rotation import rotate
from gateway.reach.windows import next_contact_time
from gateway.store import sealing
from gateway.store.agency_models import AgencySender
from gateway.store.db import Database
from gateway.store.models import Agency
from gateway.store.security_models import AuditEvent

TOKEN = "0123456789abcdef0123456789abcdef"
ACCOUNT = "AC" + "a" * 32


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'agencies.sqlite3'}"


@pytest.fixture
def database(url: str) -> Iterator[Database]:
    database = Database(url)
    database.upgrade()
    yield database
    database.dispose()


def run(url: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"DATABASE_URL": url}, input=input)


def ok(url: str, *args: str, input: str | None = None) -> str:
    result = run(url, *args, input=input)
    assert result.exit_code == 0, result.output
    return result.stdout  # what the command prints; its log lines go to stderr


def shown(url: str, slug: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(url, "agencies", "show", slug))
    return data


def test_an_agency_is_created_given_settings_and_senders_and_audited(
    url: str, database: Database
) -> None:
    ok(url, "agencies", "create", "dmv", "--name", "Department of Motor Vehicles")
    ok(
        url,
        "agencies",
        "set",
        "dmv",
        "--set",
        "display_name=DMV",
        "--set",
        "email_from=feedback@dmv.example.gov",
        "--set",
        "email_reply_to=help@dmv.example.gov",
        "--set",
        "quiet_hours=09:00-20:00",
    )
    ok(url, "agencies", "add-sender", "dmv", "sms", "+12025550111", "--label", "visits")
    ok(url, "agencies", "add-sender", "dmv", "voice", "+12025550111")
    ok(url, "agencies", "add-sender", "dmv", "sms", "+12025550112", "--default")
    settings = shown(url, "dmv")
    assert settings["display_name"] == "DMV"
    assert settings["email_from"] == "feedback@dmv.example.gov"
    assert settings["quiet_hours"] == "09:00-20:00"
    by_address = {(s["channel"], s["address"]): s["default"] for s in settings["senders"]}
    assert by_address == {
        ("sms", "+12025550111"): False,
        ("sms", "+12025550112"): True,
        ("voice", "+12025550111"): True,
    }
    with database.session() as session:
        actions = list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == [
        "agency.created",
        "agency.updated",
        "agency.sender_added",
        "agency.sender_added",
        "agency.sender_added",
    ]


def test_the_twilio_token_is_sealed_at_rest_and_never_shown(url: str, database: Database) -> None:
    ok(url, "agencies", "create", "irs", "--name", "Internal Revenue Service")
    output = ok(url, "agencies", "set-twilio", "irs", "--account-sid", ACCOUNT, input=TOKEN + "\n")
    assert TOKEN not in output
    settings = shown(url, "irs")
    assert settings["twilio_account"] == {"account_sid": ACCOUNT, "auth_token": "set, not shown"}
    assert TOKEN not in json.dumps(settings)
    with database.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT twilio_auth_token FROM agencies")).scalar_one()
    assert TOKEN not in stored
    with database.session() as session:
        agency = session.scalars(sa.select(Agency)).one()
        assert agency.twilio_auth_token == TOKEN  # opened with the contact keys
    ok(url, "agencies", "clear-twilio", "irs")
    assert shown(url, "irs")["twilio_account"] is None


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("set", "dmv", "--set", "email_from=not an address"), "email_from"),
        (("set", "dmv", "--set", "quiet_hours=21:00-08:00"), "start comes before the end"),
        (("set", "dmv", "--set", "help_text=Call us anytime"), "reply STOP"),
        (("set", "dmv", "--set", "colour=blue"), "unknown setting"),
        (("set", "dmv", "--set", "name="), "may not be empty"),
        (("set", "dmv", "--set", "name=   "), "may not be empty"),
        # A C1 control, a line separator, a right-to-left override: not in a name shown
        # as an email's From or in a text.
        (("set", "dmv", "--set", "display_name=DMV\x85Bcc: x@example.gov"), "control"),
        (("set", "dmv", "--set", "display_name=DMV\u2028Bcc: x@example.gov"), "control"),
        (("set", "dmv", "--set", "display_name=\u202eSRI"), "control"),
        (("add-sender", "dmv", "sms", "2025550111"), "E.164"),
        (("add-sender", "dmv", "voice", "MG" + "1" * 32), "not a Messaging Service"),
        (("add-sender", "dmv", "sms", "+12025550113", "--service", "MG" + "1" * 32), "first"),
        (("set-twilio", "dmv", "--account-sid", "AC123", "--auth-token", TOKEN), "account SID"),
        (("set-twilio", "dmv", "--account-sid", ACCOUNT, "--auth-token", "short"), "auth token"),
        (("remove-sender", "dmv", "999"), "no sender"),
        (("set", "nobody", "--set", "display_name=X"), "no agency 'nobody'"),
    ],
)
def test_a_bad_setting_is_refused_with_its_reason_and_changes_nothing(
    url: str, database: Database, args: tuple[str, ...], said: str
) -> None:
    ok(url, "agencies", "create", "dmv", "--name", "Department of Motor Vehicles")
    before = shown(url, "dmv")
    result = run(url, "agencies", *args)
    assert result.exit_code != 0
    assert said in result.output
    assert shown(url, "dmv") == before


def test_one_bad_value_keeps_the_good_ones_given_with_it_from_being_applied(
    url: str, database: Database
) -> None:
    ok(url, "agencies", "create", "dmv", "--name", "Department of Motor Vehicles")
    result = run(
        url, "agencies", "set", "dmv", "--set", "display_name=DMV", "--set", "email_from=nope"
    )
    assert result.exit_code != 0
    assert shown(url, "dmv")["display_name"] is None


def test_a_number_belongs_to_one_agency(url: str, database: Database) -> None:
    ok(url, "agencies", "create", "dmv", "--name", "DMV")
    ok(url, "agencies", "create", "irs", "--name", "IRS")
    ok(url, "agencies", "add-sender", "dmv", "sms", "+12025550111")
    taken = run(url, "agencies", "add-sender", "irs", "sms", "+12025550111")
    assert taken.exit_code != 0 and "registered already" in taken.output
    assert "dmv" not in taken.output.lower()
    assert shown(url, "irs")["senders"] == []


def test_a_number_belongs_to_one_agency_whatever_the_channel(database: Database) -> None:
    # One Twilio account holds a number for texts and calls alike: a webhook naming it is
    # signed by one token, so another agency may not claim its other channel.
    with database.session() as session:
        dmv = ensure_agency(session, "dmv")
        irs = ensure_agency(session, "irs")
        senders.add_sender(session, dmv, "sms", "+12025550111")
        with pytest.raises(senders.SenderError, match="registered already") as refused:
            senders.add_sender(session, irs, "voice", "+12025550111")
        assert "dmv" not in str(refused.value).lower()
        # The agency that holds it may call from it too.
        senders.add_sender(session, dmv, "voice", "+12025550111")
    with database.session() as session:
        owners = session.execute(sa.select(AgencySender.agency_id, AgencySender.channel)).all()
        assert sorted(channel for _, channel in owners) == ["sms", "voice"]
        assert len({agency_id for agency_id, _ in owners}) == 1


def test_a_pool_number_is_not_removed_while_a_survey_is_open_on_its_service(
    database: Database,
) -> None:
    service = "MG" + "b" * 32
    with database.session() as session:
        agency = ensure_agency(session, "dmv")
        senders.add_sender(session, agency, "sms", service)
        pooled = senders.add_sender(session, agency, "sms", "+12025550111", service=service)
        session.execute(
            sa.text(
                "INSERT INTO flow_versions (flow_id, version, agency_slug, content_hash, source,"
                " source_path, loaded_at) VALUES ('f', 1, 'dmv', 'h', '', '', '2026-01-01')"
            )
        )
        session.execute(
            sa.text(
                "INSERT INTO surveys (id, agency_id, flow_version_id, flow_id, channel, language,"
                " context, status, state, created_at, updated_at, sender) VALUES ('sv_1', :a, 1,"
                " 'f', 'sms', 'en', '{}', 'sent', '{}', '2026-01-01', '2026-01-01', :s)"
            ),
            {"a": agency.id, "s": service},
        )
        pooled_id = pooled.id
    # A reply to the pool number reaches the survey on the service only while it is known.
    with database.session() as session:
        agency = session.scalars(sa.select(Agency)).one()
        with pytest.raises(senders.SenderError, match="still open"):
            senders.remove_sender(session, agency, pooled_id)
    with database.session() as session:
        assert session.get(AgencySender, pooled_id) is not None


def test_a_sender_with_an_open_survey_is_not_removed(database: Database) -> None:
    with database.session() as session:
        agency = ensure_agency(session, "dmv")
        sender = senders.add_sender(session, agency, "sms", "+12025550111")
        session.execute(
            sa.text(
                "INSERT INTO flow_versions (flow_id, version, agency_slug, content_hash, source,"
                " source_path, loaded_at) VALUES ('f', 1, 'dmv', 'h', '', '', '2026-01-01')"
            )
        )
        session.execute(
            sa.text(
                "INSERT INTO surveys (id, agency_id, flow_version_id, flow_id, channel, language,"
                " context, status, state, created_at, updated_at, sender) VALUES ('sv_1', :a, 1,"
                " 'f', 'sms', 'en', '{}', 'sent', '{}', '2026-01-01', '2026-01-01', :s)"
            ),
            {"a": agency.id, "s": "+12025550111"},
        )
        sender_id = sender.id
    with database.session() as session:
        agency = session.scalars(sa.select(Agency)).one()
        with pytest.raises(senders.SenderError, match="still open"):
            senders.remove_sender(session, agency, sender_id)
    with database.session() as session:
        assert session.get(AgencySender, sender_id) is not None


def test_removing_the_default_makes_the_next_sender_the_default(database: Database) -> None:
    with database.session() as session:
        agency = ensure_agency(session, "dmv")
        first = senders.add_sender(session, agency, "sms", "+12025550111")
        second = senders.add_sender(session, agency, "sms", "+12025550112")
        assert (first.is_default, second.is_default) == (True, False)
        senders.remove_sender(session, agency, first.id)
        assert senders.default_sender(session, agency.id, "sms") == second


def test_the_email_identity_falls_back_to_the_deployments(database: Database) -> None:
    with database.session() as session:
        agency = ensure_agency(session, "dmv", name="Department of Motor Vehicles")
        assert profiles.email_identity(agency) == profiles.EmailIdentity()
        profiles.update_profile(session, agency, {"email_from": "feedback@dmv.example.gov"})
        assert profiles.email_identity(agency) == profiles.EmailIdentity(
            "feedback@dmv.example.gov", "Department of Motor Vehicles", None
        )


SENDING_FLOW = """\
id: dmv-visit
version: 1
title: Visit
agency: dmv
channels: [sms]
sender: "{sender}"
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
"""


def test_flows_check_refuses_a_sender_the_agency_does_not_own(
    url: str, database: Database, tmp_path: Path
) -> None:
    ok(url, "agencies", "create", "dmv", "--name", "DMV")
    ok(url, "agencies", "create", "irs", "--name", "IRS")
    ok(url, "agencies", "add-sender", "dmv", "sms", "+12025550111")
    ok(url, "agencies", "add-sender", "irs", "sms", "+12025550122")
    own = tmp_path / "own.yaml"
    own.write_text(SENDING_FLOW.format(sender="+12025550111"))
    assert run(url, "flows", "check", str(own)).exit_code == 0
    other = tmp_path / "other.yaml"
    other.write_text(SENDING_FLOW.format(sender="+12025550122"))
    refused = run(url, "flows", "check", str(other))
    assert refused.exit_code == 1
    assert f"{other}:6:1: sender.sms +12025550122 is not an sms sender of agency 'dmv'" in (
        refused.output
    )


def test_flows_check_says_when_it_cannot_check_senders(tmp_path: Path) -> None:
    flow = tmp_path / "own.yaml"
    flow.write_text(SENDING_FLOW.format(sender="+12025550111"))
    result = CliRunner().invoke(main, ["flows", "check", str(flow)], env={"DATABASE_URL": ""})
    assert result.exit_code == 0
    assert "not checked against the agencies' senders" in result.output


def test_a_malformed_sender_is_a_flow_error(tmp_path: Path) -> None:
    flow = tmp_path / "bad.yaml"
    flow.write_text(SENDING_FLOW.format(sender="2025550111"))
    result = CliRunner().invoke(main, ["flows", "check", str(flow)], env={"DATABASE_URL": ""})
    assert result.exit_code == 1
    assert "is not an E.164 number" in result.output


def test_the_agencys_quiet_hours_hold_a_flow_that_sets_none(database: Database) -> None:
    flow = load_flow_text(SENDING_FLOW.format(sender="+12025550111"), "dmv.yaml").flow
    assert flow is not None
    # 16:30 in Washington, DC (UTC-5 in January): inside 08:00-21:00, outside 09:00-16:00.
    now = datetime(2027, 1, 12, 21, 30, tzinfo=UTC)
    with database.session() as session:
        agency = ensure_agency(session, "dmv")
        assert next_contact_time(flow, "+12025550123", "sms", now, contact_hours(agency)) is None
        profiles.update_profile(session, agency, {"quiet_hours": "09:00-16:00"})
        later = next_contact_time(flow, "+12025550123", "sms", now, contact_hours(agency))
    assert later == datetime(2027, 1, 13, 14, 0, tzinfo=UTC)


def test_rotating_the_contact_keys_reseals_the_twilio_token(database: Database) -> None:
    old, new, hash_key = sealing.new_key(), sealing.new_key(), sealing.new_key()
    installed = sealing.keyring()
    try:
        sealing.install(sealing.keyring_from(f"old:{old}", hash_key, None))
        with database.session() as session:
            profiles.set_twilio_account(session, ensure_agency(session, "irs"), ACCOUNT, TOKEN)
        with database.session() as session:
            rotated = rotate(session, sealing.keyring_from(f"new:{new},old:{old}", hash_key, None))
        assert rotated.resealed["agencies.twilio_auth_token"] == 1
        sealing.install(sealing.keyring_from(f"new:{new}", hash_key, None))
        with database.session() as session:
            assert session.scalars(sa.select(Agency)).one().twilio_auth_token == TOKEN
    finally:
        sealing.install(installed)
