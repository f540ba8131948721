"""A delivery committed but never queued (the process died between the commit and the
enqueue, or the queue lost the job) is found by the sweeper and delivered exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from gateway import jobs
from gateway.alerts import delivery as alert_delivery
from gateway.alerts.rules import DISPATCH_KEY
from gateway.sending import sweeper
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.store.results_models import Delivery
from tests.alerts.test_alerts import SUBSCRIBER, complete, subscribe
from tests.support.results import AddSurvey


class Clock:
    """The deliveries' clock, moved forward by the test (it starts at the real time)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utcnow()
        monkeypatch.setattr(alert_delivery, "utcnow", lambda: self.now)

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def lose_the_enqueue(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Commit deliveries as usual, but drop their jobs on the floor."""
    lost: list[list[int]] = []
    monkeypatch.setitem(app.extensions, DISPATCH_KEY, lambda ids: lost.append(list(ids)))
    return lost


def delivery(app: Flask) -> Delivery:
    with db_of(app).session() as session:
        row = session.scalars(sa.select(Delivery)).one()
        session.expunge(row)
        return row


def sweep(app: Flask, clock: Clock, after: timedelta) -> sweeper.SweepResult:
    """Let ``after`` pass, then sweep (and wait for the deliveries it queued)."""
    clock.advance(after)
    outcome = sweeper.sweep(app, clock.now)
    alert_delivery.wait_for_background(app)
    return outcome


@responses.activate
def test_a_delivery_whose_job_was_lost_is_swept_and_delivered_once(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
) -> None:
    responses.post(SUBSCRIBER, status=204)
    lost = lose_the_enqueue(app, monkeypatch)
    subscribe(client, dmv_key)
    complete(app, add_survey, {"trust": "yes"})
    assert len(lost) == 1 and delivery(app).status == "pending"

    # Within the grace period the job may still be on its way: nothing is requeued.
    assert sweep(app, clock, timedelta(seconds=30)).redelivered == []
    assert len(responses.calls) == 0

    swept = sweep(app, clock, alert_delivery.STALE_PENDING)
    assert swept.redelivered == lost[0]
    assert len(responses.calls) == 1
    found = delivery(app)
    assert (found.status, found.attempts) == ("delivered", 1)

    # Later sweeps, and the lost job turning up after all, send nothing more.
    assert sweep(app, clock, timedelta(hours=1)).redelivered == []
    with app.app_context():
        assert jobs.deliver_job(str(found.id)) is None
    assert len(responses.calls) == 1


@responses.activate
def test_two_jobs_for_one_delivery_send_it_once(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweeper's job and a late original both run: the claim lets one of them send."""
    second: list[bool] = []

    def receiver(request: object) -> tuple[int, dict[str, str], str]:
        if not second:  # while the first try is in flight, a duplicate job runs
            second.append(True)
            with app.app_context():
                assert jobs.deliver_job(str(delivery_id)) is None
        return 204, {}, ""

    responses.add_callback(responses.POST, SUBSCRIBER, callback=receiver)
    lose_the_enqueue(app, monkeypatch)
    subscribe(client, dmv_key)
    complete(app, add_survey, {"trust": "yes"})
    delivery_id = delivery(app).id
    with app.app_context():
        assert jobs.deliver_job(str(delivery_id)) is None
    assert second == [True]
    assert len(responses.calls) == 1
    assert delivery(app).attempts == 1


@responses.activate
def test_a_delivery_waiting_for_its_retry_is_left_to_it_until_overdue(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
) -> None:
    responses.post(SUBSCRIBER, status=503)
    lose_the_enqueue(app, monkeypatch)
    subscribe(client, dmv_key)
    complete(app, add_survey, {"trust": "yes"})
    with app.app_context():
        retry = jobs.deliver_job(str(delivery(app).id))
    assert retry is not None  # rq would run it again in ten seconds
    # The retry's own time has not come: neither the sweeper nor an early run sends it.
    assert sweep(app, clock, timedelta(seconds=2)).redelivered == []
    with app.app_context():
        assert jobs.deliver_job(str(delivery(app).id)) is None
    assert len(responses.calls) == 1
    # The retry was lost too: once overdue, the sweeper sends it.
    responses.replace(responses.POST, SUBSCRIBER, status=200)
    overdue = alert_delivery.STALE_PENDING + timedelta(seconds=10)
    assert len(sweep(app, clock, overdue).redelivered) == 1
    found = delivery(app)
    assert (found.status, found.attempts, len(responses.calls)) == ("delivered", 2, 2)
