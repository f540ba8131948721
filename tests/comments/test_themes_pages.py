"""Themes on the dashboard (over time, by office, drill-down), staff corrections kept and
counted, and the comments API that carries them."""

from __future__ import annotations

import csv
import io
import json
import re

from flask.testing import FlaskClient

from gateway.agencies.keys import ensure_agency
from gateway.dashboard.auth import create_staff
from gateway.store.comment_models import CommentReading
from gateway.store.db import db_of
from tests.comments.support import COMMENT, PASSWORD, api, converse
from tests.sms.support import Gateway


def staff(gw: Gateway, slug: str = "dmv") -> FlaskClient:
    email = f"analyst@{slug}.example.gov"
    with db_of(gw.app).session() as session:
        create_staff(session, ensure_agency(session, slug), email, PASSWORD)
    client = gw.app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/dashboard/login").text)
    assert token is not None
    login = {"email": email, "password": PASSWORD, "csrf_token": token[1]}
    assert client.post("/dashboard/login", data=login).status_code == 302
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found[1]


def test_themes_are_shown_over_time_and_by_office_with_their_comments(gw: Gateway) -> None:
    converse(gw, ["2", COMMENT])
    converse(gw, ["5", "The website was easy and the staff were kind"])
    client = staff(gw)
    page = client.get("/dashboard/flows/comment-visit/themes").text
    assert "2 comments; 0 with themes corrected" in page
    assert "Wait time" in page and "Website" in page and "Main" in page
    assert '<title id="themes-title">Comments by theme</title>' in page
    assert "Bar chart of comments by theme. Staff courtesy: 2; Wait time: 1; Website: 1." in page
    drill = client.get("/dashboard/flows/comment-visit/themes/comments?theme=wait_time").text
    assert "My SSN is [SSN]" in drill and "The website was easy" not in drill


def test_a_staff_correction_is_kept_counted_and_exported(gw: Gateway) -> None:
    survey_id, _ = converse(gw, ["2", COMMENT])
    client = staff(gw)
    drill = client.get("/dashboard/flows/comment-visit/themes/comments").text
    (reading,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    form = {"csrf_token": csrf_of(drill), "theme": ["wait_time", "fees"]}
    answer = client.post(f"/dashboard/comments/{reading.id}/themes", data=form)
    assert answer.status_code == 303

    (reading,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    assert reading.themes == ["wait_time", "staff_courtesy"]  # the reader's, kept
    assert reading.current_themes == ["wait_time", "fees"]
    assert reading.corrected_by == "staff:analyst@dmv.example.gov"
    page = client.get("/dashboard/flows/comment-visit/themes").text
    assert "1 with themes corrected by staff (1 themes added, 1 removed)" in page

    listed = json.loads(api(gw, "/api/v1/comments?flow=comment-visit&theme=fees"))
    (item,) = listed["data"]
    assert item["themes"] == ["wait_time", "fees"] and item["corrected"] is True
    assert item["reader_themes"] == ["wait_time", "staff_courtesy"]
    assert item["comment"].endswith("My SSN is [SSN], call me at [PHONE]")
    rows = list(
        csv.DictReader(io.StringIO(api(gw, "/api/v1/comments?flow=comment-visit&format=csv")))
    )
    assert rows[0]["themes"] == "wait_time;fees" and rows[0]["sentiment"] == "negative"
    survey = json.loads(api(gw, f"/api/v1/surveys/{survey_id}"))
    assert survey["comments"]["comment"]["themes"] == ["wait_time", "fees"]


def test_a_correction_with_an_unknown_theme_changes_nothing(gw: Gateway) -> None:
    survey_id, _ = converse(gw, ["2", COMMENT])
    client = staff(gw)
    drill = client.get("/dashboard/flows/comment-visit/themes/comments").text
    (reading,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    form = {"csrf_token": csrf_of(drill), "theme": ["parking_lot"]}
    answer = client.post(f"/dashboard/comments/{reading.id}/themes", data=form)
    assert answer.status_code == 400 and "parking_lot" in answer.text
    (after,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    assert after.corrected_themes is None


def test_another_agencys_staff_cannot_see_or_correct_the_comment(gw: Gateway) -> None:
    survey_id, _ = converse(gw, ["2", COMMENT])
    (reading,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    other = staff(gw, "irs")
    assert other.get("/dashboard/flows/comment-visit/themes").status_code == 404
    token = csrf_of(other.get("/dashboard/").text)
    answer = other.post(f"/dashboard/comments/{reading.id}/themes", data={"csrf_token": token})
    assert answer.status_code == 404
    (after,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    assert after.corrected_themes is None


def test_a_limit_that_is_no_number_is_refused_in_either_format(gw: Gateway) -> None:
    for query in ("limit=null", "format=csv&limit=null", "format=csv&limit=0"):
        answer = gw.client.get(
            f"/api/v1/comments?flow=comment-visit&{query}",
            headers={"Authorization": f"Bearer {gw.api_key}"},
        )
        assert answer.status_code == 400, query
        assert answer.get_json()["error"]["details"]["field"] == "limit"
