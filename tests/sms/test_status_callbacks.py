"""Delivery status callbacks: forward-only statuses, opt-outs and failed first texts."""

from __future__ import annotations

from gateway.store.db import db_of
from gateway.store.models import Message
from gateway.store.status_models import EarlyStatus
from tests.sms.support import Gateway


def _opening_sid(gateway: Gateway, survey_id: str) -> str:
    (opening,) = gateway.outbound(survey_id)
    assert opening.provider_sid is not None
    return opening.provider_sid


def test_a_status_callback_updates_the_message_status(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    sid = _opening_sid(gateway, survey_id)
    assert gateway.status_callback(sid, "delivered").status_code == 204
    assert gateway.outbound(survey_id)[0].status == "delivered"


def test_a_late_sent_callback_never_moves_delivered_back(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    sid = _opening_sid(gateway, survey_id)
    gateway.status_callback(sid, "delivered")
    gateway.status_callback(sid, "sent")
    gateway.status_callback(sid, "delivered")
    assert gateway.outbound(survey_id)[0].status == "delivered"


def test_a_callback_with_a_bad_signature_changes_nothing(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    sid = _opening_sid(gateway, survey_id)
    params = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30006"}
    assert gateway.post_signed("/twilio/sms/status", params, token="wrong").status_code == 403
    assert gateway.status_of(survey_id) == "sent"


def test_error_21610_records_an_opt_out_and_closes_open_surveys(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    gateway.status_callback(_opening_sid(gateway, survey_id), "undelivered", "21610")
    assert gateway.opted_out()
    assert gateway.status_of(survey_id) == "opted_out"
    assert gateway.trigger()["status"] == "opted_out"


def test_a_permanent_failure_of_the_first_text_fails_the_survey(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    gateway.status_callback(_opening_sid(gateway, survey_id), "undelivered", "30006")
    survey = gateway.survey(survey_id)
    assert survey["status"] == "failed"
    assert survey["failure_reason"] == "error 30006: landline or unreachable carrier"


def test_a_retryable_failure_of_the_first_text_sends_it_again(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    first_sid = _opening_sid(gateway, survey_id)
    gateway.status_callback(first_sid, "undelivered", "30003")
    (opening,) = gateway.outbound(survey_id)
    assert opening.status == "simulated" and opening.attempts == 2
    assert opening.provider_sid != first_sid
    assert gateway.status_of(survey_id) == "sent"


def test_a_failure_after_the_respondent_replied_leaves_the_survey_open(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    gateway.text("4")
    with db_of(gateway.app).session() as session:
        reply = session.get(Message, gateway.outbound(survey_id)[-1].id)
        assert reply is not None
        reply.provider_sid = "SM" + "f" * 32
    gateway.status_callback("SM" + "f" * 32, "failed", "30006")
    assert gateway.status_of(survey_id) == "started"


def test_a_callback_for_an_unknown_message_is_accepted_and_ignored(gateway: Gateway) -> None:
    assert gateway.status_callback("SM" + "0" * 32, "delivered").status_code == 204


def test_a_callback_with_a_sid_or_error_code_longer_than_any_is_refused(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    sid = _opening_sid(gateway, survey_id)
    status = gateway.outbound(survey_id)[0].status
    too_long_sid = gateway.status_callback("SM" + "0" * 63, "delivered")
    assert (too_long_sid.status_code, too_long_sid.get_data(as_text=True)) == (
        400,
        "MessageSid is longer than 64 characters\n",
    )
    too_long_code = gateway.status_callback(sid, "failed", error_code="3" * 33)
    assert too_long_code.status_code == 400
    assert gateway.outbound(survey_id)[0].status == status
    assert gateway.status_of(survey_id) == "sent"
    assert gateway.rows(EarlyStatus) == []


def test_a_callback_whose_status_is_no_message_status_is_ignored(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    sid = _opening_sid(gateway, survey_id)
    status = gateway.outbound(survey_id)[0].status
    assert gateway.status_callback(sid, "delivered-and-read-twice").status_code == 204
    assert gateway.status_callback("SM" + "0" * 32, "x" * 40).status_code == 204
    assert gateway.outbound(survey_id)[0].status == status
    assert gateway.rows(EarlyStatus) == []
