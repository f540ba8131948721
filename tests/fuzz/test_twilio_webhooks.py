"""Generated Twilio webhooks, each correctly signed with the app's auth token, on the SMS
and voice routes: arbitrary and missing fields (``Body``, ``Digits``, ``SpeechResult``,
``From``, ``To``, sids, statuses), arbitrary queries (``agent``, ``survey``, ``step``), NUL
and other control characters, lone surrogates (sent as the bytes a broken encoder writes),
huge values and unicode, mixed with the plausible values that reach open surveys and
calls in progress.

A signed request is never refused as unsigned, never answered 5xx, and never logs an error
(the voice routes speak an apology after one, so their answers alone would hide it); a
request answered 4xx writes nothing; afterwards the worker leaves no job behind."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import sqlalchemy as sa
import werkzeug.urls  # noqa: F401 -- registers the "werkzeug.url_quote" decoding errors
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from gateway.store.db import db_of
from gateway.store.models import Answer, Message, Survey
from gateway.voice.twiml import APOLOGY
from tests.fuzz.support import (
    Tally,
    assert_nothing_stuck,
    assert_nothing_written,
    fuzz_settings,
    hostile_text,
    row_counts,
    text_or,
    work_off,
)
from tests.sms.support import GATEWAY_NUMBER, PUBLIC_BASE_URL, Gateway
from tests.voice.call_simulator import CallSimulator, flask_transport

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

RESPONDENTS = ("+12025550123", "+12025550124", "+12025550125")
REPLIES = ("1", "4", "5", "yes", "no", "Y", "SKIP", "STOP", "HELP", "START", "stop stop", "POLL")
REPLIES += ("LOBBY", "APPLY", "4\x00", "Quick and friendly", "")


def _signed_post(gateway: Gateway, path: str, query: str, form: Mapping[str, str]) -> Any:
    """POST ``form`` to ``path?query`` signed as Twilio signs: over the public URL and the
    parameters as the gateway reads them from the body (text that is not UTF-8 reads as
    its bytes quoted)."""
    body = urlencode(form, errors="surrogatepass")
    read = dict(parse_qsl(body, keep_blank_values=True, errors="werkzeug.url_quote"))
    target = path + (f"?{query}" if query else "")
    signature = RequestValidator(gateway.auth_token).compute_signature(
        PUBLIC_BASE_URL + target, read
    )
    return gateway.client.post(
        target,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def _check(
    gateway: Gateway,
    tally: Tally,
    caplog: pytest.LogCaptureFixture,
    path: str,
    query: dict[str, str],
    form: dict[str, str],
) -> Any:
    before = row_counts(gateway.app)
    caplog.clear()
    response = _signed_post(gateway, path, urlencode(query, errors="surrogatepass"), form)
    tally.count(response.status_code)
    apology = any(text in response.get_data(as_text=True) for text in APOLOGY.values())
    tally.note(f"{path} {response.status_code}" + (" (apology)" if apology else ""))
    assert response.status_code != 403, "a correctly signed webhook was refused"
    assert response.status_code < 500, response.get_data(as_text=True)
    assert not _errors(caplog), _errors(caplog)
    if response.status_code >= 400:
        assert_nothing_written(before, row_counts(gateway.app), path)
    return response


def _note_outcomes(gateway: Gateway, tally: Tally) -> None:
    """How far the generated requests got: answers stored, surveys by status."""
    with db_of(gateway.app).session() as session:
        tally.note("answers stored", session.scalar(sa.select(sa.func.count(Answer.id))) or 0)
        for status, count in session.execute(
            sa.select(Survey.status, sa.func.count()).group_by(Survey.status)
        ):
            tally.note(f"surveys {status}", count)


def _without(form: dict[str, str], dropped: set[str]) -> dict[str, str]:
    return {name: value for name, value in form.items() if name not in dropped}


message_sids = st.one_of(
    st.uuids().map(lambda u: "SM" + u.hex), st.just("SM" + "1" * 32), hostile_text
)
extra_fields = st.dictionaries(text_or("ApiVersion", "NumSegments", "SmsStatus"), hostile_text)
queries = st.dictionaries(text_or("agent", "survey", "x"), hostile_text, max_size=3)


def test_generated_sms_webhooks(
    gateway: Gateway, tally: Tally, caplog: pytest.LogCaptureFixture
) -> None:
    for number in RESPONDENTS:
        gateway.trigger(to=number)
    work_off(gateway.app)  # the opening texts are sent: the respondents' surveys are open
    with db_of(gateway.app).session() as session:
        sent = list(
            session.scalars(
                sa.select(Message.provider_sid).where(Message.provider_sid.is_not(None))
            )
        )
    assert sent

    inbound = st.fixed_dictionaries(
        {
            "MessageSid": message_sids,
            "AccountSid": text_or("AC" + "5" * 32),
            "From": text_or(*RESPONDENTS),
            "To": text_or(GATEWAY_NUMBER),
            "Body": text_or(*REPLIES),
            "NumMedia": text_or("0", "1"),
        }
    )
    status = st.fixed_dictionaries(
        {
            "MessageSid": text_or(*sent),
            "MessageStatus": text_or("sent", "delivered", "undelivered", "failed", "read"),
            "ErrorCode": text_or("30003", "30006", "21610", "30005"),
        }
    )
    requests = st.one_of(
        st.tuples(st.just("/twilio/sms"), inbound),
        st.tuples(st.just("/twilio/sms/status"), status),
    )

    @given(
        request=requests,
        dropped=st.sets(text_or("MessageSid", "From", "Body", "MessageStatus", "To"), max_size=2),
        extra=extra_fields,
        query=queries,
    )
    @fuzz_settings()
    def webhook(
        request: tuple[str, dict[str, str]],
        dropped: set[str],
        extra: dict[str, str],
        query: dict[str, str],
    ) -> None:
        path, form = request
        _check(gateway, tally, caplog, path, query, {**extra, **_without(form, dropped)})

    webhook()
    assert_nothing_stuck(gateway.app)
    _note_outcomes(gateway, tally)


def test_generated_voice_webhooks(
    gateway: Gateway, tally: Tally, caplog: pytest.LogCaptureFixture
) -> None:
    phone = CallSimulator(
        flask_transport(gateway.client), auth_token=gateway.auth_token, base_url=PUBLIC_BASE_URL
    )
    calls = [
        phone.dial("/twilio/voice?flow=clinic-visit&agent=Maria", caller=number)
        for number in RESPONDENTS[:2]
    ]
    gateway.trigger(to=RESPONDENTS[2], channel="voice")
    work_off(gateway.app)  # the survey call is placed
    with db_of(gateway.app).session() as session:
        surveys = list(session.execute(sa.select(Survey.id, Survey.provider_ref)))
    survey_ids = [row.id for row in surveys]
    call_sids = [row.provider_ref for row in surveys if row.provider_ref] + [c.sid for c in calls]

    query = st.fixed_dictionaries(
        {},
        optional={
            "flow": text_or("clinic-visit", "quick-poll"),
            "language": text_or("en", "es"),
            "agent": text_or("Maria", "x" * 500),
            "queue": text_or("benefits"),
            "survey": text_or(*survey_ids),
            "step": text_or("0", "1", "2", "3"),
        },
    )
    form = st.fixed_dictionaries(
        {
            "CallSid": text_or(*call_sids, "CA" + uuid.uuid4().hex),
            "AccountSid": text_or("AC" + "5" * 32),
            "From": text_or(*RESPONDENTS, "anonymous"),
            "To": text_or(GATEWAY_NUMBER),
        },
        optional={
            "Digits": text_or("1", "2", "4", "5", "*", "#", "12", "hangup"),
            "SpeechResult": text_or("yes", "four"),
            "RecordingUrl": text_or("https://api.twilio.com/2010-04-01/Recordings/RE1"),
            "RecordingDuration": text_or("5", "0", "9" * 5000),
            "CallStatus": text_or("in-progress", "completed", "busy", "no-answer", "failed"),
            "AnsweredBy": text_or("human", "machine_start", "fax"),
            "TranscriptionSid": text_or("TR" + "2" * 32),
            "TranscriptionText": text_or("It was fine"),
            "TranscriptionStatus": text_or("completed", "failed"),
        },
    )
    paths = st.sampled_from(
        [
            "/twilio/voice",
            "/twilio/voice/gather",
            "/twilio/voice/no-input",
            "/twilio/voice/recording",
            "/twilio/voice/transcription",
            "/twilio/voice/status",
        ]
    )

    @given(
        path=paths,
        query=query,
        form=form,
        dropped=st.sets(text_or("CallSid", "From", "To"), max_size=2),
        extra=queries,
    )
    @fuzz_settings()
    def webhook(
        path: str,
        query: dict[str, str],
        form: dict[str, str],
        dropped: set[str],
        extra: dict[str, str],
    ) -> None:
        _check(gateway, tally, caplog, path, {**extra, **query}, _without(form, dropped))

    webhook()
    assert_nothing_stuck(gateway.app)
    _note_outcomes(gateway, tally)
