"""The quick lane (gateway.twilio.quick_lane) answers a reply to the open survey before
Flask, exactly as the view would; everything else reaches the view, tried once.

The lane's quick path runs on PostgreSQL; on SQLite it declines every text, so the same
tests there show the view serving what the lane leaves to it."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from prometheus_client import REGISTRY
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

from gateway.sms import quick_reply as sms_quick_reply
from gateway.sms import webhooks as sms
from gateway.store.db import db_of
from gateway.store.models import Answer, Message
from gateway.twilio.quick_lane import QuickLane, _form
from tests.sms.support import Gateway, count_views, replies

OTHER = "+12025550188"
SECOND_QUESTION = "Would you come back? Reply YES or NO."
NO_SURVEY = "There is no open survey for this number. Thank you."


def quick_path_runs(gateway: Gateway) -> bool:
    return db_of(gateway.app).engine.dialect.name == "postgresql"


def without_lane(gateway: Gateway) -> Client:
    """A client of the same app with the lane taken out: every request reaches the view."""
    lane = gateway.app.wsgi_app
    assert isinstance(lane, QuickLane)
    return Client(lane.inner)


def test_a_reply_is_answered_by_the_lane_as_the_view_answers_it(gateway: Gateway) -> None:
    views = count_views(gateway.app, "twilio_sms.inbound")
    gateway.trigger()
    gateway.trigger(to=OTHER)

    by_lane = gateway.text("4")
    gateway.client = without_lane(gateway)  # type: ignore[assignment]
    by_view = gateway.text("4", from_=OTHER)

    assert replies(by_lane) == replies(by_view) == [SECOND_QUESTION]
    assert by_lane.get_data() == by_view.get_data()
    assert by_lane.status == by_view.status == "200 OK"
    lane_headers = {k: v for k, v in by_lane.headers.items() if k != "X-Request-Id"}
    view_headers = {k: v for k, v in by_view.headers.items() if k != "X-Request-Id"}
    assert lane_headers == view_headers
    assert "Strict-Transport-Security" in lane_headers  # the public origin is HTTPS
    assert len(by_lane.headers["X-Request-Id"]) == 32
    assert views["twilio_sms.inbound"] == (1 if quick_path_runs(gateway) else 2)
    answers = [(a.question_id, a.raw, a.value) for a in gateway.rows(Answer)]
    assert answers == [("satisfied", "4", 4), ("satisfied", "4", 4)]


def logged_requests(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    return [line for line in lines if line["logger"] == "gateway.request"]


def served_replies() -> float:
    labels = {"method": "POST", "endpoint": "/twilio/sms", "status": "200"}
    return REGISTRY.get_sample_value("gateway_http_requests_total", labels) or 0.0


def test_each_reply_is_logged_and_measured_under_its_request_id(
    gateway: Gateway, json_logs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    gateway.trigger()
    capsys.readouterr()
    before = served_replies()
    response = gateway.text("4", headers={"X-Request-Id": "lb-9.1"})
    assert replies(response) == [SECOND_QUESTION]
    assert response.headers["X-Request-Id"] == "lb-9.1"
    (line,) = logged_requests(capsys)
    assert (line["method"], line["path"], line["endpoint"], line["status"]) == (
        "POST",
        "/twilio/sms",
        "/twilio/sms",
        200,
    )
    assert line["request_id"] == "lb-9.1"
    assert isinstance(line["duration_ms"], float)
    assert served_replies() == before + 1


def test_a_text_the_quick_path_declines_is_tried_once_then_served_by_the_view(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    views = count_views(gateway.app, "twilio_sms.inbound")
    tries: list[str] = []
    quick = sms.quick_reply

    def counted(*args: Any, **kwargs: Any) -> list[str] | None:
        tries.append(kwargs["body"])
        return quick(*args, **kwargs)

    monkeypatch.setattr(sms, "quick_reply", counted)
    assert replies(gateway.text("hello")) == [NO_SURVEY]  # no survey is open for the number
    assert tries == ["hello"]
    assert views["twilio_sms.inbound"] == 1
    inbound = gateway.messages(Message.direction == "inbound")
    assert [message.body for message in inbound] == ["hello"]


@pytest.mark.postgres
@pytest.mark.quick_lane_fails
def test_a_quick_path_that_fails_is_logged_and_the_view_still_answers(
    pg_gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    views = count_views(pg_gateway.app, "twilio_sms.inbound")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the quick path")

    pg_gateway.trigger()
    monkeypatch.setattr(sms_quick_reply, "step", broken)
    with caplog.at_level(logging.ERROR, logger="gateway.twilio.quick_lane"):
        response = pg_gateway.text("4")
    assert replies(response) == [SECOND_QUESTION]
    assert "quick lane: /twilio/sms failed; the view serves it" in caplog.text
    assert views["twilio_sms.inbound"] == 1
    assert [(a.question_id, a.value) for a in pg_gateway.rows(Answer)] == [("satisfied", 4)]


def test_a_reply_with_a_bad_signature_reaches_the_view_and_is_refused(gateway: Gateway) -> None:
    views = count_views(gateway.app, "twilio_sms.inbound")
    gateway.trigger()
    stored = len(gateway.messages())
    response = gateway.client.post(
        "/twilio/sms",
        data={"MessageSid": "SM" + "1" * 32, "From": "+12025550123", "Body": "4"},
        headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    )
    assert response.status_code == 403
    assert response.get_data(as_text=True) == "invalid Twilio signature\n"
    assert views["twilio_sms.inbound"] == 1
    assert gateway.rows(Answer) == []
    assert len(gateway.messages()) == stored


@pytest.mark.parametrize(
    "body",
    [
        b"Body=4&From=%2B12025550123&To=%2B12025550100",
        b"Body=The+line+was+short%2C+thanks%21&Body=second&Empty=",
        b"Body=A%C3%B1o+%E2%9C%93&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fx%3Fa%3D1%26b%3D2",
        b"Body=%FF%FE+not+UTF-8+once+decoded&Flag",
    ],
)
def test_the_lane_reads_a_form_as_flask_does(body: bytes) -> None:
    environ = EnvironBuilder(
        method="POST", data=body, content_type="application/x-www-form-urlencoded"
    ).get_environ()
    assert _form(body) == Request(environ).form


def test_every_hook_flask_runs_for_a_webhook_is_one_the_lane_does_too(gateway: Gateway) -> None:
    """The lane answers without Flask's hooks, doing what each does for a webhook itself:
    the request log (id, line, metrics), the in-process sweeper's start, and the security
    headers; the public pages' rate limit does not apply to webhooks. A hook added to the
    app, or to the Twilio blueprints, must be taken into the lane too (or shown not to
    apply) before this list is changed."""
    app = gateway.app
    hooks = {
        f"{kind}:{function.__module__}.{function.__qualname__}"
        for kind, registry in (
            ("before", app.before_request_funcs),
            ("after", app.after_request_funcs),
            ("teardown", app.teardown_request_funcs),
        )
        for scope in (None, "twilio_sms", "twilio_voice")
        for function in registry.get(scope, [])
    }
    assert hooks == {
        "before:gateway.http.request_log._begin",
        "before:gateway.sending.sweeper.init_app.<locals>.<lambda>",
        "before:gateway.http.rate_limits._limit_public",
        "after:gateway.http.request_log._finish",
        "after:gateway.http.security_headers._header_adder.<locals>.add_headers",
        "teardown:gateway.http.request_log._reset",
    }
    assert not app.url_value_preprocessors and not app.url_default_functions
