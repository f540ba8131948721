"""What was read of each free-text answer travels with the exports: the responses CSV
and the Flow Results rows carry its themes, sentiment and crisis flag, beside the
masked text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
import responses

from gateway.alerts import delivery as alert_delivery
from gateway.store.comment_models import CommentReading
from gateway.store.db import db_of
from gateway.surveys.comment_readings import correct_themes
from tests.comments.support import COMMENT, CRISIS_HOOK, FLOWS, SSN, api, converse
from tests.sms.support import Gateway, make_gateway

MASKED = "Waited 3 hours and the clerk was rude. My SSN is [SSN], call me at [PHONE]"
CRISIS = "I want to kill myself, nobody helps"


@pytest.fixture
def gw(database_url: str) -> Iterator[Gateway]:
    gateway = make_gateway(
        database_url, flows_dir=FLOWS, outbound_allowlist=(CRISIS_HOOK.rsplit("/", 1)[0],)
    )
    yield gateway
    alert_delivery.wait_for_background(gateway.app)


def csv_export(gw: Gateway) -> tuple[list[str], dict[str, dict[str, str]]]:
    text = api(gw, "/api/v1/responses?flow=comment-visit&format=csv")
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, {row[0]: dict(zip(header, row, strict=True)) for row in rows}


@responses.activate
def test_the_csv_appends_each_comments_themes_sentiment_and_crisis_flag(gw: Gateway) -> None:
    responses.add(responses.POST, CRISIS_HOOK, status=204)
    plain, _ = converse(gw, ["2", COMMENT])
    crisis, _ = converse(gw, ["1", CRISIS])
    silent, _ = converse(gw, ["5"])

    header, rows = csv_export(gw)
    assert header == [
        "id", "flow_version", "channel", "language", "status", "created_at", "completed_at",
        "context.office", "satisfied", "comment",
        "comment.themes", "comment.sentiment", "comment.crisis",
    ]  # fmt: skip
    assert rows[plain]["comment"] == MASKED
    assert rows[plain]["comment.themes"] == "wait_time;staff_courtesy"
    assert rows[plain]["comment.sentiment"] == "negative"
    assert rows[plain]["comment.crisis"] == "no"
    assert rows[crisis]["comment.crisis"] == "yes"
    assert rows[crisis]["comment.sentiment"] == "negative"
    assert [rows[silent][f"comment.{c}"] for c in ("themes", "sentiment", "crisis")] == [
        "",
        "",
        "",
    ]
    assert SSN not in json.dumps(rows)


def test_the_csv_and_floip_carry_staffs_correction_and_the_reader_again_once_cleared(
    gw: Gateway,
) -> None:
    survey_id, _ = converse(gw, ["2", COMMENT])
    known = ["wait_time", "staff_courtesy", "fees"]

    def correct(themes: list[str]) -> None:
        with db_of(gw.app).session() as session:
            (reading,) = session.query(CommentReading).filter_by(survey_id=survey_id)
            correct_themes(
                reading, themes, known, actor="a@dmv.example.gov", now=reading.created_at
            )

    correct(["fees"])
    assert csv_export(gw)[1][survey_id]["comment.themes"] == "fees"
    assert floip_comment(gw)["themes"] == ["fees"]
    correct(["wait_time", "staff_courtesy"])  # the reader's own themes clear the correction
    assert csv_export(gw)[1][survey_id]["comment.themes"] == "wait_time;staff_courtesy"
    assert floip_comment(gw)["themes"] == ["wait_time", "staff_courtesy"]


def floip_comment(gw: Gateway) -> dict[str, object]:
    rows = json.loads(api(gw, "/api/v1/responses?flow=comment-visit&format=floip-data"))
    (metadata,) = [row[5] for row in rows if row[3] == "comment"]
    assert isinstance(metadata, dict)
    return metadata


@responses.activate
def test_floip_rows_of_a_comment_carry_its_reading_and_other_rows_do_not(gw: Gateway) -> None:
    responses.add(responses.POST, CRISIS_HOOK, status=204)
    survey_id, _ = converse(gw, ["1", CRISIS + ". SSN " + SSN])
    rows = json.loads(api(gw, "/api/v1/responses?flow=comment-visit&format=floip-data"))
    by_question = {row[3]: row for row in rows}
    comment = by_question["comment"]
    assert comment[4] == "I want to kill myself, nobody helps. SSN [SSN]"
    assert comment[5] == {
        "session_id": survey_id,
        "channel": "sms",
        "language": "en",
        "flow_version": 1,
        "themes": [],
        "sentiment": "negative",
        "crisis": True,
    }
    assert set(by_question["satisfied"][5]) == {"session_id", "channel", "language", "flow_version"}
