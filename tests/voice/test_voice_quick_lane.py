"""The quick lane (gateway.twilio.quick_lane) answers a call's steps and its closing
status callback before Flask, as the views would; what its quick path declines reaches
the view, which serves it by the general path without trying the quick one again.

The quick path runs on PostgreSQL; on SQLite it declines every step, so there the same
tests show the views serving everything."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from werkzeug.test import Client

from gateway.store.db import db_of
from gateway.twilio.quick_lane import QuickLane
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN
from tests.sms.support import count_views
from tests.voice.call_simulator import CallSimulator, SimulatedCall, flask_transport
from tests.voice.conftest import survey_of_call

CALL_CENTER = "/twilio/voice?flow=call-center-post-call&agent=Maria&queue=benefits"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE7"
SURVEY_ID = re.compile(r"sv_[A-Za-z0-9_-]+")
STEP_VIEWS = ("twilio_voice.gather", "twilio_voice.no_input", "twilio_voice.recording")


def view_phone(app: Flask) -> CallSimulator:
    """A phone whose posts skip the lane: every request reaches the views."""
    lane = app.wsgi_app
    assert isinstance(lane, QuickLane)
    return CallSimulator(
        flask_transport(Client(lane.inner)),
        auth_token=DEVELOPMENT_AUTH_TOKEN,
        base_url=app.extensions["settings"].public_base_url,
    )


def whole_call(phone: CallSimulator) -> SimulatedCall:
    """The language menu, Spanish, a bad key, silence, three answers and a recording."""
    call = phone.dial(CALL_CENTER)
    call.press("9").press("7").silence().press("1").press("4")
    return call.record(RECORDING, 9)


def quick_path_runs(app: Flask) -> bool:
    return db_of(app).engine.dialect.name == "postgresql"


def test_a_call_through_the_lane_hears_and_stores_what_the_views_make_of_it(
    app: Flask, phone: CallSimulator, served: list[bool]
) -> None:
    views = count_views(app, *STEP_VIEWS)
    by_lane = whole_call(phone)
    steps = len(served)
    assert steps == 6  # the language, a bad key, silence, two keys and the recording
    assert sum(views.values()) == served.count(False)  # the view ran what was declined
    if quick_path_runs(app):
        assert served.count(True) >= 5, served
    else:
        assert served == [False] * steps

    views.clear()
    by_view = whole_call(view_phone(app))
    assert sum(views.values()) == steps

    def documents(call: SimulatedCall) -> list[str]:
        return [SURVEY_ID.sub("SV", document) for document in call.documents]

    assert documents(by_lane) == documents(by_view)
    lane_survey, view_survey = survey_of_call(app, by_lane.sid), survey_of_call(app, by_view.sid)
    assert lane_survey.status == view_survey.status == "completed"
    assert [(a.question_id, a.raw, a.value) for a in lane_survey.answers] == [
        (a.question_id, a.raw, a.value) for a in view_survey.answers
    ]


def test_the_closing_status_callback_is_answered_as_the_view_answers_it(
    app: Flask, phone: CallSimulator
) -> None:
    by_lane, by_view = whole_call(phone), whole_call(view_phone(app))  # each posts it once
    views = count_views(app, "twilio_voice.status")
    lane_client, view_client = app.test_client(), Client(app.wsgi_app.inner)  # type: ignore[attr-defined]

    def hang_up(client: Any, call: SimulatedCall) -> Any:
        form = {**phone.call_params(call), "CallStatus": "completed"}
        signature = phone.validator.compute_signature(phone.status_url, form)
        return client.post(
            "/twilio/voice/status", data=form, headers={"X-Twilio-Signature": signature}
        )

    lane_answer, view_answer = hang_up(lane_client, by_lane), hang_up(view_client, by_view)
    assert lane_answer.status == view_answer.status == "204 NO CONTENT"
    assert lane_answer.get_data() == view_answer.get_data() == b""

    def headers(response: Any) -> dict[str, str]:
        return {k: v for k, v in response.headers.items() if k != "X-Request-Id"}

    assert headers(lane_answer) == headers(view_answer)
    assert views["twilio_voice.status"] == (1 if quick_path_runs(app) else 2)
