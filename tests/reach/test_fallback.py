"""Mode fallback on one survey record: SMS to an emailed web link when nobody answered,
and SMS to a call when the number cannot take texts (at trigger time, or error 30006)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from channels.voice import SimulatedCalls
from gateway.sending.sweeper import sweep
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from tests.reach.contact_plan import (
    EMAIL,
    FLOW,
    LANDLINE,
    LINK,
    attempts_of,
    emails_sent,
    reach_gateway,
    survey_count,
    sweep_at,
    texts_sent,
)
from tests.sms.support import Gateway
from tests.voice.call_simulator import CallSimulator, flask_transport
from tests.web.support import follow, page_form, text

DAYS_2 = timedelta(days=2, minutes=1)


@pytest.fixture
def gw(database_url: str) -> Iterator[Gateway]:
    gateway = reach_gateway(database_url)
    yield gateway
    db_of(gateway.app).dispose()


def phone_of(gw: Gateway) -> CallSimulator:
    return CallSimulator(
        flask_transport(gw.client), auth_token=gw.auth_token, base_url="https://gateway.example.gov"
    )


def placed_calls(gw: Gateway) -> list[str]:
    placer = providers_of(gw.app).calls
    assert isinstance(placer, SimulatedCalls)
    return [call.sid for call in placer.placed]


def test_nobody_answered_the_text_so_the_link_is_emailed_and_answered_on_the_web(
    gw: Gateway,
) -> None:
    survey_id = gw.trigger(flow=FLOW, fallback_to={"email": EMAIL})["id"]
    sweep_at(gw, survey_id, timedelta(hours=4, minutes=1))  # reminder 1
    sweep_at(gw, survey_id, timedelta(days=1, minutes=1))  # reminder 2
    assert emails_sent(gw) == []
    sweep_at(gw, survey_id, DAYS_2)
    sweep_at(gw, survey_id, DAYS_2)  # once
    [email] = emails_sent(gw)
    assert email.to == EMAIL
    assert "I am satisfied with the service I received." in email.text
    survey = gw.survey(survey_id)
    assert survey["channel"] == "email" and survey["status"] == "sent"

    [link] = LINK.findall(email.text)
    page = follow(gw.client, gw.client.get(link))
    page = follow(gw.client, page_form(page).submit(gw.client, answer="5"))
    page = follow(gw.client, page_form(page).submit(gw.client, answer="yes"))
    assert "Thank you for your feedback." in text(page)

    survey = gw.survey(survey_id)
    assert survey["status"] == "completed"
    assert survey["answers"] == {"satisfied": 5, "returning": "yes"}
    assert survey_count(gw) == 1  # one record across both channels
    assert attempts_of(gw, survey_id) == [
        ("first", 1, "sms", "sent"),
        ("reminder", 1, "sms", "sent"),
        ("reminder", 2, "sms", "sent"),
        ("fallback", 1, "email", "sent"),
    ]
    fallback = survey["attempts"][-1]
    assert fallback["reason"] == "no_answer" and fallback["delivery"] == "simulated"
    assert [m["channel"] for m in survey["messages"] if m["direction"] == "outbound"] == [
        "sms",
        "sms",
        "sms",
        "email",
    ]


def test_no_fallback_email_after_an_answer_or_stop(gw: Gateway) -> None:
    answered = gw.trigger(flow=FLOW, fallback_to={"email": EMAIL})["id"]
    gw.text("4")
    sweep_at(gw, answered, DAYS_2)
    assert emails_sent(gw) == []
    assert gw.survey(answered)["attempts"][-1]["detail"] == "answered"

    stopped = gw.trigger(flow=FLOW, fallback_to={"email": EMAIL})["id"]
    gw.text("STOP")
    sweep_at(gw, stopped, DAYS_2)
    assert emails_sent(gw) == []
    assert gw.survey(stopped)["attempts"][-1]["detail"] == "opted out"


@pytest.mark.parametrize(
    ("fallback_to", "field", "says"),
    [
        ("pat@example.gov", "fallback_to", "must be an object"),
        ({"fax": "+12025550100"}, "fallback_to.fax", "is not a fallback address"),
        ({"email": "not an address"}, "fallback_to.email", "not a valid email address"),
    ],
)
def test_a_bad_fallback_to_is_refused_naming_the_field(
    gw: Gateway, fallback_to: object, field: str, says: str
) -> None:
    response = gw.client.post(
        "/api/v1/surveys",
        json={"flow": FLOW, "channel": "sms", "to": "+12025550123", "fallback_to": fallback_to},
        headers={"Authorization": f"Bearer {gw.api_key}"},
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["details"]["field"] == field and says in error["message"]
    assert survey_count(gw) == 0


def test_fallback_to_for_a_flow_without_an_email_fallback_is_refused(gw: Gateway) -> None:
    response = gw.client.post(
        "/api/v1/surveys",
        json={
            "flow": "reach-plain",
            "channel": "sms",
            "to": "+12025550123",
            "fallback_to": {"email": EMAIL},
        },
        headers={"Authorization": f"Bearer {gw.api_key}"},
    )
    assert response.status_code == 422
    assert "has no email fallback" in response.get_json()["error"]["message"]


def test_a_landline_named_for_sms_is_called_instead_and_answers_by_keypad(gw: Gateway) -> None:
    created = gw.trigger(to=LANDLINE, flow=FLOW)
    assert created["channel"] == "voice"
    assert texts_sent(gw) == []
    [sid] = placed_calls(gw)
    phone = phone_of(gw)
    call = phone.answer(phone.url(f"/twilio/voice?survey={created['id']}"), to=LANDLINE, sid=sid)
    call.press("4").press("1")
    survey = gw.survey(created["id"])
    assert survey["status"] == "completed"
    assert survey["answers"] == {"satisfied": 4, "returning": "yes"}
    [attempt] = survey["attempts"]
    assert (attempt["kind"], attempt["channel"], attempt["reason"], attempt["outcome"]) == (
        "fallback",
        "voice",
        "not_mobile",
        "sent",
    )


def test_a_landline_for_a_flow_without_a_call_fallback_is_still_refused(gw: Gateway) -> None:
    response = gw.client.post(
        "/api/v1/surveys",
        json={"flow": "reach-plain", "channel": "sms", "to": LANDLINE},
        headers={"Authorization": f"Bearer {gw.api_key}"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "to"


def test_error_30006_on_the_first_text_falls_back_to_a_call(gw: Gateway) -> None:
    survey_id = gw.trigger(flow=FLOW)["id"]
    [opening] = gw.outbound(survey_id)
    assert opening.provider_sid is not None
    assert gw.status_callback(opening.provider_sid, "undelivered", "30006").status_code == 204
    assert gw.status_callback(opening.provider_sid, "undelivered", "30006").status_code == 204

    survey = gw.survey(survey_id)
    assert survey["channel"] == "voice" and survey["status"] == "sent"
    [sid] = placed_calls(gw)  # once, however often the callback comes
    phone = phone_of(gw)
    call = phone.answer(phone.url(f"/twilio/voice?survey={survey_id}"), to="+12025550123", sid=sid)
    call.press("5").press("2")
    survey = gw.survey(survey_id)
    assert survey["status"] == "completed"
    assert survey["answers"] == {"satisfied": 5, "returning": "no"}
    assert survey_count(gw) == 1
    assert [(a["kind"], a["channel"], a["reason"], a["outcome"]) for a in survey["attempts"]] == [
        ("first", "sms", None, "failed"),
        ("fallback", "voice", "undeliverable", "sent"),
        ("reminder", "sms", None, "suppressed"),  # were due later, after the text
        ("reminder", "sms", None, "suppressed"),
    ]
    assert survey["attempts"][0]["detail"] == "error 30006: landline or unreachable carrier"
    assert survey["attempts"][0]["delivery"] == "undelivered"
    # No reminder texts follow a text that could not be delivered.
    sweep_at(gw, survey_id, timedelta(hours=4, minutes=1))
    assert len(texts_sent(gw)) == 1


def test_error_30006_without_a_call_fallback_fails_the_survey(gw: Gateway) -> None:
    survey_id = gw.trigger(flow="reach-plain")["id"]
    [opening] = gw.outbound(survey_id)
    assert opening.provider_sid is not None
    gw.status_callback(opening.provider_sid, "undelivered", "30006")
    assert gw.status_of(survey_id) == "failed"
    assert placed_calls(gw) == []


def test_a_batch_plans_fallbacks_like_a_single_trigger(gw: Gateway) -> None:
    response = gw.client.post(
        "/api/v1/surveys/batch",
        json={
            "surveys": [
                {"flow": FLOW, "channel": "sms", "to": LANDLINE},
                {
                    "flow": FLOW,
                    "channel": "sms",
                    "to": "+12025550123",
                    "fallback_to": {"email": EMAIL},
                },
            ]
        },
        headers={"Authorization": f"Bearer {gw.api_key}"},
    )
    assert response.status_code in (200, 202), response.get_data(as_text=True)
    assert response.get_json()["accepted"] == 2
    sweep(gw.app)  # starts the batch's surveys
    with db_of(gw.app).session() as session:
        import sqlalchemy as sa

        from gateway.store.models import Survey

        ids = {s.contact: s.id for s in session.scalars(sa.select(Survey))}
    called = gw.survey(ids[LANDLINE])
    assert called["channel"] == "voice"
    assert [(a["kind"], a["reason"]) for a in called["attempts"]] == [("fallback", "not_mobile")]
    texted = ids["+12025550123"]
    sweep_at(gw, texted, DAYS_2)
    [email] = emails_sent(gw)
    assert email.to == EMAIL
    # Both reminders and the fallback came due at once: only the fallback is made.
    details = [a["detail"] for a in gw.survey(texted)["attempts"] if a["kind"] == "reminder"]
    assert details == ["overtaken by the fallback", "overtaken by the fallback"]
    assert len(texts_sent(gw)) == 1  # the opening text only


def test_error_21614_when_the_text_is_sent_falls_back_to_a_call(database_url: str) -> None:
    import responses

    account = "AC" + "7" * 32
    api = f"https://api.twilio.com/2010-04-01/Accounts/{account}"
    gw = reach_gateway(
        database_url,
        twilio_account_sid=account,
        twilio_auth_token="auth-token",
        twilio_phone_number="+12025550100",
    )
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as twilio:
            texts = twilio.post(
                f"{api}/Messages.json",
                json={"code": 21614, "message": "not a mobile number", "status": 400},
                status=400,
            )
            calls = twilio.post(
                f"{api}/Calls.json", json={"sid": "CA" + "c" * 32, "status": "queued"}, status=201
            )
            survey_id = gw.trigger(flow=FLOW)["id"]
            assert (texts.call_count, calls.call_count) == (1, 1)
        survey = gw.survey(survey_id)
        assert (survey["channel"], survey["status"]) == ("voice", "sent")
        assert [(a["kind"], a["channel"], a["outcome"]) for a in survey["attempts"]][:2] == [
            ("first", "sms", "failed"),
            ("fallback", "voice", "sent"),
        ]
        assert (
            survey["attempts"][0]["detail"] == "error 21614: the 'To' number is not a mobile number"
        )
    finally:
        db_of(gw.app).dispose()
