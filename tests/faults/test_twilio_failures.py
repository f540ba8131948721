"""Twilio failing for a while (5xx answers, no answer at all): the text is retried with
backoff and reaches the respondent exactly once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.sending.worker import run_worker
from gateway.services import queue
from gateway.store.models import Message, Survey
from tests.sms.support import Gateway
from tests.support.twilio_double import TwilioDouble

pytestmark = [pytest.mark.faults, pytest.mark.redis]

TO = "+12025550191"


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    server = TwilioDouble(hang=11.0)  # past the Twilio client's 10-second timeout
    yield server
    server.close()


@pytest.fixture
def gateway(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setattr(queue, "RETRY_INTERVALS", [0])  # the backoff's length is not tested here
    return gateway


def test_server_errors_are_retried_and_the_text_arrives_once(
    gateway: Gateway, double: TwilioDouble
) -> None:
    double.failures += [500, 503]
    survey_id = gateway.trigger(to=TO)["id"]
    run_worker(gateway.app, burst=True)

    assert [r.answered for r in double.received] == [500, 503, 201]
    assert [r.to for r in double.delivered()] == [TO]
    (opening,) = gateway.messages(Message.direction == "outbound")
    assert (opening.status, opening.attempts) == ("queued", 3)
    assert gateway.rows(Survey, Survey.id == survey_id)[0].status == "sent"


@pytest.mark.slow
def test_a_send_that_times_out_is_retried_and_the_text_arrives_once(
    gateway: Gateway, double: TwilioDouble
) -> None:
    double.failures.append("timeout")
    gateway.trigger(to=TO)
    run_worker(gateway.app, burst=True)

    assert [r.to for r in double.delivered()] == [TO]
    (opening,) = gateway.messages(Message.direction == "outbound")
    assert opening.error_code is None and opening.attempts == 2


def test_the_backoff_between_attempts_grows() -> None:
    assert queue.RETRY_INTERVALS == sorted(queue.RETRY_INTERVALS)
    assert len(set(queue.RETRY_INTERVALS)) == len(queue.RETRY_INTERVALS) >= 3
