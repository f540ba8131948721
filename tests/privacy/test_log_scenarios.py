"""Every log line of full scenarios, searched for what logs must never carry.

SMS through the worker and Twilio's API (replies, HELP, STOP, delivery statuses, a failed
text, Twilio answering 5xx and 4xx), a voice transfer with an agent's name and a recorded
answer, an email invitation through SMTP and every web page it leads to, SMTP refusing
and unreachable, the database failing mid-request (PostgreSQL's DETAIL included, in a
request and in a worker's job), Redis down, and a batch of hostile requests. The gateway's
JSON handler is installed with the root logger at DEBUG, so every logger writes (SQLAlchemy,
rq, urllib3, Twilio's client, Werkzeug), and both what it writes and every record it
receives are searched for numbers (in any layout), addresses, bodies, answers, context
values and signed tokens.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
import sqlalchemy as sa
from redis import Redis

from config.logging import configure_logging
from gateway.app import create_app
from gateway.sending.worker import run_worker
from gateway.store.db import db_of
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN
from tests.conftest import REDIS_TEST_URL, SHIPPED_FLOWS, bearer
from tests.email.conftest import SmtpServer, agency_for, email_settings
from tests.sms.support import Gateway, make_gateway, replies
from tests.support.queued import (
    MESSAGES_URL,
    created,
    queued_gateway,
    redis,
    twilio_api,
    twilio_error,
)
from tests.voice.call_simulator import CallSimulator, flask_transport
from tests.web.support import follow, page_form

__all__ = ["queued_gateway", "redis", "twilio_api"]

NUMBERS = {
    "sms": "+12025550187",
    "stranger": "+12025550188",
    "failing": "+12025550174",
    "refused": "+12025550175",
    "voice": "+12025550164",
    "hostile": "+12025550139",
}
EMAILS = ("Quentin.Respondent@example.gov", "refused.person@example.gov", "nobody@example.gov")
#: Words that appear only in what respondents said or agencies sent as context.
SECRET_WORDS = (
    "Zanzibar",  # an SMS answer
    "quokka",
    "Xylophone",  # a web answer
    "Marmalade",
    "Wolfgangina",  # an agent's name in a voice transfer
    "Okeechobee",  # a context value
    "Quibbling",  # a body stored while the database fails
    "ocelots",
    "Vermilion",  # a hostile body
)
#: An itsdangerous token (payload.timestamp.signature, or a JSON payload's ``eyJ``).
SIGNED_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}|[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{6}\.[\w-]{20,}")


def phone_pattern(number: str) -> re.Pattern[str]:
    """The national digits of ``number`` in any layout: +1 202 555 0187, (202) 555-0187,
    202.555.0187, 2025550187, 12025550187."""
    return re.compile(r"\D{0,3}".join(number[-10:]))


class Logs:
    """Everything logged while a scenario runs: the JSON lines the gateway's handler wrote
    and every record any logger passed to the root logger, with its traceback."""

    def __init__(
        self,
        log_format: str,
        caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        self.format = log_format
        self.caplog = caplog
        self.capsys = capsys
        self.written: list[str] = []

    def text(self) -> str:
        self.written.append(self.capsys.readouterr().err)
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        records = [r for r in self.caplog.records if not r.name.startswith("mail.")]
        return "\n".join([*self.written, *(formatter.format(r) for r in records)])

    def json_lines(self) -> list[dict[str, Any]]:
        self.text()
        return [json.loads(line) for line in "".join(self.written).splitlines() if line]

    def assert_clean(self, *extra: str) -> str:
        """Searches every line; returns the text searched."""
        logged = self.text()
        lowered = logged.lower()
        for name, number in NUMBERS.items():
            assert not phone_pattern(number).search(logged), (name, number)
        for address in EMAILS:
            assert address.lower() not in lowered, address
        for word in (*SECRET_WORDS, *extra):
            assert word.lower() not in lowered, word
        found = SIGNED_TOKEN.search(logged)
        assert found is None, found.group(0) if found else None
        return logged


@pytest.fixture(params=["json", "text"])
def logs(
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Logs]:
    """The gateway's handler in each format (JSON in production, text in development)."""
    root = logging.getLogger()
    level = root.level
    configure_logging(request.param, "DEBUG")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the test's SMTP server
    try:
        yield Logs(request.param, caplog, capsys)
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_gateway_handler", False):
                root.removeHandler(handler)
        root.setLevel(level)
        logging.getLogger("mail.log").setLevel(logging.NOTSET)


def _twilio_answers(mock: responses.RequestsMock) -> Callable[[Any], tuple[int, dict, str]]:
    """Twilio's API: 201 for most numbers, 500 then 201 for one, 400 (21211) for another."""
    failures = {NUMBERS["failing"]: 1}

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        body = request.body if isinstance(request.body, str) else request.body.decode()
        if "2025550175" in body:
            return 400, {}, json.dumps(twilio_error(21211))
        if "2025550174" in body and failures[NUMBERS["failing"]]:
            failures[NUMBERS["failing"]] -= 1
            return 500, {}, json.dumps({"message": "upstream failed", "status": 500})
        return 201, {}, json.dumps(created(secrets.choice("0123456789")))

    mock.add_callback(responses.POST, MESSAGES_URL, callback=answer)
    return answer


def test_sms_through_the_worker_and_twilio_leaves_nothing_in_the_logs(
    logs: Logs, queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    gateway = queued_gateway
    _twilio_answers(twilio_api)
    survey_id = gateway.trigger(
        to=NUMBERS["sms"], flow="lobby-poster", context={"office": "Okeechobee"}
    )["id"]
    failing_id = gateway.trigger(to=NUMBERS["failing"])["id"]
    refused_id = gateway.trigger(to=NUMBERS["refused"])["id"]
    run_worker(gateway.app, burst=True)
    assert gateway.status_of(refused_id) == "failed"
    assert gateway.status_of(failing_id) in ("queued", "sent")  # Twilio's 500: retried
    sid = gateway.outbound(survey_id)[0].provider_sid
    assert sid is not None
    gateway.status_callback(sid, "sent")
    gateway.status_callback(sid, "delivered")
    gateway.status_callback(sid, "failed", error_code="30003")

    gateway.text("4", from_=NUMBERS["sms"])
    gateway.text("Zanzibar quokka parade", from_=NUMBERS["sms"])
    assert gateway.survey(survey_id)["answers"]["comment"] == "Zanzibar quokka parade"
    replies(gateway.text("HELP", from_=NUMBERS["sms"]))
    replies(gateway.text("HELP", from_=NUMBERS["stranger"]))
    replies(gateway.text("Zanzibar to nobody", from_=NUMBERS["stranger"]))
    gateway.text("STOP", from_=NUMBERS["sms"])
    assert gateway.opted_out(NUMBERS["sms"])
    refused = gateway.client.post(
        "/api/v1/surveys",
        json={"flow": "clinic-visit", "channel": "sms", "to": NUMBERS["sms"]},
        headers=bearer(gateway.api_key),
    )
    assert refused.status_code in (202, 409, 422)
    run_worker(gateway.app, burst=True)

    logged = logs.assert_clean()
    assert "rq.worker" in logged and "gateway.request" in logged, "every logger was captured"
    if logs.format == "json":  # one object a line, every line
        assert all(line["level"] for line in logs.json_lines())


def test_a_voice_transfer_with_an_agent_and_a_recording_leaves_nothing_in_the_logs(
    logs: Logs, database_url: str, tmp_path: Path
) -> None:
    app = create_app(
        email_settings(tmp_path, None).with_overrides(
            {"database_url": database_url, "flows_dir": SHIPPED_FLOWS}
        ),
        {"TESTING": True},
    )
    phone = CallSimulator(
        flask_transport(app.test_client()),
        auth_token=DEVELOPMENT_AUTH_TOKEN,
        base_url="https://gateway.example.gov",
    )
    call = phone.dial(
        "/twilio/voice?flow=call-center-post-call&agent=Wolfgangina&queue=Okeechobee",
        caller=NUMBERS["voice"],
    )
    for _ in range(40):
        if call.ended:
            break
        if call.waiting.verb == "Record":
            call.record("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1", 6)
        elif call.waiting.num_digits == 1:
            call.press("1")
        else:
            call.press("1#")
    assert call.ended
    phone.post_status(call, "completed")
    # A transfer whose query no store can keep, and one with a forged signature.
    phone.dial(
        "/twilio/voice?flow=call-center-post-call&agent=Wolfgangina%00",
        caller=NUMBERS["voice"],
    )
    forged = app.test_client().post(
        "/twilio/voice?flow=call-center-post-call&agent=Wolfgangina",
        data={"From": NUMBERS["voice"], "CallSid": "CA" + "1" * 32},
        headers={"X-Twilio-Signature": "forged"},
    )
    assert forged.status_code == 403
    db_of(app).dispose()
    logs.assert_clean()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_email_and_every_web_page_leave_no_address_answer_or_token_in_the_logs(
    logs: Logs, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    (tmp_path / "email").mkdir()
    app = create_app(email_settings(tmp_path / "email", smtp_server.url), {"TESTING": True})
    agency = agency_for(app)
    agency.trigger(to=EMAILS[0], context={"office": "Okeechobee"})
    [message] = smtp_server.recorder.messages
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    content = plain.get_content()
    links = re.findall(r"https://gateway\.example\.gov(/[sau]/[A-Za-z0-9_.\-]+)", content)
    assert {link[:3] for link in links} == {"/s/", "/a/", "/u/"}
    client = agency.client
    for link in links:  # a scanner fetching every link, then the respondent
        client.get(link)
        client.get(link + "/done")
        client.get(link + "tampered")
    page = follow(client, client.get(next(link for link in links if link.startswith("/s/"))))
    for answer in ("2", ["wait", "staff"], "45", "Xylophone Marmalade in the lobby"):
        page = follow(client, page_form(page).submit(client, answer=answer))
    assert "Thank you" in page.get_data(as_text=True)
    unsubscribe = next(link for link in links if link.startswith("/u/"))
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    # The public entry behind a poster, with a location, and its pages.
    public = follow(client, client.get("/f/office-visit?location=Okeechobee"))
    follow(client, page_form(public).submit(client, answer="1"))
    client.get("/f/office-visit?location=Okeechobee%00")
    # SMTP refusing one address, then SMTP unreachable.
    smtp_server.recorder.refuse[EMAILS[1]] = "550 5.1.1 no such user"
    agency.client.post(
        "/api/v1/surveys",
        json={"flow": "office-visit", "channel": "email", "to": EMAILS[1]},
        headers=bearer(agency.api_key),
    )
    (tmp_path / "down").mkdir()
    down = create_app(
        email_settings(tmp_path / "down", f"smtp://127.0.0.1:{_closed_port()}"), {"TESTING": True}
    )
    agency_for(down).client.post(
        "/api/v1/surveys",
        json={"flow": "office-visit", "channel": "email", "to": EMAILS[2]},
        headers=bearer(agency_for(down).api_key),
    )
    logged = logs.assert_clean(*(link.split("/")[2] for link in links))
    assert "[token]" in logged, "the signed links' requests were logged, masked"


#: A reply no log line may quote, whatever fails while it is stored.
FAILING_BODY = "Quibbling ocelots in the lobby"


def test_a_database_error_and_a_duplicate_key_log_no_values_even_from_postgresqls_detail(
    logs: Logs, database_url: str, queue_prefix: str, redis: Redis
) -> None:
    """PostgreSQL quotes a duplicate key's values (``DETAIL: Key (...)=(...)``); a unique
    index made for the test turns a second copy of a body into that error, in a request
    (answered 500) and in a worker's job (rq's failure line)."""
    gateway = make_gateway(
        database_url,
        redis_url=REDIS_TEST_URL,
        queue_prefix=queue_prefix,
    )
    gateway.app.config["PROPAGATE_EXCEPTIONS"] = False
    engine = db_of(gateway.app).engine
    postgres = engine.dialect.name == "postgresql"
    gateway.trigger(to=NUMBERS["sms"], flow="lobby-poster", context={"office": "Okeechobee"})["id"]
    run_worker(gateway.app, burst=True)
    try:
        if postgres:
            with engine.begin() as connection:
                connection.execute(sa.text("CREATE UNIQUE INDEX log_probe_body ON messages (body)"))
        else:  # SQLite quotes no values; the statement fails in the database instead
            sa.event.listen(engine, "before_cursor_execute", _fail_on(FAILING_BODY), retval=True)
        gateway.text(FAILING_BODY, from_=NUMBERS["sms"])  # the first copy (PostgreSQL: kept)
        failed = gateway.text(FAILING_BODY, from_=NUMBERS["sms"])
        assert failed.status_code >= 500 or postgres
        # The same body texted by a second number: on PostgreSQL, a duplicate key.
        gateway.trigger(
            to=NUMBERS["stranger"], flow="lobby-poster", context={"office": "Okeechobee"}
        )
        run_worker(gateway.app, burst=True)
        gateway.text(FAILING_BODY, from_=NUMBERS["stranger"])
        # A worker's job that meets the duplicate: the same first text for a second survey.
        gateway.trigger(
            to=NUMBERS["hostile"], flow="lobby-poster", context={"office": "Okeechobee"}
        )
        run_worker(gateway.app, burst=True)
    finally:
        if postgres:
            with engine.begin() as connection:
                connection.execute(sa.text("DROP INDEX IF EXISTS log_probe_body"))
        db_of(gateway.app).dispose()
    logged = logs.assert_clean()
    if postgres:
        assert "log_probe_body" in logged, "the duplicate key was logged at all"
        job_failures = [r.getMessage() for r in logs.caplog.records if r.name.startswith("rq.")]
        assert any("log_probe_body" in line for line in job_failures), "rq's failure line"
        assert "DETAIL: [withheld]" in logged
        assert "Key (body)=(" not in logged


def _fail_on(needle: str) -> Callable[..., tuple[str, Any]]:
    def broken(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        if needle in repr(parameters):
            return statement + " THIS IS NOT SQL", parameters
        return statement, parameters

    return broken


def test_redis_down_and_hostile_requests_leave_nothing_in_the_logs(
    logs: Logs, database_url: str, queue_prefix: str
) -> None:
    down = make_gateway(
        database_url, redis_url=f"redis://127.0.0.1:{_closed_port()}/0", queue_prefix=queue_prefix
    )
    down.app.config["PROPAGATE_EXCEPTIONS"] = False
    response = down.client.post(
        "/api/v1/surveys",
        json={"flow": "clinic-visit", "channel": "sms", "to": NUMBERS["hostile"]},
        headers=bearer(down.api_key),
    )
    assert response.status_code < 600
    down.text("Vermilion while Redis is down", from_=NUMBERS["hostile"])
    db_of(down.app).dispose()

    gateway = make_gateway(database_url)
    gateway.app.config["PROPAGATE_EXCEPTIONS"] = False
    key = bearer(gateway.api_key)
    client = gateway.client
    hostile_bodies: list[Any] = [
        {
            "flow": "lobby-poster",
            "channel": "sms",
            "to": NUMBERS["hostile"],
            "context": {"office": "Okeechobee\u0000"},
        },
        {"flow": "clinic-visit\u0000", "channel": "sms", "to": NUMBERS["hostile"]},
        {"flow": "clinic-visit", "channel": "sms", "to": NUMBERS["hostile"] + "\ud800"},
        {"flow": "clinic-visit", "channel": "email", "to": EMAILS[2] + "\u0001"},
        {
            "flow": "clinic-visit",
            "channel": "sms",
            "to": NUMBERS["hostile"],
            "context": {"office": "Okeechobee" * 2000},
        },
    ]
    for body in hostile_bodies:
        data = json.dumps(body)
        assert (
            client.post(
                "/api/v1/surveys", data=data, content_type="application/json", headers=key
            ).status_code
            < 500
        )
    hostile = NUMBERS["hostile"]
    nested = "[" * 1000 + '"Okeechobee"' + "]" * 1000
    deep = f'{{"flow": "clinic-visit", "to": "{hostile}", "context": {nested}}}'
    for raw in (
        deep.encode(),
        b'{"flow": "clinic-visit", "to": "' + NUMBERS["hostile"].encode() + b'", "context": {',
        b'{"to": "' + EMAILS[2].encode() + b'"' + b" " * 70_000 + b"}",
        b"\xff\xfe" + EMAILS[2].encode(),
    ):
        answer = client.post(
            "/api/v1/surveys", data=raw, content_type="application/json", headers=key
        )
        assert answer.status_code < 500
    client.post(
        "/api/v1/surveys/batch",
        data=f"flow,to,context.office\nclinic-visit,{NUMBERS['hostile']},Okee\u0000chobee\n",
        content_type="text/csv",
        headers=key,
    )
    client.get(f"/api/v1/responses?flow=Okeechobee%00&to={NUMBERS['hostile']}", headers=key)
    client.get("/api/v1/responses?context.office=Okeechobee%00", headers=key)
    client.get("/api/v1/surveys/sv_0%00%0AGET /forged 200", headers=key)
    client.get("/api/v1/surveys", headers={"Authorization": "Bearer gw_Okeechobee"})
    # Webhooks: a NUL and a lone surrogate in a reply, a huge body, a bad signature.
    gateway.trigger(to=NUMBERS["hostile"])
    gateway.text("Vermilion\u0000 and \x7f", from_=NUMBERS["hostile"])
    gateway.client.post(
        "/twilio/sms",
        data=b"From=%2B12025550139&Body=Vermilion%ED%A0%80&MessageSid=SM2",
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "forged"},
    )
    gateway.text("Vermilion " * 20_000, from_=NUMBERS["hostile"])
    forged = client.post(
        "/twilio/sms",
        data={"From": NUMBERS["hostile"], "Body": "Vermilion", "MessageSid": "SM1"},
        headers={"X-Twilio-Signature": "forged"},
    )
    assert forged.status_code == 403
    client.post("/twilio/sms/status", data={"MessageSid": "SM1", "To": NUMBERS["hostile"]})
    client.get(f"/s/not-a-token-Okeechobee?to={NUMBERS['hostile']}")
    client.get("/dashboard/flows/flow%00")
    db_of(gateway.app).dispose()
    logged = logs.assert_clean()
    # A control character in a path is written escaped: no path starts a forged line.
    assert "sv_0\\x00\\x0aGET /forged 200" in logged
