"""`/metrics`: requests, sends, delivery statuses, completions and queue depths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from config.settings import Settings
from gateway.app import create_app
from gateway.services.queue import queue_of, redis_of
from gateway.store.db import db_of
from gateway.store.models import Message
from tests.conftest import REDIS_TEST_URL, ROOT
from tests.sms.support import make_gateway
from tests.support.slow_jobs import slow_job


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def test_requests_are_counted_by_endpoint_rule_and_status(client: FlaskClient) -> None:
    labels = {"method": "GET", "endpoint": "/api/v1/surveys/<survey_id>", "status": "401"}
    before = sample("gateway_http_requests_total", **labels)
    client.get("/api/v1/surveys/sv_0123456789")
    client.get("/api/v1/surveys/sv_9876543210")
    samples = scrape(client)
    assert samples[("gateway_http_requests_total", tuple(sorted(labels.items())))] == before + 2
    duration = {"method": "GET", "endpoint": "/api/v1/surveys/<survey_id>"}
    key = ("gateway_http_request_duration_seconds_count", tuple(sorted(duration.items())))
    assert samples[key] >= 2


def test_sends_delivery_statuses_and_completions_are_counted_by_channel(
    database_url: str,
) -> None:
    gateway = make_gateway(database_url)
    sent_before = sample("gateway_messages_total", channel="sms", status="simulated")
    done_before = sample("gateway_surveys_completed_total", channel="sms")
    try:
        survey_id = gateway.trigger()["id"]
        for body in ("4", "yes", "Short line"):
            gateway.text(body)
        assert gateway.survey(survey_id)["status"] == "completed"
    finally:
        db_of(gateway.app).dispose()
    # The opening question and the three replies' prompts, each handed to delivery.
    assert sample("gateway_messages_total", channel="sms", status="simulated") == sent_before + 4
    assert sample("gateway_surveys_completed_total", channel="sms") == done_before + 1


@pytest.mark.redis
def test_queue_depths_are_read_from_redis(settings: Settings, queue_prefix: str) -> None:
    settings = settings.with_overrides({"redis_url": REDIS_TEST_URL, "queue_prefix": queue_prefix})
    app = create_app(settings, {"TESTING": True})
    queue = queue_of(app)
    for _ in range(3):
        queue.enqueue(slow_job, "/dev/null", 0)
    try:
        samples = scrape(app.test_client())
    finally:
        queue.delete(delete_jobs=True)
        redis_of(app).close()
    assert samples[("gateway_queue_jobs", (("queue", "send"), ("state", "queued")))] == 3
    assert samples[("gateway_queue_jobs", (("queue", "send"), ("state", "failed")))] == 0


REQUESTING_PROCESS = """
from pathlib import Path
from config.settings import Settings
from gateway.app import create_app
settings = Settings(database_url="sqlite:///{db}", secret_key="k", secret_key_generated=False,
                    flows_dir=Path("flows"), environment="test")
client = create_app(settings, {{"TESTING": True}}).test_client()
client.get("/healthz")
if {scrape}:
    print(client.get("/metrics").get_data(as_text=True))
"""


@pytest.mark.slow
def test_with_a_multiprocess_directory_metrics_add_up_across_processes(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PYTHONPATH": str(ROOT)}
    outputs = []
    for index, last in enumerate((False, False, True)):
        code = REQUESTING_PROCESS.format(db=tmp_path / f"p{index}.sqlite3", scrape=last)
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    families = {f.name: f for f in text_string_to_metric_families(outputs[-1])}
    (healthz,) = [
        s
        for s in families["gateway_http_requests"].samples
        if s.name == "gateway_http_requests_total" and s.labels["endpoint"] == "/healthz"
    ]
    assert healthz.value == 3


def test_without_redis_no_queue_depth_is_reported(client: FlaskClient) -> None:
    samples = scrape(client)
    assert not [key for key in samples if key[0] == "gateway_queue_jobs"]


def test_delivery_statuses_reported_by_twilio_are_counted(database_url: str) -> None:
    gateway = make_gateway(database_url)
    before = sample("gateway_messages_total", channel="sms", status="delivered")
    try:
        gateway.trigger()
        (opening,) = gateway.messages(Message.direction == "outbound")
        assert opening.provider_sid is not None
        assert gateway.status_callback(opening.provider_sid, "delivered").status_code < 300
    finally:
        db_of(gateway.app).dispose()
    assert sample("gateway_messages_total", channel="sms", status="delivered") == before + 1
