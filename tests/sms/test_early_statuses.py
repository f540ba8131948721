"""Twilio's status callback for a text can come before the text is recorded sent (a chunk
is recorded once all its texts are sent): the status is kept and applied when the text is
recorded, as if it had come then (gateway.sms.early_statuses)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import responses

from gateway.sending import chunks as send_batches
from gateway.sending import claims as send_claims
from gateway.sending.sweeper import sweep
from gateway.sending.worker import run_worker
from gateway.sms import early_statuses
from gateway.store.db import db_of
from gateway.store.models import Message, OptOut, Survey, utcnow
from gateway.store.status_models import EarlyStatus
from tests.reach.contact_plan import FLOW as REACH_FLOW
from tests.reach.contact_plan import reach_gateway
from tests.sending.test_chunks import NUMBERS, batch, twilio_answering
from tests.sms.support import Gateway, make_gateway
from tests.support.queued import ACCOUNT, MESSAGES_URL

#: The callbacks Twilio sends for a number's text: (status, error code).
Reports = dict[str, list[tuple[str, str | None]]]


def report_before_the_chunk_is_recorded(
    monkeypatch: pytest.MonkeyPatch, gateway: Gateway, reports: Reports
) -> None:
    """Twilio's callbacks for the chunk's texts arrive once the texts are sent and before
    the chunk is recorded sent."""
    record = send_batches._record

    def reported_first(app: Any, survey_ids: list[str], results: list[Any]) -> Any:
        for result in results:
            for sent in result.sent:
                for status, code in reports.pop(sent.claim.to, []):
                    assert gateway.status_callback(sent.sid, status, code).status_code == 204
        return record(app, survey_ids, results)

    monkeypatch.setattr(send_batches, "_record", reported_first)


def by_number(gateway: Gateway) -> dict[str, Survey]:
    return {s.contact: s for s in gateway.rows(Survey)}


def test_statuses_reported_before_a_chunk_is_recorded_are_applied_when_it_is(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered, out_of_order, opted_out, landline, kept = NUMBERS[:5]
    twilio_answering(twilio_api, {})
    report_before_the_chunk_is_recorded(
        monkeypatch,
        queued_gateway,
        {
            delivered: [("sent", None), ("delivered", None)],
            out_of_order: [("delivered", None), ("sent", None)],
            opted_out: [("undelivered", "21610")],
            landline: [("undelivered", "30006")],
        },
    )
    batch(queued_gateway, NUMBERS[:5])

    run_worker(queued_gateway.app, burst=True)

    texts = {m.to_addr: m for m in queued_gateway.messages(Message.direction == "outbound")}
    assert {n: texts[n].status for n in (delivered, out_of_order, kept)} == {
        delivered: "delivered",
        out_of_order: "delivered",
        kept: "queued",
    }
    assert (texts[opted_out].status, texts[opted_out].error_code) == ("undelivered", "21610")
    surveys = by_number(queued_gateway)
    assert surveys[opted_out].status == "opted_out"
    assert [o.keyword for o in queued_gateway.rows(OptOut)] == ["error 21610"]
    assert surveys[landline].status == "failed"  # this flow has no call fallback
    assert surveys[landline].failure_reason == "error 30006: landline or unreachable carrier"
    assert queued_gateway.rows(EarlyStatus) == []  # applied, so no longer kept


def test_a_retryable_failure_reported_early_sends_the_text_again_once(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = NUMBERS[1]
    asked = twilio_answering(twilio_api, {})
    # The same callback twice.
    twice: list[tuple[str, str | None]] = [("undelivered", "30003")] * 2
    report_before_the_chunk_is_recorded(monkeypatch, queued_gateway, {flaky: twice})
    batch(queued_gateway, NUMBERS[:3])

    run_worker(queued_gateway.app, burst=True)

    assert Counter(asked) == {**dict.fromkeys(NUMBERS[:3], 1), flaky: 2}
    (text,) = [m for m in queued_gateway.messages() if m.to_addr == flaky]
    assert (text.status, text.attempts) == ("queued", 2)
    assert {s.status for s in queued_gateway.rows(Survey)} == {"sent"}


def test_a_landline_reported_before_its_chunk_is_recorded_is_called_instead(
    database_url: str, twilio_api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = reach_gateway(
        database_url,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token="auth-token",
        twilio_phone_number="+12025550100",
    )
    landline = NUMBERS[1]
    asked = twilio_answering(twilio_api, {})
    calls = twilio_api.post(
        MESSAGES_URL.replace("Messages", "Calls"),
        json={"sid": "CA" + "c" * 32, "status": "queued"},
        status=201,
    )
    report_before_the_chunk_is_recorded(
        monkeypatch, gateway, {landline: [("undelivered", "30006")]}
    )

    batch(gateway, NUMBERS[:3], flow=REACH_FLOW)  # started in-process, as one chunk

    assert sorted(asked) == NUMBERS[:3] and calls.call_count == 1
    surveys = by_number(gateway)
    assert (surveys[landline].channel, surveys[landline].status) == ("voice", "sent")
    assert {surveys[n].status for n in (NUMBERS[0], NUMBERS[2])} == {"sent"}
    db_of(gateway.app).dispose()


def test_a_callback_arriving_while_its_text_is_recorded_waits_and_is_applied(
    queued_gateway: Gateway,
) -> None:
    app = queued_gateway.app
    (survey_id,) = batch(queued_gateway, NUMBERS[:1])
    _held, (claim,) = send_batches.begin_part(app, [survey_id])
    sid = "SM" + "a" * 32
    answers: list[int] = []

    def callback() -> None:
        answers.append(queued_gateway.status_callback(sid, "delivered").status_code)

    with db_of(app).session() as session:
        now = utcnow()
        send_claims.mark_sent_many(session, [send_claims.Sent(claim, sid, "queued")], now=now)
        reporting = threading.Thread(target=callback)
        reporting.start()
        reporting.join(timeout=0.5)
        assert reporting.is_alive()  # it waits for the recording to commit
        early_statuses.apply_recorded(session, [sid], now=now, max_attempts=3)
    reporting.join(timeout=20)

    assert answers == [204]
    (text,) = queued_gateway.outbound(survey_id)
    assert text.status == "delivered"
    assert queued_gateway.rows(EarlyStatus) == []


def test_a_status_reported_before_a_single_send_is_recorded_is_applied_when_it_is(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    twilio_answering(twilio_api, {})
    mark_sent: Callable[..., None] = send_claims.mark_sent

    def reported_first(session: Any, survey_id: str, message_id: int, **sent: Any) -> None:
        for _ in range(2):  # the callback repeated
            callback = queued_gateway.status_callback(sent["sid"], "undelivered", "21610")
            assert callback.status_code == 204
        mark_sent(session, survey_id, message_id, **sent)

    monkeypatch.setattr(send_claims, "mark_sent", reported_first)
    survey_id = queued_gateway.trigger(to=NUMBERS[0])["id"]

    run_worker(queued_gateway.app, burst=True)

    (opening,) = queued_gateway.outbound(survey_id)
    assert (opening.status, opening.error_code) == ("undelivered", "21610")
    assert queued_gateway.status_of(survey_id) == "opted_out"
    assert len(queued_gateway.rows(OptOut)) == 1
    assert queued_gateway.rows(EarlyStatus) == []
    # The callback once more, now that the text is recorded: nothing changes.
    again = queued_gateway.status_callback(opening.provider_sid or "", "undelivered", "21610")
    assert again.status_code == 204
    assert len(queued_gateway.rows(OptOut)) == 1
    assert queued_gateway.status_of(survey_id) == "opted_out"


def test_a_status_for_a_text_never_recorded_is_deleted_after_a_day(database_url: str) -> None:
    gateway = make_gateway(database_url)
    unknown = "SM" + "e" * 32
    assert gateway.status_callback(unknown, "undelivered", "30006").status_code == 204
    assert gateway.status_callback(unknown, "undelivered", "30006").status_code == 204
    (kept,) = gateway.rows(EarlyStatus)
    assert (kept.provider_sid, kept.status, kept.error_code) == (unknown, "undelivered", "30006")

    assert sweep(gateway.app, now=utcnow() + timedelta(hours=23)).early_statuses_deleted == 0
    assert len(gateway.rows(EarlyStatus)) == 1
    assert sweep(gateway.app, now=utcnow() + timedelta(hours=25)).early_statuses_deleted == 1
    assert gateway.rows(EarlyStatus) == []
    db_of(gateway.app).dispose()
