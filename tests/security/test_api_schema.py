"""The agency API against its own OpenAPI description: schemathesis generates requests for
every operation (with a valid key) and checks that none gets a 5xx and every answer
conforms to the description."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import positive_data_acceptance

from gateway.api.openapi import description
from tests.conftest import bearer


def test_the_description_is_served_without_a_key(client: FlaskClient) -> None:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.get_json()["openapi"] == "3.1.0"


def test_the_description_names_every_api_route(app: Flask) -> None:
    described = {
        (path, method.upper()) for path, item in description()["paths"].items() for method in item
    }
    routed = {
        (rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routed == described


OPERATIONS = [(path, method) for path, item in description()["paths"].items() for method in item]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_operation_answers_as_described(
    app: Flask, dmv_key: str, dmv_records: Any, path: str, method: str
) -> None:
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]

    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def answers_as_described(case: Any) -> None:
        case.headers = {**(case.headers or {}), **bearer(dmv_key)}
        response = case.call()
        # Schema-valid is not the same as acceptable (a flow id must name one of the
        # agency's flows), so a 4xx to a schema-valid request is not counted as a failure.
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    answers_as_described()
