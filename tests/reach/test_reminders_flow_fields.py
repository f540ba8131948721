"""The flow fields ``reminders`` and ``fallback``: read into the flow, and every mistake
reported at its line and column."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.flows.loader import load_flow_text
from gateway.flows.model import Fallback, Reminder

HEAD = """id: plan
version: 1
title: Plan
agency: dmv
channels: [sms, voice, email]
expires_after: 3d
questions:
  - id: q
    type: rating
    prompt: How was it?
"""


def load(extra: str) -> list[str]:
    result = load_flow_text(HEAD + extra, "plan.yaml")
    return [f"{e.line}:{e.col} {e.message}" for e in result.errors]


def test_reminders_and_fallbacks_are_read() -> None:
    result = load_flow_text(
        HEAD
        + """reminders:
  - after: 4h
  - after: 1d2h
    text: One more time, please.
fallback:
  - channel: email
    after: 2d
  - channel: voice
    reason: undeliverable
""",
        "plan.yaml",
    )
    assert result.errors == []
    assert result.flow is not None
    assert result.flow.reminders == (
        Reminder(timedelta(hours=4)),
        Reminder(timedelta(days=1, hours=2), {"en": "One more time, please."}),
    )
    assert result.flow.fallback == (
        Fallback("email", "no_answer", timedelta(days=2)),
        Fallback("voice", "undeliverable", None),
    )


def test_a_flow_without_them_has_none() -> None:
    result = load_flow_text(HEAD, "plan.yaml")
    assert result.flow is not None
    assert (result.flow.reminders, result.flow.fallback) == ((), ())


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (
            "reminders:\n  - after: soon\n",
            "12:12 reminders: reminder 1: after 'soon' is not a delay such as 30m, 4h, 1d or 1d12h",
        ),
        (
            "reminders:\n  - after: 10m\n",
            "12:12 reminders: reminder 1: after '10m' is too short; the shortest delay is 30m",
        ),
        (
            "reminders:\n  - after: 1d\n  - after: 4h\n",
            "13:12 reminders: reminder 2: after 4h must come later than the reminder before it "
            "(1d); each delay counts from the first contact",
        ),
        (
            "reminders:\n  - after: 3d\n",
            "12:12 reminders: reminder 1: after 3d is not before the survey expires "
            "(expires_after 3d); shorten it or lengthen expires_after",
        ),
        (
            "reminders:\n  - after: 1h\n  - after: 2h\n  - after: 3h\n  - after: 4h\n",
            "15:5 reminders: at most 3; more reminders wear out respondents",
        ),
        (
            "reminders:\n  - after: 4h\n    wording: hi\n",
            "13:5 reminders: reminder 1: unknown field 'wording'; expected one of: after, text",
        ),
        (
            "fallback:\n  - channel: web\n    after: 1d\n",
            "12:14 fallback: entry 1: channel 'web' cannot be the fallback for no_answer; "
            "use email (after an SMS first contact)",
        ),
        (
            "fallback:\n  - channel: voice\n    reason: busy\n",
            "13:13 fallback: entry 1: reason 'busy' is not one; use no_answer or undeliverable",
        ),
        (
            "fallback:\n  - channel: email\n",
            "12:5 fallback: entry 1: missing required field 'after' (the delay)",
        ),
        (
            "fallback:\n  - channel: voice\n    reason: undeliverable\n    after: 1h\n",
            "14:5 fallback: entry 1: 'after' does not apply to reason undeliverable; "
            "the fallback is made at once",
        ),
        (
            "fallback:\n  - channel: email\n    after: 1d\n  - channel: email\n    after: 2d\n",
            "14:5 fallback: entry 2: a second fallback for no_answer (entry 1 is one)",
        ),
    ],
)
def test_each_mistake_is_reported_where_it_is(extra: str, error: str) -> None:
    assert load(extra) == [error]


def test_a_fallback_channel_must_be_one_of_the_flows_channels() -> None:
    text = HEAD.replace("channels: [sms, voice, email]", "channels: [sms]")
    result = load_flow_text(
        text + "fallback:\n  - channel: voice\n    reason: undeliverable\n", "p"
    )
    assert [f"{e.line}:{e.col} {e.message}" for e in result.errors] == [
        "12:14 fallback: entry 1: channel 'voice' is not among the flow's channels (sms); "
        "add it there so the survey can run on it"
    ]


def test_the_json_schema_takes_the_fields_and_refuses_a_bad_one() -> None:
    import json
    from pathlib import Path

    import jsonschema
    import yaml

    root = Path(__file__).resolve().parents[2]
    schema = json.loads((root / "gateway/flows/flow.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    good = yaml.safe_load(
        (Path(__file__).parent / "contact_plan_flows/reach-reminded.yaml").read_text()
    )
    assert list(validator.iter_errors(good)) == []
    bad = {**good, "fallback": [{"channel": "voice", "reason": "busy"}]}
    assert list(validator.iter_errors(bad)) != []
