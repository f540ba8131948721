"""Contacts erased a set number of days after their survey closes; answers, the fatigue
rule and opt-outs keep working."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway.app import create_app
from gateway.cli import main
from gateway.sending.sweeper import sweep
from gateway.store.db import db_of
from gateway.store.models import OptOut, Survey, utcnow
from gateway.store.sealing import contact_hash
from tests.email.conftest import SmtpServer, agency_for, email_settings
from tests.sms.support import Gateway, make_gateway

NUMBER = "+12025550142"
STRANGER = "+12025550199"


def complete_a_survey(gateway: Gateway) -> str:
    survey_id = gateway.trigger(to=NUMBER)["id"]
    gateway.text("4", from_=NUMBER)
    gateway.text("yes", from_=NUMBER)
    gateway.text("Short line", from_=NUMBER)
    assert gateway.survey(survey_id)["status"] == "completed"
    return survey_id


def raw(gateway: Gateway, sql: str, **params: object) -> list[tuple[object, ...]]:
    with db_of(gateway.app).engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql), params)]


def test_a_contact_stays_until_its_retention_is_over_then_is_erased(database_url: str) -> None:
    gateway = make_gateway(database_url)
    survey_id = complete_a_survey(gateway)
    gateway.text("hello?", from_=STRANGER)  # matches no survey

    assert sweep(gateway.app, utcnow() + timedelta(days=29)).erased == 0
    assert gateway.survey(survey_id)["to"] == NUMBER

    assert sweep(gateway.app, utcnow() + timedelta(days=31)).erased == 1
    survey = gateway.survey(survey_id)
    assert survey["to"] is None
    assert survey["status"] == "completed"
    assert survey["answers"] == {"satisfied": 4, "returning": "yes", "comment": "Short line"}
    assert [m["body"] for m in survey["messages"]][1] == "4"
    [(contact, hashed, erased_at)] = raw(
        gateway,
        "SELECT contact, contact_hash, contact_erased_at FROM surveys WHERE id = :id",
        id=survey_id,
    )
    assert contact is None and hashed is not None and erased_at is not None
    assert raw(
        gateway,
        "SELECT count(*) FROM messages WHERE from_addr IS NOT NULL OR to_addr IS NOT NULL",
    ) == [(0,)]


def test_an_open_survey_keeps_its_contact(database_url: str) -> None:
    gateway = make_gateway(database_url)
    survey_id = gateway.trigger(to=NUMBER)["id"]
    gateway.text("4", from_=NUMBER)
    gateway.app.extensions["settings"] = gateway.app.extensions["settings"].with_overrides(
        {"contact_retention_days": 1}
    )
    # Long enough ago to be due, had it closed (even with a closing time written on it by
    # mistake); but it is still waiting for replies.
    with db_of(gateway.app).engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE surveys SET expires_at = NULL, updated_at = :then, closed_at = :then"),
            {"then": utcnow() - timedelta(days=60)},
        )
    assert sweep(gateway.app).erased == 0
    assert gateway.survey(survey_id)["to"] == NUMBER


def test_the_fatigue_rule_and_opt_outs_still_know_an_erased_contact(database_url: str) -> None:
    gateway = make_gateway(database_url)
    complete_a_survey(gateway)
    gateway.text("STOP", from_=NUMBER)
    assert sweep(gateway.app, utcnow() + timedelta(days=31)).erased == 1
    assert raw(gateway, "SELECT count(*) FROM surveys WHERE contact IS NOT NULL") == [(0,)]

    again = gateway.trigger(to=NUMBER, flow="clinic-visit")
    assert again["status"] == "opted_out"
    gateway.text("START", from_=NUMBER)
    assert not gateway.opted_out(NUMBER)
    # application-review keeps the default 30-day fatigue window, and the erased survey
    # (created today) is inside it.
    fatigued = gateway.trigger(to=NUMBER, flow="application-review")
    assert fatigued["status"] == "cancelled"
    assert "fatigue" in (gateway.survey(fatigued["id"])["failure_reason"] or "")


def test_zero_days_keeps_contacts(database_url: str) -> None:
    gateway = make_gateway(database_url, contact_retention_days=0)
    survey_id = complete_a_survey(gateway)
    assert sweep(gateway.app, utcnow() + timedelta(days=3650)).erased == 0
    assert gateway.survey(survey_id)["to"] == NUMBER


@pytest.fixture
def cli_env(database_url: str) -> dict[str, str]:
    # The CLI derives the same keys as the app: from the same SECRET_KEY.
    return {"DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key"}


def test_the_erase_command_counts_with_dry_run_then_erases(
    database_url: str, cli_env: dict[str, str]
) -> None:
    gateway = make_gateway(database_url)
    survey_id = complete_a_survey(gateway)
    gateway.text("hello?", from_=STRANGER)
    with db_of(gateway.app).engine.begin() as conn:
        then = {"then": utcnow() - timedelta(days=40)}
        conn.execute(sa.text("UPDATE surveys SET closed_at = :then"), then)
        conn.execute(sa.text("UPDATE messages SET created_at = :then"), then)
    runner = CliRunner()
    # 7 texts of the survey, and the stranger's text with the reply it got.

    dry = runner.invoke(main, ["privacy", "erase", "--dry-run"], env=cli_env)
    assert dry.exit_code == 0, dry.output
    assert "would erase the contacts of 1 survey(s) and the addresses of 9 message(s)" in dry.output
    assert gateway.survey(survey_id)["to"] == NUMBER

    done = runner.invoke(main, ["privacy", "erase"], env=cli_env)
    assert done.exit_code == 0, done.output
    assert "erased the contacts of 1 survey(s) and the addresses of 9 message(s)" in done.output
    assert gateway.survey(survey_id)["to"] is None
    again = runner.invoke(main, ["privacy", "erase"], env=cli_env)
    assert "erased the contacts of 0 survey(s)" in again.output


def test_the_erase_command_refuses_a_bad_number_of_days(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["privacy", "erase", "--days", "0"], env=cli_env)
    assert result.exit_code == 2
    assert "--days" in result.output


def test_an_unsubscribe_link_still_works_after_the_address_is_erased(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    app = create_app(email_settings(tmp_path, smtp_server.url), {"TESTING": True})
    agency = agency_for(app)
    first = agency.trigger(to="kim@example.gov")
    with db_of(app).engine.begin() as conn:  # it closed: nobody answered in time
        conn.execute(sa.text("UPDATE surveys SET status = 'expired'"))
    assert sweep(app, utcnow() + timedelta(days=31)).erased == 1
    plain = smtp_server.recorder.messages[0].get_body(preferencelist=("plain",))
    assert plain is not None
    link = re.search(r"https://gateway\.example\.gov(/u/[^\s>]+)", plain.get_content())
    assert link is not None

    done = agency.client.post(link.group(1), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    with db_of(app).session() as session:
        assert session.scalars(sa.select(OptOut.contact_hash)).all() == [
            contact_hash("kim@example.gov")
        ]
    again = agency.trigger(to="Kim@example.gov")
    assert again["status"] == "opted_out" and again["id"] != first["id"]


def closing_times(gateway: Gateway, survey_id: str) -> tuple[Any, Any]:
    [(closed_at, completed_at)] = raw(
        gateway, "SELECT closed_at, completed_at FROM surveys WHERE id = :id", id=survey_id
    )
    return closed_at, completed_at


def test_the_closing_is_recorded_once_and_a_later_change_does_not_delay_the_erasure(
    database_url: str,
) -> None:
    gateway = make_gateway(database_url)
    survey_id = gateway.trigger(to=NUMBER)["id"]
    gateway.text("4", from_=NUMBER)
    assert closing_times(gateway, survey_id)[0] is None  # still open
    gateway.text("yes", from_=NUMBER)
    gateway.text("Short line", from_=NUMBER)
    closed_at, completed_at = closing_times(gateway, survey_id)
    assert closed_at is not None
    assert abs(as_utc(closed_at) - as_utc(completed_at)) < timedelta(seconds=5)

    gateway.text("thanks!", from_=NUMBER)  # a late text, after the end: stored, not an answer
    # The survey row changes after it closed (the late text, a delivery status, ...):
    later = utcnow() + timedelta(days=20)
    with db_of(gateway.app).engine.begin() as conn:
        conn.execute(sa.text("UPDATE surveys SET updated_at = :later"), {"later": later})
    assert closing_times(gateway, survey_id)[0] == closed_at

    # Erased 30 days after it closed, not 30 days after its last change.
    assert sweep(gateway.app, utcnow() + timedelta(days=31)).erased == 1
    assert gateway.survey(survey_id)["to"] is None


def test_a_trigger_refused_for_an_opted_out_number_is_closed_at_once(database_url: str) -> None:
    gateway = make_gateway(database_url)
    gateway.text("STOP", from_=NUMBER)
    survey = gateway.trigger(to=NUMBER)
    assert survey["status"] == "opted_out"
    assert closing_times(gateway, survey["id"])[0] is not None
    assert sweep(gateway.app, utcnow() + timedelta(days=31)).erased == 1


def as_utc(moment: Any) -> datetime:
    """A timestamp as read back (SQLite's carry no zone; both are UTC)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_survey_closed_without_a_closing_time_is_still_erased(
    database_url: str, cli_env: dict[str, str]
) -> None:
    # As the release before closed_at leaves a survey it closes during a rolling deploy.
    gateway = make_gateway(database_url)
    survey_id = complete_a_survey(gateway)
    then = utcnow() - timedelta(days=40)
    with db_of(gateway.app).engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE surveys SET closed_at = NULL, updated_at = :then"), {"then": then}
        )
    dry = CliRunner().invoke(main, ["privacy", "erase", "--dry-run"], env=cli_env)
    assert "would erase the contacts of 1 survey(s)" in dry.output, dry.output
    assert closing_times(gateway, survey_id)[0] is None  # a dry run changes nothing

    assert sweep(gateway.app).erased == 1
    assert gateway.survey(survey_id)["to"] is None
    assert abs(as_utc(closing_times(gateway, survey_id)[0]) - then) < timedelta(seconds=1)


def test_the_closing_time_follows_the_status() -> None:
    survey = Survey(status="queued")
    assert survey.closed_at is None
    survey.status = "completed"
    closed_at = survey.closed_at
    assert closed_at is not None
    survey.status = "expired"  # already closed: the first closing stands
    assert survey.closed_at == closed_at
    survey.status = "started"  # never done; if it were, the survey would not count as closed
    assert survey.closed_at is None
