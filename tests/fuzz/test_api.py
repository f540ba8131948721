"""The agency API fuzzed from its own OpenAPI description by schemathesis: requests that
break the description (negative data) on every operation, and sequences of calls that
follow the description's links (a survey created, then read back and listed; a webhook
subscribed, then listed and ended; pages followed by their cursor).

Every answer must conform to the description and none may be a 5xx; a refused request
writes no row; afterwards the worker leaves no job behind."""

from __future__ import annotations

import zlib
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import given, settings
from schemathesis import GenerationMode
from schemathesis.checks import ignored_auth, negative_data_rejection, positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from gateway.api.openapi import description
from gateway.store.db import db_of
from gateway.store.models import Base
from tests.fuzz.support import (
    FUZZ_EXAMPLES,
    HOOKS,
    Tally,
    assert_nothing_stuck,
    assert_nothing_written,
    fuzz_settings,
    row_counts,
)
from tests.sms.support import RESPONDENT, Gateway

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

OPERATIONS = [(path, method) for path, item in description()["paths"].items() for method in item]


def _schema(gateway: Gateway) -> OpenApiSchema:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", gateway.app)
    assert isinstance(schema, OpenApiSchema)
    return schema


def _authorized(case: Any, gateway: Gateway) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {gateway.api_key}"}


#: A batch refuses its rows one by one, listing them in ``rejected`` of a 202 answer, so a
#: batch of rows that break the description is accepted as a batch.
ROW_BY_ROW = "POST /surveys/batch"


def _checked(gateway: Gateway, tally: Tally, case: Any) -> Any:
    """Call ``case`` with the agency's key and check its answer; the response."""
    before = row_counts(gateway.app)
    response = case.call()
    tally.count(response.status_code)
    tally.note(f"{case.operation.label} {response.status_code}")
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_nothing_written(before, row_counts(gateway.app), f"{case.method} {case.path}")
    # A request the description allows may still be refused (a flow id must name one of
    # the agency's flows), so a 4xx to a valid request is not a failure; every request
    # carries the agency's own key whatever credentials were generated (keys have tests of
    # their own in tests/security), so an accepted key is not one "ignored".
    excluded = [positive_data_acceptance, ignored_auth]
    if case.operation.label == ROW_BY_ROW:
        excluded.append(negative_data_rejection)
        if response.status_code == 202:
            answer = response.json()
            assert (
                answer["accepted"] + len({r["row"] for r in answer["rejected"]}) == answer["rows"]
            )
    case.validate_response(response, excluded_checks=excluded)
    return response


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_requests_that_break_the_description(
    gateway: Gateway, tally: Tally, path: str, method: str
) -> None:
    operation = _schema(gateway)[path][method]

    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @fuzz_settings()
    def refused(case: Any) -> None:
        _authorized(case, gateway)
        _checked(gateway, tally, case)

    refused()
    assert_nothing_stuck(gateway.app)


#: What a sequence leaves in place: the agency, its key and its flows' versions.
KEPT = ("agencies", "api_keys", "flow_versions", "staff_members")


def _forget_sequence(gateway: Gateway) -> None:
    """Empty what a sequence wrote, so that every sequence starts from the same store (to
    shrink a failing sequence, Hypothesis runs it again and expects the same answers)."""
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEPT]
    with db_of(gateway.app).session() as session:
        session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))


def test_sequences_that_follow_the_links(gateway: Gateway, tally: Tally) -> None:
    machine = _schema(gateway).as_state_machine()

    class Sequences(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            _authorized(case, gateway)
            if not isinstance(case.body, dict):
                return
            if case.operation.label == "POST /webhooks" and isinstance(case.body.get("url"), str):
                # Under the trusted origin, so that the links after it are followed.
                case.body["url"] = f"{HOOKS}/{quote(case.body['url'], safe='')}"
            if (
                case.operation.label == "POST /surveys"
                and case.meta is not None
                and case.meta.generation.mode.is_positive
                and zlib.crc32(repr(case.body).encode()) % 2
            ):
                # Half the valid triggers name a real flow and number, so that surveys are
                # created and the links after them followed; the other fields stay generated.
                case.body.update(flow="clinic-visit", channel="sms", to=RESPONDENT)

        def call(self, case: Any, **kwargs: Any) -> Any:
            return _checked(gateway, tally, case)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            pass  # checked as it was called

        def teardown(self) -> None:
            assert_nothing_stuck(gateway.app)
            _forget_sequence(gateway)

    Sequences.run(
        settings=settings(fuzz_settings(max(FUZZ_EXAMPLES // 3, 5)), stateful_step_count=20)
    )
