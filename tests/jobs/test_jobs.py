"""Survey jobs through rq on real Redis, with a real worker, against Twilio's API faked at
the HTTP boundary."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import responses
from click.testing import CliRunner
from redis import Redis
from rq import Queue

from gateway.cli import main
from gateway.sending.sweeper import STALE_QUEUED
from gateway.sending.worker import run_worker
from gateway.services.queue import MAX_SEND_ATTEMPTS, enqueue_start, queue_name
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from tests.sms.support import PUBLIC_BASE_URL, RESPONDENT, Gateway, replies
from tests.support.queued import MESSAGES_URL, created, twilio_error


def _work(gateway: Gateway) -> None:
    run_worker(gateway.app, burst=True)


def _form(call: responses.Call) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body.decode() if isinstance(body, bytes) else str(body))


def test_a_trigger_is_queued_and_the_worker_sends_the_opening_text(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.post(MESSAGES_URL, json=created(), status=201)
    survey_id = queued_gateway.trigger()["id"]
    assert queued_gateway.status_of(survey_id) == "queued" and len(twilio_api.calls) == 0

    _work(queued_gateway)

    (call,) = twilio_api.calls
    form = _form(call)
    assert form["To"] == [RESPONDENT] and form["From"] == ["+12025550100"]
    assert form["StatusCallback"] == [PUBLIC_BASE_URL + "/twilio/sms/status"]
    assert "I am satisfied" in form["Body"][0]
    (opening,) = queued_gateway.outbound(survey_id)
    assert (opening.provider_sid, opening.status) == (created()["sid"], "queued")
    assert queued_gateway.status_of(survey_id) == "sent"
    assert replies(queued_gateway.text("4")) == ["Would you come back? Reply YES or NO."]


def test_a_retryable_failure_30003_is_retried_and_the_text_sent_once(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.post(MESSAGES_URL, json=twilio_error(30003), status=400)
    twilio_api.post(MESSAGES_URL, json=created(), status=201)
    survey_id = queued_gateway.trigger()["id"]
    _work(queued_gateway)
    assert len(twilio_api.calls) == 2
    (opening,) = queued_gateway.outbound(survey_id)
    assert (opening.status, opening.attempts) == ("queued", 2)
    assert queued_gateway.status_of(survey_id) == "sent"


def test_a_permanent_failure_30006_is_not_retried_and_fails_the_survey(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock, redis: Redis, queue_prefix: str
) -> None:
    twilio_api.post(MESSAGES_URL, json=twilio_error(30006), status=400)
    survey_id = queued_gateway.trigger()["id"]
    _work(queued_gateway)
    assert len(twilio_api.calls) == 1
    survey = queued_gateway.survey(survey_id)
    assert survey["status"] == "failed"
    assert survey["failure_reason"] == "error 30006: landline or unreachable carrier"
    queue = Queue(queue_name(queued_gateway.app.extensions["settings"]), connection=redis)
    assert queue.failed_job_registry.count == 1


def test_error_21610_on_send_records_the_opt_out(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.post(MESSAGES_URL, json=twilio_error(21610), status=400)
    survey_id = queued_gateway.trigger()["id"]
    _work(queued_gateway)
    assert queued_gateway.status_of(survey_id) == "opted_out"
    assert queued_gateway.opted_out()


def test_retries_stop_after_the_last_attempt(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.post(MESSAGES_URL, json=twilio_error(63018), status=400)
    survey_id = queued_gateway.trigger()["id"]
    _work(queued_gateway)
    assert len(twilio_api.calls) == MAX_SEND_ATTEMPTS
    assert queued_gateway.status_of(survey_id) == "failed"


def test_a_start_run_twice_never_sends_the_same_text_twice(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.post(MESSAGES_URL, json=created(), status=201)
    survey_id = queued_gateway.trigger()["id"]
    enqueue_start(queued_gateway.app, survey_id, None)
    _work(queued_gateway)
    enqueue_start(queued_gateway.app, survey_id, None)
    _work(queued_gateway)
    assert len(twilio_api.calls) == 1
    assert len(queued_gateway.outbound(survey_id)) == 1


def test_a_survey_with_send_at_waits_until_it_is_due(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.post(MESSAGES_URL, json=created(), status=201)
    send_at = datetime.now(UTC) + timedelta(seconds=2)
    survey_id = queued_gateway.trigger(send_at=send_at.isoformat())["id"]
    assert queued_gateway.status_of(survey_id) == "scheduled"
    _work(queued_gateway)
    assert len(twilio_api.calls) == 0
    time.sleep(max(0.0, (send_at - datetime.now(UTC)).total_seconds()) + 0.2)
    _work(queued_gateway)
    assert len(twilio_api.calls) == 1
    assert queued_gateway.status_of(survey_id) == "sent"


def test_the_sweeper_sends_a_survey_committed_but_never_queued(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock, redis: Redis
) -> None:
    twilio_api.post(MESSAGES_URL, json=created(), status=201)
    survey_id = queued_gateway.trigger()["id"]
    Queue(queue_name(queued_gateway.app.extensions["settings"]), connection=redis).empty()
    with db_of(queued_gateway.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        survey.queued_at = utcnow() - STALE_QUEUED - timedelta(seconds=1)
    _work(queued_gateway)
    assert len(twilio_api.calls) == 1
    assert queued_gateway.status_of(survey_id) == "sent"


def test_the_worker_expires_surveys_past_their_time(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.post(MESSAGES_URL, json=created(), status=201)
    survey_id = queued_gateway.trigger()["id"]
    _work(queued_gateway)
    queued_gateway.text("2")
    with db_of(queued_gateway.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        survey.expires_at = utcnow() - timedelta(seconds=1)
    _work(queued_gateway)
    survey_json = queued_gateway.survey(survey_id)
    assert survey_json["status"] == "expired"
    assert survey_json["answers"]["satisfied"] == 2


def test_gateway_worker_burst_runs_the_queued_jobs(
    queued_gateway: Gateway, twilio_api: responses.RequestsMock, queue_prefix: str
) -> None:
    twilio_api.post(MESSAGES_URL, json=created(), status=201)
    settings = queued_gateway.app.extensions["settings"]
    survey_id = queued_gateway.trigger()["id"]
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "QUEUE_PREFIX": queue_prefix,
        "FLOWS_DIR": str(settings.flows_dir),
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": "auth-token",
        "TWILIO_PHONE_NUMBER": "+12025550100",
        "SECRET_KEY": "test-secret-key",
    }
    result = CliRunner().invoke(main, ["worker", "--burst"], env=env)
    assert result.exit_code == 0, result.output
    assert len(twilio_api.calls) == 1
    assert queued_gateway.status_of(survey_id) == "sent"


def test_gateway_worker_without_redis_says_what_to_set() -> None:
    result = CliRunner().invoke(main, ["worker"], env={"REDIS_URL": ""})
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output
