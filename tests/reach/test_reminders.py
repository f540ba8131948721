"""Reminders, with the sweeper run at chosen moments: sent once to a respondent who has
not answered, in their language, and never after STOP, an answer, completion, expiry or
a newer survey."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.sending.sweeper import sweep
from gateway.services import queue
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.surveys import opt_outs
from tests.reach.contact_plan import (
    FLOW,
    REMINDER_EN,
    REMINDER_ES,
    attempt_rows,
    attempts_of,
    reach_gateway,
    sweep_at,
    texts_sent,
    when,
)
from tests.sms.support import Gateway

HOURS_4 = timedelta(hours=4, minutes=1)
DAY_1 = timedelta(days=1, minutes=1)


@pytest.fixture
def gw(database_url: str) -> Iterator[Gateway]:
    gateway = reach_gateway(database_url)
    yield gateway
    db_of(gateway.app).dispose()


def test_a_reminder_goes_once_to_a_respondent_who_has_not_answered(gw: Gateway) -> None:
    survey_id = gw.trigger(flow=FLOW)["id"]
    sweep_at(gw, survey_id, timedelta(hours=3, minutes=59))
    assert len(texts_sent(gw)) == 1  # not due yet

    sweep_at(gw, survey_id, HOURS_4)
    sweep_at(gw, survey_id, HOURS_4)  # a second sweep sends nothing more
    texts = texts_sent(gw)
    assert len(texts) == 2
    reminder = texts[1]
    assert reminder.startswith(REMINDER_EN + "\n\n")
    assert "I am satisfied with the service I received." in reminder
    assert attempts_of(gw, survey_id) == [
        ("first", 1, "sms", "sent"),
        ("reminder", 1, "sms", "sent"),
        ("reminder", 2, "sms", "scheduled"),
    ]
    # The reminder can be answered at once: the survey goes on to the next question.
    gw.text("5")
    assert gw.survey(survey_id)["answers"] == {"satisfied": 5}


def test_the_reminder_is_in_the_respondents_language_and_the_flow_may_word_it(
    gw: Gateway,
) -> None:
    survey_id = gw.trigger(flow=FLOW, language="es")["id"]
    sweep_at(gw, survey_id, HOURS_4)
    sweep_at(gw, survey_id, DAY_1)
    first, second = texts_sent(gw)[1:]
    assert first.startswith(REMINDER_ES + "\n\n")
    assert "Estoy satisfecho con el servicio que recibí." in first
    assert second.startswith("Último recordatorio del DMV: un minuto de su tiempo nos ayuda.")
    [due] = [a for a in gw.survey(survey_id)["attempts"] if a["number"] == 2]
    sent_at = when(gw.survey(survey_id)["sent_at"])
    assert when(due["due_at"]) == sent_at + timedelta(days=1)
    assert due["delivery"] == "simulated"


def test_stop_suppresses_every_reminder(gw: Gateway) -> None:
    survey_id = gw.trigger(flow=FLOW)["id"]
    gw.text("STOP")
    before = len(texts_sent(gw))
    sweep_at(gw, survey_id, HOURS_4)
    sweep_at(gw, survey_id, DAY_1)
    assert len(texts_sent(gw)) == before
    attempts = gw.survey(survey_id)["attempts"]
    assert [(a["kind"], a["outcome"], a["detail"]) for a in attempts[1:]] == [
        ("reminder", "suppressed", "opted out"),
        ("reminder", "suppressed", "opted out"),
    ]


def test_a_reminder_is_not_sent_after_stop_given_on_another_survey(gw: Gateway) -> None:
    """An opt-out recorded any way (here: carrier error 21610 on another survey) stops
    the reminder, because the opt-out list is asked when the reminder is due."""
    survey_id = gw.trigger(flow=FLOW)["id"]
    with db_of(gw.app).session() as session:
        opt_outs.opt_out(session, "+12025550123", keyword="error 21610", now=utcnow())
    sweep_at(gw, survey_id, HOURS_4)
    assert len(texts_sent(gw)) == 1
    assert attempt_rows(gw, survey_id)[1].detail == "opted out"


def test_completion_suppresses_the_reminders(gw: Gateway) -> None:
    survey_id = gw.trigger(flow=FLOW)["id"]
    gw.text("4")
    gw.text("yes")
    assert gw.status_of(survey_id) == "completed"
    sent = len(texts_sent(gw))
    sweep_at(gw, survey_id, HOURS_4)
    assert len(texts_sent(gw)) == sent
    assert [r.detail for r in attempt_rows(gw, survey_id)[1:]] == ["completed", "completed"]


def test_a_respondent_who_answered_part_of_the_survey_is_not_reminded(gw: Gateway) -> None:
    survey_id = gw.trigger(flow=FLOW)["id"]
    gw.text("4")
    sent = len(texts_sent(gw))
    sweep_at(gw, survey_id, HOURS_4)
    assert len(texts_sent(gw)) == sent
    assert attempt_rows(gw, survey_id)[1].detail == "answered"


def test_an_expired_or_superseded_survey_gets_no_reminder(gw: Gateway) -> None:
    old = gw.trigger(flow=FLOW)["id"]
    newer = gw.trigger(flow=FLOW)["id"]  # the same number: the older survey is superseded
    assert gw.status_of(old) == "cancelled"
    sweep_at(gw, old, timedelta(days=3, minutes=1))  # past the flow's 3-day expiry
    texts = texts_sent(gw)
    assert len(texts) == 2  # the two opening texts only
    assert [r.detail for r in attempt_rows(gw, old)[1:]] == [f"superseded by survey {newer}"] * 2
    assert gw.status_of(newer) == "expired"
    assert {r.detail for r in attempt_rows(gw, newer)[1:]} == {"expired"}


def test_a_reminder_due_at_night_waits_for_the_respondents_window(gw: Gateway) -> None:
    survey_id = gw.trigger(flow=FLOW)["id"]
    settings = gw.app.extensions["settings"]
    gw.app.extensions["settings"] = settings.with_overrides({"quiet_hours": True})
    new_york = ZoneInfo("America/New_York")  # +1 202: Washington, DC
    due = when(gw.survey(survey_id)["sent_at"]) + timedelta(hours=4)
    # The first moment after the reminder is due that falls outside the window (08:00 to
    # 21:00 there): within 13 hours, so always before the second reminder (a day after the
    # opening text) is due, whatever the time of day the test runs.
    night = due + timedelta(minutes=1)
    while 8 <= night.astimezone(new_york).hour < 21:
        night += timedelta(minutes=30)
    sweep(gw.app, now=night)
    assert len(texts_sent(gw)) == 1
    [row] = [r for r in attempt_rows(gw, survey_id) if r.kind == "reminder" and r.number == 1]
    assert row.outcome == "scheduled", row.detail
    assert row.due_at is not None and row.due_at > night
    assert row.due_at.astimezone(new_york).hour == 8  # the window's opening
    sweep(gw.app, now=row.due_at)
    texts = texts_sent(gw)
    # One reminder when the window opens (the second, if a holiday held the first past it).
    assert len(texts) == 2
    assert texts[1].startswith((REMINDER_EN, "Last reminder from the DMV"))


def test_a_survey_whose_flow_has_no_reminders_records_only_its_first_contact(
    gw: Gateway,
) -> None:
    survey_id = gw.trigger(flow="reach-plain")["id"]
    sweep_at(gw, survey_id, timedelta(hours=20))
    assert attempts_of(gw, survey_id) == [("first", 1, "sms", "sent")]
    assert len(texts_sent(gw)) == 1


def test_an_email_survey_is_reminded_by_email(gw: Gateway) -> None:
    from tests.reach.contact_plan import EMAIL, emails_sent

    survey_id = gw.trigger(flow=FLOW, channel="email", to=EMAIL)["id"]
    assert [e.subject for e in emails_sent(gw)] == ["Office visit feedback"]
    sweep_at(gw, survey_id, HOURS_4)
    sweep_at(gw, survey_id, HOURS_4)
    invitation, reminder = emails_sent(gw)
    assert reminder.to == EMAIL
    assert reminder.subject == "Reminder: Office visit feedback"
    assert "I am satisfied with the service I received." in reminder.text
    assert attempts_of(gw, survey_id)[:2] == [
        ("first", 1, "email", "sent"),
        ("reminder", 1, "email", "sent"),
    ]


def test_a_reminder_whose_send_could_not_be_queued_goes_out_on_a_later_sweep(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.exceptions import ConnectionError as RedisDown

    survey_id = gw.trigger(flow=FLOW)["id"]

    def redis_down(app: object, survey_id: str) -> None:
        raise RedisDown("Redis is down")

    with monkeypatch.context() as patched:
        patched.setattr(queue, "enqueue_send", redis_down)
        sweep_at(gw, survey_id, HOURS_4)  # recorded, not handed to a send job
    assert len(texts_sent(gw)) == 1
    sweep_at(gw, survey_id, HOURS_4 + timedelta(minutes=5))
    assert len(texts_sent(gw)) == 1  # not stranded yet: its job may still be coming
    sweep_at(gw, survey_id, HOURS_4 + timedelta(minutes=11))
    sweep_at(gw, survey_id, HOURS_4 + timedelta(minutes=12))
    texts = texts_sent(gw)
    assert len(texts) == 2 and texts[1].startswith(REMINDER_EN)  # sent, and only once
