"""No phone number, email address or answer text reaches the logs, in either format.

Full SMS, voice and email/web surveys, STOP, HELP and error paths run with the gateway's
own log handler installed at DEBUG on the root logger (so every logger, SQLAlchemy's
included, writes), and everything written is searched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event

from config.logging import configure_logging
from gateway.app import create_app
from gateway.store.db import db_of
from gateway.twilio.quick_lane import DECLINED, QuickLane
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN
from tests.conftest import SHIPPED_FLOWS
from tests.email.conftest import SmtpServer, agency_for, email_settings
from tests.sms.support import Gateway, make_gateway, replies, sms_settings
from tests.voice.call_simulator import CallSimulator, SimulatedCall, flask_transport
from tests.web.support import follow, page_form

SMS_NUMBER = "+12025550187"
VOICE_NUMBER = "+12025550164"
EMAIL = "Quentin.Respondent@example.gov"
#: Words no log line has any reason to contain: they appear only in answers.
SMS_ANSWER = "Zanzibar quokka parade at the counter"
WEB_ANSWER = "Xylophone marmalade in the lobby"


def phone_pattern(number: str) -> re.Pattern[str]:
    """The national digits of ``number`` in any common layout: +1 202 555 0187,
    (202) 555-0187, 202.555.0187, 2025550187."""
    digits = number[-10:]
    return re.compile(r"\D{0,3}".join(digits))


@pytest.fixture(params=["json", "text"])
def captured(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Iterator[str]:
    """Installs the gateway's log handler in ``request.param`` format; yields the format."""
    root = logging.getLogger()
    level = root.level
    configure_logging(request.param, "DEBUG")
    # The test's own SMTP server (aiosmtpd) is no part of the gateway: keep it quiet.
    smtp_log = logging.getLogger("mail.log")
    smtp_log.setLevel(logging.WARNING)
    try:
        yield request.param
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_gateway_handler", False):
                root.removeHandler(handler)
        root.setLevel(level)
        smtp_log.setLevel(logging.NOTSET)


def run_sms(gateway: Gateway) -> None:
    survey_id = gateway.trigger(to=SMS_NUMBER)["id"]
    gateway.text("4", from_=SMS_NUMBER)
    gateway.text("yes", from_=SMS_NUMBER)
    assert replies(gateway.text(SMS_ANSWER, from_=SMS_NUMBER)) == ["Thank you for your feedback."]
    assert gateway.survey(survey_id)["answers"]["comment"] == SMS_ANSWER
    assert "HELP" not in replies(gateway.text("HELP", from_=SMS_NUMBER))[0]
    gateway.trigger(to=SMS_NUMBER, flow="quick-poll")
    gateway.text("STOP", from_=SMS_NUMBER)
    assert gateway.opted_out(SMS_NUMBER)
    # Error paths: a number that is no phone number, a text from a stranger, a bad signature.
    response = gateway.client.post(
        "/api/v1/surveys",
        json={"flow": "clinic-visit", "channel": "sms", "to": SMS_NUMBER[:-3]},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    assert response.status_code == 422
    gateway.text(SMS_ANSWER, from_=SMS_NUMBER.replace("87", "88"))
    bad = gateway.client.post(
        "/twilio/sms", data={"From": SMS_NUMBER, "Body": SMS_ANSWER, "MessageSid": "SM1"}
    )
    assert bad.status_code == 403


def run_voice(app: Flask) -> None:
    settings = app.extensions["settings"]
    phone = CallSimulator(
        flask_transport(app.test_client()),
        auth_token=DEVELOPMENT_AUTH_TOKEN,
        base_url=settings.public_base_url,
    )
    call = phone.dial(
        "/twilio/voice?flow=call-center-post-call&agent=Maria&queue=benefits",
        caller=VOICE_NUMBER,
    )
    answer_all(call)
    assert call.ended


def answer_all(call: SimulatedCall) -> None:
    for _ in range(40):
        if call.ended:
            return
        if call.waiting.verb == "Record":
            call.record("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1", 6)
        elif call.waiting.num_digits == 1:
            call.press("1")
        else:
            call.press("1#")


def run_email(app: Flask, smtp_server: SmtpServer) -> None:
    agency = agency_for(app)
    agency.trigger(to=EMAIL)
    [message] = smtp_server.recorder.messages
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    start = re.search(r"https://gateway\.example\.gov(/s/[A-Za-z0-9_.\-]+)", plain.get_content())
    assert start is not None
    client = agency.client
    page = follow(client, client.get(start.group(1)))
    for answer in ("2", ["wait", "staff"], "45", WEB_ANSWER):
        page = follow(client, page_form(page).submit(client, answer=answer))
    assert "Thank you for your feedback." in page.get_data(as_text=True)
    unsubscribe = re.search(r"https://gateway\.example\.gov(/u/[^\s>]+)", plain.get_content())
    assert unsubscribe is not None
    done = client.post(unsubscribe.group(1), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    # An error path: an address SMTP refuses.
    smtp_server.recorder.refuse["refused.person@example.gov"] = "550 5.1.1 no such user"
    agency.client.post(
        "/api/v1/surveys",
        json={
            "flow": "office-visit",
            "channel": "email",
            "to": "refused.person@example.gov",
            "context": {"office": "Downtown"},
        },
        headers={"Authorization": f"Bearer {agency.api_key}"},
    )


def test_full_surveys_on_every_channel_leave_no_contact_or_answer_in_the_logs(
    captured: str,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
) -> None:
    run_sms(make_gateway(database_url))
    voice_app = create_app(
        email_settings(tmp_path / "voice", None).with_overrides(
            {"database_url": database_url, "flows_dir": SHIPPED_FLOWS}
        ),
        {"TESTING": True},
    )
    run_voice(voice_app)
    (tmp_path / "email").mkdir()
    run_email(
        create_app(email_settings(tmp_path / "email", smtp_server.url), {"TESTING": True}),
        smtp_server,
    )

    logs = capsys.readouterr().err
    assert len(logs.splitlines()) > 20, "the surveys above were logged at all"
    if captured == "json":
        assert logs.lstrip().startswith("{")
    for number in (SMS_NUMBER, VOICE_NUMBER, SMS_NUMBER.replace("87", "88")):
        assert not phone_pattern(number).search(logs), number
    lowered = logs.lower()
    for address in (EMAIL.lower(), "refused.person@example.gov"):
        assert address not in lowered
    for words in (SMS_ANSWER, WEB_ANSWER):
        for word in words.split()[:2]:
            assert word.lower() not in lowered, word


#: A reply no log line may quote, whatever fails while it is stored.
FAILING_BODY = "Quibbling ocelots vermilion zeppelin"
#: The token of a signed link in an email: ``/s/<token>``, ``/a/<token>``, ``/u/<token>``.
SIGNED_LINK = re.compile(r"https://gateway\.example\.gov(/[sau]/([A-Za-z0-9_.\-]+))")


def fail_statements_carrying(engine: Engine, needle: str) -> None:
    """Every statement whose parameters hold ``needle`` fails in the database itself (a
    syntax error), so SQLAlchemy raises the error it would log for a real failure."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _broken(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        if needle in repr(parameters):
            return statement + " THIS IS NOT SQL", parameters
        return statement, parameters


def test_a_database_error_and_signed_link_visits_log_no_body_contact_or_token(
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
    json_logs: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    # Exceptions not propagated: an error is logged and answered, as in production.
    gateway = Gateway(
        create_app(sms_settings(database_url), {"TESTING": True, "PROPAGATE_EXCEPTIONS": False})
    )
    lane = gateway.app.wsgi_app
    assert isinstance(lane, QuickLane)
    # The views' general path, where every statement goes through SQLAlchemy (the quick
    # path writes with libpq, whose errors never quote parameters).
    gateway.app.wsgi_app = lane.inner  # type: ignore[method-assign]
    gateway.client.environ_base[DECLINED] = True
    gateway.trigger(to=SMS_NUMBER)
    fail_statements_carrying(db_of(gateway.app).engine, FAILING_BODY)
    failed = gateway.text(FAILING_BODY, from_=SMS_NUMBER)
    assert failed.status_code >= 500
    db_of(gateway.app).dispose()

    (tmp_path / "email").mkdir()
    app = create_app(email_settings(tmp_path / "email", smtp_server.url), {"TESTING": True})
    agency = agency_for(app)
    agency.trigger(to=EMAIL)
    [message] = smtp_server.recorder.messages
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    links = SIGNED_LINK.findall(plain.get_content())
    assert {path[:3] for path, _token in links} == {"/s/", "/a/", "/u/"}
    for path, _token in links:
        agency.client.get(path, query_string={"to": EMAIL, "token": _token})
        agency.client.get(path + "/done")

    # Every record the gateway wrote, with its traceback, and every JSON line; the test's
    # own SMTP server (aiosmtpd, no part of the gateway) is left out.
    ours = [r for r in caplog.records if not r.name.startswith("mail.")]
    logged = "\n".join(caplog.handler.format(r) for r in ours) + capsys.readouterr().err
    assert "GET /s/[token]" in logged, "the requests above were logged at all"
    assert "[token]" in logged
    assert FAILING_BODY not in logged
    for word in FAILING_BODY.split():
        assert word not in logged, word
    assert not phone_pattern(SMS_NUMBER).search(logged)
    assert EMAIL.lower() not in logged.lower()
    for _path, token in links:
        assert token not in logged
        assert token.split(".")[0] not in logged  # not even the signed payload
