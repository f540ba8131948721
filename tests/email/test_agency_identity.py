"""An agency's own email identity on its invitations (From, display name, Reply-To, the
envelope sender), and the unsubscribe link scoped as ``OPT_OUT_SCOPE`` says."""

from __future__ import annotations

import dataclasses
from email.utils import parseaddr
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from gateway.agencies import profiles
from gateway.agencies.keys import ensure_agency
from gateway.app import create_app
from gateway.store.agency_models import AgencyOptOut
from gateway.store.db import db_of
from gateway.store.models import OptOut
from gateway.surveys import opt_outs
from tests.email.conftest import (
    RESPONDENT,
    SENDER,
    Agency,
    SmtpServer,
    agency_for,
    email_settings,
)

AGENCY_FROM = "feedback@dmv.example.gov"
AGENCY_REPLY_TO = "help@dmv.example.gov"


def _with_identity(app: Flask) -> Agency:
    agency = agency_for(app)
    with db_of(app).session() as session:
        demo = ensure_agency(session, "demo")
        profiles.update_profile(
            session,
            demo,
            {
                "display_name": "Demo Motor Vehicles",
                "email_from": AGENCY_FROM,
                "email_reply_to": AGENCY_REPLY_TO,
            },
        )
    return agency


def test_an_invitation_comes_from_the_agencys_own_address(
    smtp_server: SmtpServer, smtp_app: Flask
) -> None:
    _with_identity(smtp_app).trigger()
    [message] = smtp_server.recorder.messages
    assert parseaddr(message["From"]) == ("Demo Motor Vehicles", AGENCY_FROM)
    assert message["Reply-To"] == AGENCY_REPLY_TO
    assert smtp_server.recorder.envelopes[0].mail_from == AGENCY_FROM
    assert message["Message-ID"].endswith("@dmv.example.gov>")
    assert message["List-Unsubscribe"].startswith("<https://gateway.example.gov/u/")


def test_an_agency_with_no_identity_sends_from_the_deployment(
    smtp_server: SmtpServer, agency: Agency
) -> None:
    agency.trigger()
    [message] = smtp_server.recorder.messages
    assert message["From"] == SENDER and message["Reply-To"] is None


def test_unsubscribing_from_one_agency_leaves_the_others_when_scoped(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    settings = dataclasses.replace(
        email_settings(tmp_path, smtp_server.url), opt_out_scope="agency"
    )
    app = create_app(settings, {"TESTING": True})
    demo = agency_for(app)
    demo.trigger()
    path = smtp_server.recorder.messages[0]["List-Unsubscribe"].strip("<>")
    demo.client.post(
        path.removeprefix("https://gateway.example.gov"), data={"List-Unsubscribe": "One-Click"}
    )
    with db_of(app).session() as session:
        assert session.scalars(sa.select(OptOut)).all() == []
        assert len(session.scalars(sa.select(AgencyOptOut)).all()) == 1
        demo_id = ensure_agency(session, "demo").id
        other_id = ensure_agency(session, "demo-two", name="Another Agency").id
        assert opt_outs.is_opted_out(session, RESPONDENT, demo_id)
        assert not opt_outs.is_opted_out(session, RESPONDENT, other_id)
    assert demo.trigger()["status"] == "opted_out"
    db_of(app).dispose()
