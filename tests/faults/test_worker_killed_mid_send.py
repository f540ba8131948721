"""A `gateway worker` killed (SIGKILL) in the middle of a send: the next worker asks
Twilio's Messages list whether the text went out before sending it, so the respondent
gets it exactly once whether or not Twilio had taken it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store.models import Message, Survey
from tests.conftest import REDIS_TEST_URL
from tests.faults.conftest import ACCOUNT
from tests.sms.support import FLOWS, Gateway
from tests.support.twilio_double import TwilioDouble
from tests.support.workers import wait_for, workers

pytestmark = [pytest.mark.faults, pytest.mark.redis, pytest.mark.slow]

TO = "+12025550192"
CLAIM_TIMEOUT = 1.0


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    server = TwilioDouble(hang=20.0)  # the first worker is killed long before an answer
    yield server
    server.close()


@pytest.fixture
def env(database_url: str, queue_prefix: str, double: TwilioDouble) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_TEST_URL,
        "QUEUE_PREFIX": queue_prefix,
        "FLOWS_DIR": str(FLOWS),
        "SECRET_KEY": "test-secret-key",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "auth-token",
        "TWILIO_PHONE_NUMBER": "+12025550100",
        "TWILIO_API_BASE_URL": double.url,
        "SMS_SEGMENTS_PER_SECOND": "0",
        "QUIET_HOURS": "off",
        "SEND_CLAIM_TIMEOUT": str(CLAIM_TIMEOUT),
    }


def kill_with_children(worker: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and rq's scheduler process it forked, as a lost host would."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    worker.kill()
    worker.wait()
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


def opening(gateway: Gateway) -> Message:
    (message,) = gateway.messages(Message.direction == "outbound")
    return message


def kill_mid_send_then_restart(
    gateway: Gateway, double: TwilioDouble, env: dict[str, str], logs: Path
) -> str:
    """Trigger a survey, SIGKILL the worker while Twilio holds its send, start another."""
    survey_id: str = gateway.trigger(to=TO)["id"]
    with workers(env, 1, logs) as (first,):
        wait_for(double.arrived.is_set, 30, "the first worker's send to reach the double")
        kill_with_children(first)
    assert opening(gateway).status == "claimed"
    time.sleep(CLAIM_TIMEOUT * 1.5)
    with workers(env, 1, logs):
        wait_for(lambda: opening(gateway).status != "claimed", 30, "the text to be settled")
    return survey_id


def test_a_text_that_never_reached_twilio_is_sent_by_the_next_worker(
    gateway: Gateway, double: TwilioDouble, env: dict[str, str], tmp_path: Path
) -> None:
    double.failures.append("lost")
    survey_id = kill_mid_send_then_restart(gateway, double, env, tmp_path)

    (sent,) = double.delivered()
    assert sent.to == TO
    assert (opening(gateway).status, opening(gateway).provider_sid) == ("queued", sent.sid)
    assert gateway.rows(Survey, Survey.id == survey_id)[0].status == "sent"


def test_a_text_twilio_took_before_the_worker_died_is_not_sent_again(
    gateway: Gateway, double: TwilioDouble, env: dict[str, str], tmp_path: Path
) -> None:
    double.failures.append("accepted-slow")
    survey_id = kill_mid_send_then_restart(gateway, double, env, tmp_path)

    (sent,) = double.received
    assert sent.to == TO
    assert (opening(gateway).status, opening(gateway).provider_sid) == ("sent", sent.sid)
    assert gateway.rows(Survey, Survey.id == survey_id)[0].status == "sent"


def test_a_worker_killed_mid_chunk_leaves_each_respondent_texted_exactly_once(
    gateway: Gateway, double: TwilioDouble, env: dict[str, str], tmp_path: Path
) -> None:
    numbers = ["+12025550193", "+12025550194", "+12025550195"]
    # The chunk's texts go out together: Twilio takes the first that arrives (and answers
    # late), the others never reach it; the worker is killed while all three hang.
    double.failures += ["accepted-slow", "lost", "lost"]
    response = gateway.client.post(
        "/api/v1/surveys/batch",
        json={"surveys": [{"flow": "clinic-visit", "channel": "sms", "to": n} for n in numbers]},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    assert response.get_json()["accepted"] == len(numbers)
    with workers(env, 1, tmp_path) as (first,):
        wait_for(lambda: not double.failures, 30, "the chunk's three sends to reach the double")
        kill_with_children(first)
    texts = gateway.messages(Message.direction == "outbound")
    assert [m.status for m in texts] == ["claimed"] * len(numbers)
    time.sleep(CLAIM_TIMEOUT * 1.5)
    with workers(env, 1, tmp_path):
        wait_for(
            lambda: all(m.status != "claimed" for m in gateway.messages()),
            30,
            "every text to be settled",
        )

    assert sorted(r.to for r in double.delivered()) == numbers  # once each, none twice
    sids = {r.to: r.sid for r in double.delivered()}
    texts = gateway.messages(Message.direction == "outbound")
    assert {m.to_addr: m.provider_sid for m in texts} == sids
    assert {s.status for s in gateway.rows(Survey)} == {"sent"}
