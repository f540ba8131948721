"""One gateway, two agencies, each texting from its own number through its own Twilio
account (the Twilio double stands in for both accounts): the same citizen answers both
agencies' surveys with interleaved replies, and neither survey disturbs the other."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.test import TestResponse

from gateway.agencies import profiles, senders
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.flows.catalog import message as catalog_message
from gateway.store.agency_models import AgencyOptOut
from gateway.store.db import db_of
from gateway.store.models import Agency, Message, OptOut
from gateway.twilio.signature import owners_of
from tests.sms.support import Gateway, count_views, make_gateway, replies
from tests.support.twilio_double import Received, TwilioDouble

CITIZEN = "+12025550123"
DEPLOYMENT_NUMBER = "+12025550100"
DEPLOYMENT_ACCOUNT = "AC" + "0" * 32
DEPLOYMENT_TOKEN = "f" * 32
DMV_NUMBER, DMV_ACCOUNT, DMV_TOKEN = "+12025550111", "AC" + "1" * 32, "1" * 32
IRS_NUMBER, IRS_ACCOUNT, IRS_TOKEN = "+12025550122", "AC" + "2" * 32, "2" * 32
STRANGE_NUMBER = "+12025550199"


def _flow(flow_id: str, agency: str, first: str, second: str) -> str:
    return f"""\
id: {flow_id}
version: 1
title: {flow_id}
agency: {agency}
channels: [sms]
fatigue_days: 0
questions:
  - id: satisfied
    type: rating
    prompt: {first}
  - id: returning
    type: yesno
    prompt: {second}
"""


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "dmv-visit.yaml").write_text(
        _flow("dmv-visit", "dmv", "How was your DMV visit?", "Would you visit the DMV again?")
    )
    (folder / "irs-call.yaml").write_text(
        _flow("irs-call", "irs", "How was your IRS call?", "Would you call the IRS again?")
    )
    (folder / "ssa-visit.yaml").write_text(
        _flow("ssa-visit", "ssa", "How was your SSA visit?", "Would you visit SSA again?")
    )
    (folder / "dmv-phone.yaml").write_text(
        _flow("dmv-phone", "dmv", "How was your DMV visit?", "Would you visit again?").replace(
            "channels: [sms]", "channels: [voice]"
        )
    )
    return folder


class Agencies:
    """The gateway, the double both accounts send through, and each agency's key."""

    def __init__(self, gateway: Gateway, double: TwilioDouble) -> None:
        self.gateway = gateway
        self.double = double
        self.keys: dict[str, str] = {}
        with db_of(gateway.app).session() as session:
            for slug, name, number, account, token in (
                ("dmv", "Department of Motor Vehicles", DMV_NUMBER, DMV_ACCOUNT, DMV_TOKEN),
                ("irs", "Internal Revenue Service", IRS_NUMBER, IRS_ACCOUNT, IRS_TOKEN),
            ):
                agency = ensure_agency(session, slug, name=name)
                senders.add_sender(session, agency, "sms", number)
                profiles.set_twilio_account(session, agency, account, token)
                _, self.keys[slug] = create_api_key(session, agency, "tests")

    def trigger(self, slug: str, flow: str) -> dict[str, Any]:
        answer = self.gateway.client.post(
            "/api/v1/surveys",
            json={"flow": flow, "channel": "sms", "to": CITIZEN},
            headers={"Authorization": f"Bearer {self.keys[slug]}"},
        )
        assert answer.status_code == 202, answer.get_data(as_text=True)
        data: dict[str, Any] = answer.get_json()
        return data

    def survey(self, slug: str, survey_id: str) -> TestResponse:
        return self.gateway.client.get(
            f"/api/v1/surveys/{survey_id}",
            headers={"Authorization": f"Bearer {self.keys[slug]}"},
        )

    def text(self, to: str, body: str, token: str, sid: str | None = None) -> TestResponse:
        params = {
            "MessageSid": sid or "SM" + secrets.token_hex(16),
            "AccountSid": {DMV_TOKEN: DMV_ACCOUNT, IRS_TOKEN: IRS_ACCOUNT}.get(token, "AC"),
            "From": CITIZEN,
            "To": to,
            "Body": body,
            "NumMedia": "0",
        }
        return self.gateway.post_signed("/twilio/sms", params, token=token)

    def sent(self, account: str) -> list[Received]:
        return [r for r in self.double.delivered() if r.account == account]


@pytest.fixture
def make_agencies(database_url: str, flows_dir: Path) -> Iterator[Any]:
    made: list[tuple[Gateway, TwilioDouble]] = []

    def make(**overrides: Any) -> Agencies:
        double = TwilioDouble()
        gateway = make_gateway(
            database_url,
            flows_dir=flows_dir,
            twilio_account_sid=DEPLOYMENT_ACCOUNT,
            twilio_auth_token=DEPLOYMENT_TOKEN,
            twilio_phone_number=DEPLOYMENT_NUMBER,
            twilio_api_base_url=double.url,
            **overrides,
        )
        made.append((gateway, double))
        return Agencies(gateway, double)

    yield make
    for gateway, double in made:
        db_of(gateway.app).dispose()
        double.close()


def test_each_agency_texts_from_its_own_number_through_its_own_account(
    make_agencies: Any,
) -> None:
    agencies = make_agencies()
    dmv = agencies.trigger("dmv", "dmv-visit")
    irs = agencies.trigger("irs", "irs-call")
    (dmv_text,) = agencies.sent(DMV_ACCOUNT)
    (irs_text,) = agencies.sent(IRS_ACCOUNT)
    assert (dmv_text.from_, dmv_text.to) == (DMV_NUMBER, CITIZEN)
    assert "How was your DMV visit?" in dmv_text.body
    assert (irs_text.from_, irs_text.to) == (IRS_NUMBER, CITIZEN)
    assert "How was your IRS call?" in irs_text.body
    assert agencies.sent(DEPLOYMENT_ACCOUNT) == []
    # The second agency's survey to the same number cancelled nothing.
    assert agencies.survey("dmv", dmv["id"]).get_json()["status"] == "sent"
    assert agencies.survey("irs", irs["id"]).get_json()["status"] == "sent"


def test_the_same_citizen_answers_both_agencies_with_interleaved_replies(
    make_agencies: Any,
) -> None:
    agencies = make_agencies()
    dmv = agencies.trigger("dmv", "dmv-visit")
    irs = agencies.trigger("irs", "irs-call")
    (asked_irs,) = replies(agencies.text(IRS_NUMBER, "2", IRS_TOKEN))
    assert "Would you call the IRS again?" in asked_irs
    (asked_dmv,) = replies(agencies.text(DMV_NUMBER, "5", DMV_TOKEN))
    assert "Would you visit the DMV again?" in asked_dmv
    replies(agencies.text(DMV_NUMBER, "yes", DMV_TOKEN))
    replies(agencies.text(IRS_NUMBER, "no", IRS_TOKEN))

    seen_dmv = agencies.survey("dmv", dmv["id"]).get_json()
    seen_irs = agencies.survey("irs", irs["id"]).get_json()
    assert (seen_dmv["status"], seen_dmv["answers"]) == (
        "completed",
        {"satisfied": 5, "returning": "yes"},
    )
    assert (seen_irs["status"], seen_irs["answers"]) == (
        "completed",
        {"satisfied": 2, "returning": "no"},
    )
    # Nothing of one agency's survey shows in the other's API.
    assert irs["id"] not in str(seen_dmv) and "IRS" not in str(seen_dmv)
    assert agencies.survey("irs", dmv["id"]).status_code == 404
    assert agencies.survey("dmv", irs["id"]).status_code == 404


def test_a_text_signed_with_another_accounts_token_is_refused(make_agencies: Any) -> None:
    agencies = make_agencies()
    dmv = agencies.trigger("dmv", "dmv-visit")
    for wrong in (IRS_TOKEN, DEPLOYMENT_TOKEN):
        assert agencies.text(DMV_NUMBER, "5", wrong).status_code == 403
    with db_of(agencies.gateway.app).session() as session:
        inbound = session.scalars(sa.select(Message).where(Message.direction == "inbound")).all()
    assert inbound == []
    assert agencies.survey("dmv", dmv["id"]).get_json()["answers"] == {}
    # The deployment's own number is still signed with the deployment's token.
    assert agencies.text(DEPLOYMENT_NUMBER, "hello", DEPLOYMENT_TOKEN).status_code == 200
    assert agencies.text(DEPLOYMENT_NUMBER, "hello", DMV_TOKEN).status_code == 403


def test_an_agencys_token_does_not_sign_a_text_to_the_deployments_number(
    make_agencies: Any, database_url: str
) -> None:
    # SSA registered no number: its surveys text from the deployment's. DMV's token may
    # not answer them by naming one of DMV's senders beside the deployment's number.
    agencies = make_agencies()
    with db_of(agencies.gateway.app).session() as session:
        ssa = ensure_agency(session, "ssa", name="Social Security Administration")
        _, agencies.keys["ssa"] = create_api_key(session, ssa, "tests")
    ssa_survey = agencies.trigger("ssa", "ssa-visit")
    (sent,) = agencies.sent(DEPLOYMENT_ACCOUNT)
    assert sent.from_ == DEPLOYMENT_NUMBER
    for field in ("MessagingServiceSid", "From"):
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": DMV_ACCOUNT,
            "From": CITIZEN,
            "To": DEPLOYMENT_NUMBER,
            "Body": "1",
            "NumMedia": "0",
            field: DMV_NUMBER,
        }
        forged = agencies.gateway.post_signed("/twilio/sms", params, token=DMV_TOKEN)
        assert forged.status_code == 403, field
    assert agencies.survey("ssa", ssa_survey["id"]).get_json()["answers"] == {}
    # The citizen's own reply, signed with the deployment's token, lands.
    (asked,) = replies(agencies.text(DEPLOYMENT_NUMBER, "4", DEPLOYMENT_TOKEN))
    assert "Would you visit SSA again?" in asked
    assert agencies.survey("ssa", ssa_survey["id"]).get_json()["answers"] == {"satisfied": 4}


def test_an_agency_admin_may_not_claim_the_deployments_own_senders(
    make_agencies: Any,
) -> None:
    # Claimed, the deployment's number would be signed with DMV's token: the replies to
    # every agency texting from it refused, and DMV's token able to answer for them.
    service = "MG" + "e" * 32
    agencies = make_agencies(twilio_messaging_service_sid=service)
    with db_of(agencies.gateway.app).session() as session:
        dmv = session.scalars(sa.select(Agency).where(Agency.slug == "dmv")).one()
        _, admin = create_api_key(session, dmv, "admin", admin=True)
    for channel, address in (("sms", DEPLOYMENT_NUMBER), ("voice", DEPLOYMENT_NUMBER)) + (
        ("sms", service),
    ):
        claimed = agencies.gateway.client.post(
            "/api/v1/agency/senders",
            json={"channel": channel, "address": address},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert claimed.status_code == 422, (channel, address)
        assert "registered already" in claimed.get_json()["error"]["message"]
    assert agencies.gateway.client.get(
        "/api/v1/agency", headers={"Authorization": f"Bearer {admin}"}
    ).get_json()["senders"] == [
        {
            "id": 1,
            "channel": "sms",
            "address": DMV_NUMBER,
            "service": None,
            "label": None,
            "default": True,
        }
    ]
    assert agencies.text(DEPLOYMENT_NUMBER, "hello", DEPLOYMENT_TOKEN).status_code == 200


@pytest.mark.parametrize("padded", [IRS_NUMBER + " ", " " + IRS_NUMBER, IRS_NUMBER + "\x00"])
def test_a_number_padded_past_the_signature_check_is_still_its_owners(
    make_agencies: Any, padded: str
) -> None:
    # The text is routed by its cleaned To: the signature is checked against the same.
    agencies = make_agencies()
    irs = agencies.trigger("irs", "irs-call")
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": DMV_ACCOUNT,
        "From": CITIZEN,
        "To": padded,
        "Body": "1",
        "NumMedia": "0",
        "MessagingServiceSid": DMV_NUMBER,
    }
    forged = agencies.gateway.post_signed("/twilio/sms", params, token=DMV_TOKEN)
    assert agencies.survey("irs", irs["id"]).get_json()["answers"] == {}
    assert forged.status_code == 403


def test_an_agency_admin_may_not_take_another_agencys_name_or_email_domain(
    make_agencies: Any,
) -> None:
    agencies = make_agencies()
    with db_of(agencies.gateway.app).session() as session:
        irs = session.scalars(sa.select(Agency).where(Agency.slug == "irs")).one()
        profiles.update_profile(session, irs, {"email_from": "feedback@irs.example.gov"})
        dmv = session.scalars(sa.select(Agency).where(Agency.slug == "dmv")).one()
        _, admin = create_api_key(session, dmv, "admin", admin=True)
    for field, address in (
        ("email_from", "feedback@irs.example.gov"),
        ("email_from", "refunds@IRS.example.gov"),
        ("email_reply_to", "help@irs.example.gov"),
    ):
        answer = agencies.gateway.client.patch(
            "/api/v1/agency",
            json={field: address, "display_name": "DMV"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert answer.status_code == 422, (field, address)
        error = answer.get_json()["error"]
        assert error["details"]["field"] == field
        assert "irs" not in error["message"].replace(address, "").lower()
    for field in ("display_name", "name"):
        answer = agencies.gateway.client.patch(
            "/api/v1/agency",
            json={field: "internal revenue service"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert answer.status_code == 422, field
        assert answer.get_json()["error"]["details"]["field"] == field
    shown = agencies.gateway.client.get(
        "/api/v1/agency", headers={"Authorization": f"Bearer {admin}"}
    ).get_json()
    assert (shown["email_from"], shown["email_reply_to"], shown["display_name"]) == (
        None,
        None,
        None,
    )
    # Its own domain is its own.
    mine = agencies.gateway.client.patch(
        "/api/v1/agency",
        json={"email_from": "feedback@dmv.example.gov"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert mine.status_code == 200


def test_status_callbacks_from_both_accounts_land(make_agencies: Any) -> None:
    agencies = make_agencies()
    dmv = agencies.trigger("dmv", "dmv-visit")
    irs = agencies.trigger("irs", "irs-call")
    (dmv_text,) = agencies.sent(DMV_ACCOUNT)
    (irs_text,) = agencies.sent(IRS_ACCOUNT)
    for sent, account, token in (
        (dmv_text, DMV_ACCOUNT, DMV_TOKEN),
        (irs_text, IRS_ACCOUNT, IRS_TOKEN),
    ):
        params = {
            "MessageSid": sent.sid,
            "MessageStatus": "delivered",
            "AccountSid": account,
            "From": sent.from_,
            "To": CITIZEN,
        }
        other = IRS_TOKEN if token == DMV_TOKEN else DMV_TOKEN
        refused = agencies.gateway.post_signed("/twilio/sms/status", params, token=other)
        assert refused.status_code == 403
        landed = agencies.gateway.post_signed("/twilio/sms/status", params, token=token)
        assert landed.status_code == 204
    for slug, survey in (("dmv", dmv), ("irs", irs)):
        (opening,) = agencies.gateway.outbound(survey["id"])
        assert opening.status == "delivered", slug


def test_a_status_for_one_accounts_text_signed_by_another_account_is_refused(
    make_agencies: Any,
) -> None:
    agencies = make_agencies()
    irs = agencies.trigger("irs", "irs-call")
    (irs_text,) = agencies.sent(IRS_ACCOUNT)
    # DMV signs, naming its own number, a failure of the text IRS's account sent.
    forged = {
        "MessageSid": irs_text.sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": DMV_ACCOUNT,
        "From": DMV_NUMBER,
        "To": CITIZEN,
    }
    refused = agencies.gateway.post_signed("/twilio/sms/status", forged, token=DMV_TOKEN)
    assert refused.status_code == 403
    (opening,) = agencies.gateway.outbound(irs["id"])
    assert opening.status != "undelivered"
    assert agencies.survey("irs", irs["id"]).get_json()["status"] == "sent"


def test_stop_covers_every_agency_by_default(make_agencies: Any) -> None:
    agencies = make_agencies()
    dmv = agencies.trigger("dmv", "dmv-visit")
    irs = agencies.trigger("irs", "irs-call")
    assert replies(agencies.text(DMV_NUMBER, "STOP", DMV_TOKEN)) == [
        catalog_message("en", "service.opt_out")
    ]
    assert agencies.survey("dmv", dmv["id"]).get_json()["status"] == "opted_out"
    assert agencies.survey("irs", irs["id"]).get_json()["status"] == "opted_out"
    assert agencies.gateway.opted_out(CITIZEN)
    assert agencies.trigger("irs", "irs-call")["status"] == "opted_out"


def test_stop_to_one_agency_covers_that_agency_alone_when_scoped(make_agencies: Any) -> None:
    agencies = make_agencies(opt_out_scope="agency")
    dmv = agencies.trigger("dmv", "dmv-visit")
    irs = agencies.trigger("irs", "irs-call")
    confirmation = replies(agencies.text(DMV_NUMBER, "STOP", DMV_TOKEN))
    assert confirmation == [
        catalog_message("en", "service.opt_out_agency", agency="Department of Motor Vehicles")
    ]
    assert agencies.survey("dmv", dmv["id"]).get_json()["status"] == "opted_out"
    assert agencies.survey("irs", irs["id"]).get_json()["status"] == "sent"
    assert not agencies.gateway.opted_out(CITIZEN)
    assert len(agencies.gateway.rows(AgencyOptOut)) == 1
    # IRS's survey carries on; DMV may not text the number again, IRS may.
    (asked,) = replies(agencies.text(IRS_NUMBER, "4", IRS_TOKEN))
    assert "Would you call the IRS again?" in asked
    assert agencies.trigger("dmv", "dmv-visit")["status"] == "opted_out"
    assert agencies.trigger("irs", "irs-call")["status"] != "opted_out"
    # START to DMV's number lifts DMV's opt-out.
    assert replies(agencies.text(DMV_NUMBER, "START", DMV_TOKEN)) == [
        catalog_message("en", "service.opt_in")
    ]
    assert agencies.gateway.rows(AgencyOptOut) == []
    assert agencies.trigger("dmv", "dmv-visit")["status"] != "opted_out"


def test_stop_to_the_deployments_shared_number_covers_every_agency_when_scoped(
    make_agencies: Any,
) -> None:
    # SSA and VA registered no number: both text from the deployment's. A STOP to that
    # number stops it (carriers block the number for that phone), not SSA's texts alone.
    agencies = make_agencies(opt_out_scope="agency")
    with db_of(agencies.gateway.app).session() as session:
        for slug in ("ssa", "va"):
            agency = ensure_agency(session, slug, name=slug.upper())
            _, agencies.keys[slug] = create_api_key(session, agency, "tests")
    ssa = agencies.trigger("ssa", "ssa-visit")
    dmv = agencies.trigger("dmv", "dmv-visit")
    assert replies(agencies.text(DEPLOYMENT_NUMBER, "STOP", DEPLOYMENT_TOKEN)) == [
        catalog_message("en", "service.opt_out")
    ]
    assert agencies.gateway.opted_out(CITIZEN)
    assert agencies.survey("ssa", ssa["id"]).get_json()["status"] == "opted_out"
    assert agencies.survey("dmv", dmv["id"]).get_json()["status"] == "opted_out"


def test_help_names_the_agency_whose_number_was_texted(make_agencies: Any) -> None:
    agencies = make_agencies()
    (irs_help,) = replies(agencies.text(IRS_NUMBER, "HELP", IRS_TOKEN))
    assert "Internal Revenue Service" in irs_help and "Motor Vehicles" not in irs_help
    with db_of(agencies.gateway.app).session() as session:
        dmv = session.scalars(sa.select(Agency).where(Agency.slug == "dmv")).one()
        profiles.update_profile(
            session, dmv, {"help_text": "DMV surveys. Call 1-800-555-0100. Reply STOP to stop."}
        )
    assert replies(agencies.text(DMV_NUMBER, "HELP", DMV_TOKEN)) == [
        "DMV surveys. Call 1-800-555-0100. Reply STOP to stop."
    ]


def test_a_text_to_a_number_no_agency_registered_is_answered_and_logged(
    make_agencies: Any, caplog: pytest.LogCaptureFixture
) -> None:
    agencies = make_agencies()
    agencies.trigger("dmv", "dmv-visit")
    with caplog.at_level(logging.WARNING):
        answer = replies(agencies.text(STRANGE_NUMBER, "5", DEPLOYMENT_TOKEN))
    assert answer == [catalog_message("en", "service.unknown_number")]
    # Our number, or its mask where the gateway's log filter is installed: never the sender's.
    assert "a number no agency registered: answered, not routed" in caplog.text
    assert CITIZEN not in caplog.text
    # The DMV survey did not take the stray "5" as its answer.
    (asked,) = replies(agencies.text(DMV_NUMBER, "3", DMV_TOKEN))
    assert "Would you visit the DMV again?" in asked
    stop = replies(agencies.text(STRANGE_NUMBER, "STOP", DEPLOYMENT_TOKEN))
    assert stop == [catalog_message("en", "service.opt_out")]
    assert agencies.gateway.rows(OptOut) != []


def test_newest_interaction_wins_within_one_agencys_number(make_agencies: Any) -> None:
    agencies = make_agencies()
    first = agencies.trigger("dmv", "dmv-visit")
    irs = agencies.trigger("irs", "irs-call")
    second = agencies.trigger("dmv", "dmv-visit")
    assert agencies.survey("dmv", first["id"]).get_json()["status"] == "cancelled"
    assert agencies.survey("dmv", second["id"]).get_json()["status"] == "sent"
    assert agencies.survey("irs", irs["id"]).get_json()["status"] == "sent"


def test_replies_to_both_numbers_are_routed_on_the_quick_path_too(
    make_agencies: Any, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the quick path runs on PostgreSQL only")
    agencies = make_agencies()
    dmv = agencies.trigger("dmv", "dmv-visit")
    irs = agencies.trigger("irs", "irs-call")
    views = count_views(agencies.gateway.app, "twilio_sms.inbound")
    replies(agencies.text(IRS_NUMBER, "1", IRS_TOKEN))
    replies(agencies.text(DMV_NUMBER, "4", DMV_TOKEN))
    assert views["twilio_sms.inbound"] == 0  # both answered by the quick lane
    assert agencies.survey("dmv", dmv["id"]).get_json()["answers"] == {"satisfied": 4}
    assert agencies.survey("irs", irs["id"]).get_json()["answers"] == {"satisfied": 1}
    # A number the gateway does not serve is declined there and answered by the view.
    replies(agencies.text(STRANGE_NUMBER, "yes", DEPLOYMENT_TOKEN))
    assert views["twilio_sms.inbound"] == 1
    assert agencies.survey("dmv", dmv["id"]).get_json()["answers"] == {"satisfied": 4}


def test_a_number_registered_by_another_process_is_signed_by_its_owner_once_reread(
    make_agencies: Any,
) -> None:
    agencies = make_agencies()
    app = agencies.gateway.app
    new_number = "+12025550133"
    assert agencies.text(new_number, "hello", DEPLOYMENT_TOKEN).status_code == 200
    with db_of(app).session() as session:  # as `gateway agencies add-sender` would
        dmv = session.scalars(sa.select(Agency).where(Agency.slug == "dmv")).one()
        senders.add_sender(session, dmv, "sms", new_number)
    # This process still holds the owners it read (for OWNERS_TTL seconds at most) ...
    assert agencies.text(new_number, "hello", DMV_TOKEN).status_code == 403
    owners_of(app).forget()
    # ... and reads them again once they are due.
    assert agencies.text(new_number, "hello", DMV_TOKEN).status_code == 200
    assert agencies.text(new_number, "hello", DEPLOYMENT_TOKEN).status_code == 403


def _call(agencies: Agencies, to: str, token: str, flow: str = "dmv-phone") -> TestResponse:
    params = {
        "CallSid": "CA" + secrets.token_hex(16),
        "AccountSid": "AC" + "9" * 32,
        "From": CITIZEN,
        "To": to,
        "Direction": "inbound",
        "CallStatus": "ringing",
    }
    return agencies.gateway.post_signed(f"/twilio/voice?flow={flow}", params, token=token)


def test_calls_go_out_from_and_come_in_to_the_agencys_own_voice_number(
    make_agencies: Any,
) -> None:
    agencies = make_agencies()
    with db_of(agencies.gateway.app).session() as session:
        for slug, number in (("dmv", DMV_NUMBER), ("irs", IRS_NUMBER)):
            agency = session.scalars(sa.select(Agency).where(Agency.slug == slug)).one()
            senders.add_sender(session, agency, "voice", number)
    owners_of(agencies.gateway.app).forget()
    answer = agencies.gateway.client.post(
        "/api/v1/surveys",
        json={"flow": "dmv-phone", "channel": "voice", "to": CITIZEN},
        headers={"Authorization": f"Bearer {agencies.keys['dmv']}"},
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    (placed,) = agencies.sent(DMV_ACCOUNT)
    assert (placed.from_, placed.to, placed.body) == (DMV_NUMBER, CITIZEN, "")
    # A call to DMV's number for DMV's flow is taken; to IRS's number it is refused.
    taken = _call(agencies, DMV_NUMBER, DMV_TOKEN).get_data(as_text=True)
    assert "How was your DMV visit?" in taken
    refused = _call(agencies, IRS_NUMBER, IRS_TOKEN).get_data(as_text=True)
    assert "How was your DMV visit?" not in refused and "<Hangup" in refused
    assert _call(agencies, DMV_NUMBER, IRS_TOKEN).status_code == 403


def test_an_agency_without_a_voice_number_calls_from_the_deployments_through_its_account(
    make_agencies: Any,
) -> None:
    # DMV's own account holds its texting number only: its calls go out from the
    # deployment's number, which only the deployment's account may place calls from.
    agencies = make_agencies()
    answer = agencies.gateway.client.post(
        "/api/v1/surveys",
        json={"flow": "dmv-phone", "channel": "voice", "to": CITIZEN},
        headers={"Authorization": f"Bearer {agencies.keys['dmv']}"},
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert agencies.sent(DMV_ACCOUNT) == []
    (placed,) = agencies.sent(DEPLOYMENT_ACCOUNT)
    assert (placed.from_, placed.to) == (DEPLOYMENT_NUMBER, CITIZEN)
