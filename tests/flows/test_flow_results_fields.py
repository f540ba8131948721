"""The ``a11:`` reporting block and the ``alerts:`` service-recovery rules of a flow file."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from gateway.flows.loader import load_flow_text

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "gateway" / "flows" / "flow.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))

HEAD = """\
id: example
version: 1
title: Example
agency: demo
questions:
  - id: trust
    type: yesno
    a11: trust
    prompt: Do you trust us?
  - id: comment
    type: text
    optional: true
    prompt: Anything else?
"""


def messages(text: str) -> list[str]:
    return [str(e) for e in load_flow_text(text, "f.yaml").errors]


def test_an_a11_block_gives_the_service_and_transaction_point() -> None:
    text = HEAD + "a11:\n  service: Passport renewal\n  transaction_point: relational\n"
    flow = load_flow_text(text, "f.yaml").flow
    assert flow is not None and flow.a11 is not None
    assert (flow.a11.service, flow.a11.transaction_point) == ("Passport renewal", "relational")


def test_the_transaction_point_defaults_to_post_interaction() -> None:
    flow = load_flow_text(HEAD + "a11:\n  service: Passports\n", "f.yaml").flow
    assert flow is not None and flow.a11 is not None
    assert flow.a11.transaction_point == "post-interaction"


def test_a_flow_without_the_new_fields_has_no_a11_block_and_no_alerts() -> None:
    flow = load_flow_text(HEAD, "f.yaml").flow
    assert flow is not None and flow.a11 is None and flow.alerts == ()


def test_an_unknown_transaction_point_is_refused_at_its_place() -> None:
    text = HEAD + "a11:\n  service: Passports\n  transaction_point: lobby\n"
    assert messages(text) == [
        "f.yaml:16:22: a11: transaction_point 'lobby' is not one of post-interaction, "
        "post-service-journey, relational"
    ]


def test_an_a11_block_without_a_service_is_refused() -> None:
    assert messages(HEAD + "a11:\n  transaction_point: relational\n") == [
        "f.yaml:15:3: a11: missing required field 'service'"
    ]


def test_an_alert_rule_loads_with_its_condition() -> None:
    text = HEAD + (
        "alerts:\n"
        "  - name: distrust\n"
        '    when: trust == "no"\n'
        "    webhook: https://hooks.example.gov/recovery\n"
        "    email: office@example.gov\n"
    )
    flow = load_flow_text(text, "f.yaml").flow
    assert flow is not None
    (rule,) = flow.alerts
    assert (rule.name, rule.webhook, rule.email) == (
        "distrust",
        "https://hooks.example.gov/recovery",
        "office@example.gov",
    )
    assert rule.when.evaluate({"trust": "no"}) and not rule.when.evaluate({"trust": "yes"})


def test_an_alert_may_name_the_last_question() -> None:
    text = HEAD + "alerts:\n  - name: said_something\n    when: comment != null\n"
    text += "    email: office@example.gov\n"
    assert messages(text) == []


def test_an_alert_naming_an_unknown_question_is_refused() -> None:
    text = HEAD + "alerts:\n  - name: low\n    when: rating <= 2\n    email: a@example.gov\n"
    assert messages(text) == [
        "f.yaml:16:11: alert 'low': when names 'rating', which is not a question of this flow"
    ]


def test_an_alert_comparing_a_yesno_with_a_number_is_refused() -> None:
    text = HEAD + "alerts:\n  - name: low\n    when: trust <= 2\n    email: a@example.gov\n"
    errors = messages(text)
    assert len(errors) == 1 and errors[0].startswith("f.yaml:16:11: alert 'low': when: ")


def test_an_alert_without_a_destination_is_refused() -> None:
    text = HEAD + 'alerts:\n  - name: low\n    when: trust == "no"\n'
    assert messages(text) == [
        "f.yaml:15:5: alert 'low': give a webhook URL, an email address, a case, or several of them"
    ]


def test_an_alert_webhook_over_plain_http_is_refused() -> None:
    text = HEAD + 'alerts:\n  - name: low\n    when: trust == "no"\n'
    text += "    webhook: http://hooks.example.gov/x\n"
    assert messages(text) == [
        "f.yaml:17:14: alert 'low': webhook 'http://hooks.example.gov/x' must be an https:// "
        "URL (http:// only for localhost)"
    ]


def test_an_alert_email_that_is_not_an_address_is_refused() -> None:
    text = HEAD + 'alerts:\n  - name: low\n    when: trust == "no"\n    email: nobody\n'
    errors = messages(text)
    assert len(errors) == 1
    assert errors[0].startswith("f.yaml:17:12: alert 'low': email 'nobody' is not an email")


def test_two_alerts_with_one_name_are_refused() -> None:
    rule = '  - name: low\n    when: trust == "no"\n    email: a@example.gov\n'
    assert messages(HEAD + "alerts:\n" + rule + rule) == [
        "f.yaml:18:5: alert 'low': the name is used twice; give each its own"
    ]


def test_the_json_schema_accepts_the_a11_block_and_alerts() -> None:
    text = HEAD + (
        "a11:\n  service: Passports\n  transaction_point: relational\n"
        'alerts:\n  - name: distrust\n    when: trust == "no"\n'
        "    webhook: https://hooks.example.gov/x\n"
    )
    assert load_flow_text(text, "f.yaml").flow is not None
    VALIDATOR.validate(yaml.safe_load(text))


@pytest.mark.parametrize(
    "extra",
    [
        "a11:\n  service: Passports\n  transaction_point: lobby\n",
        'alerts:\n  - name: distrust\n    when: trust == "no"\n',
        'alerts:\n  - name: distrust\n    when: trust == "no"\n    webhook: http://x.gov/a\n',
    ],
)
def test_the_json_schema_refuses_what_the_loader_refuses(extra: str) -> None:
    assert load_flow_text(HEAD + extra, "f.yaml").errors
    assert list(VALIDATOR.iter_errors(yaml.safe_load(HEAD + extra)))
