"""Sampling and quotas: reproducible draws, and offices that stop being sampled."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
import yaml

from gateway.flows.loader import load_flow_text
from gateway.flows.model import Sampling
from gateway.reach.quotas import period_start
from gateway.reach.sampling import draw, sampled_in
from gateway.store.db import db_of
from gateway.store.models import Message, Survey
from tests.reach.interactions_support import Clock, keys, open_gateway, post, utc
from tests.sms.support import Gateway

FLOWS = Path(__file__).resolve().parent / "reach_flows"


@pytest.fixture
def gateway(database_url: str) -> Iterator[Gateway]:
    yield from open_gateway(database_url)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def visit(office: str, n: int) -> dict[str, object]:
    return {
        "flow": "sampled",
        "channel": "sms",
        "to": f"+1202555{n:04d}",
        "context": {"office": office},
    }


def test_the_draw_is_the_documented_hash_of_flow_and_seed() -> None:
    digest = hashlib.sha256(b"sampled:visit-7").digest()
    assert draw("sampled", "visit-7") == int.from_bytes(digest[:8], "big") / 2**64
    assert draw("sampled", "visit-7") == draw("sampled", "visit-7")
    assert draw("sampled", "visit-7") != draw("other-flow", "visit-7")


def test_the_worked_example_in_the_docs_draws_what_it_says() -> None:
    assert draw("office-visit", "order-1044") == pytest.approx(0.18946480881158972)
    assert sampled_in(Sampling(rate=0.2), "office-visit", "order-1044")
    assert not sampled_in(Sampling(rate=0.2), "office-visit", "order-1042")


def test_a_rate_of_zero_samples_nobody_and_one_everybody() -> None:
    seeds = [f"s{n}" for n in range(200)]
    assert not any(sampled_in(Sampling(rate=0), "f", s) for s in seeds)
    assert all(sampled_in(Sampling(rate=1), "f", s) for s in seeds)


def test_a_fifth_is_sampled_at_a_rate_of_one_fifth() -> None:
    picked = sum(sampled_in(Sampling(rate=0.2), "f", f"seed-{n}") for n in range(10_000))
    assert 1_850 <= picked <= 2_150


def test_a_sampled_out_trigger_is_cancelled_with_the_reason_and_nothing_is_sent(
    gateway: Gateway, clock: Clock
) -> None:
    (key,) = keys("sampled", 0.5, sampled=False, count=1)
    response = post(gateway, visit("north", 1), key)
    body = response.get_json()
    assert response.status_code == 202
    assert (body["status"], body["offered"], body["reason"]) == ("cancelled", False, "sampled_out")
    assert gateway.messages(Message.direction == "outbound") == []


def test_the_same_keys_give_the_same_decisions_in_another_gateway(
    gateway: Gateway, clock: Clock, database_url: str
) -> None:
    decisions = [
        post(gateway, visit("north", n), f"k-{n}").get_json()["offered"] for n in range(40)
    ]
    assert decisions == [draw("sampled", f"k-{n}") < 0.5 for n in range(40)]
    assert 0 < sum(decisions) < 40


def complete(gateway: Gateway, survey_id: str, when: str) -> None:
    with db_of(gateway.app).session() as session:
        session.execute(
            sa.update(Survey)
            .where(Survey.id == survey_id)
            .values(status="completed", completed_at=utc(when))
        )


def test_an_office_past_its_weekly_quota_stops_being_sampled_until_next_week(
    gateway: Gateway, clock: Clock
) -> None:
    chosen = iter(keys("sampled", 0.5, sampled=True, count=6))
    for n in range(2):
        survey = post(gateway, visit("north", n), next(chosen)).get_json()
        assert survey["offered"] is True
        complete(gateway, survey["id"], "2026-11-18T16:00")

    clock.set("2026-11-20T15:00")  # Friday of the same week
    full = post(gateway, visit("north", 3), next(chosen)).get_json()
    assert (full["status"], full["offered"], full["reason"]) == (
        "cancelled",
        False,
        "quota_reached",
    )
    assert post(gateway, visit("south", 4), next(chosen)).get_json()["offered"] is True

    clock.set("2026-11-23T15:00")  # Monday: a new week
    assert post(gateway, visit("north", 5), next(chosen)).get_json()["offered"] is True


def test_quota_periods_start_where_the_docs_say() -> None:
    now = utc("2026-11-18T15:00")  # Wednesday
    assert period_start("day", now) == utc("2026-11-18T00:00")
    assert period_start("week", now) == utc("2026-11-16T00:00")
    assert period_start("month", now) == utc("2026-11-01T00:00")
    assert period_start("quarter", now) == utc("2026-10-01T00:00")  # FY2027 Q1


def test_a_batch_is_sampled_row_by_row_and_seeded_by_each_survey_id(
    gateway: Gateway, clock: Clock
) -> None:
    rows = [visit("east", n) for n in range(60)]
    response = gateway.client.post(
        "/api/v1/surveys/batch",
        json={"surveys": rows},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    body = response.get_json()
    surveys = gateway.rows(Survey)
    sampled = [s for s in surveys if s.failure_reason != "sampled_out"]
    assert all((draw("sampled", s.id) < 0.5) == (s in sampled) for s in surveys)
    assert body["offered"] == len(sampled)
    assert body["not_offered"] == {"sampled_out": 60 - len(sampled)}


FLOW = """\
id: bad-sampling
version: 1
title: Bad
agency: dmv
context: [office]
{extra}
questions:
  - id: q
    type: yesno
    prompt: Q?
"""


@pytest.mark.parametrize(
    ("extra", "position", "message"),
    [
        ("sampling: {rate: 1.5}", "6:18", "sampling.rate must be from 0 (nobody) to 1"),
        ('sampling: {rate: "20%"}', "6:18", "sampling.rate must be a number from 0 to 1"),
        (
            "sampling:\n  quotas:\n    - {per: desk, max_completed: 5, period: week}",
            "8:13",
            "sampling.quotas[1].per 'desk' is not one of the flow's context names",
        ),
        (
            "sampling:\n  quotas:\n    - {max_completed: 5, period: fortnight}",
            "8:34",
            "sampling.quotas[1].period 'fortnight' is not a period",
        ),
        (
            "sampling:\n  quotas:\n    - {max_completed: 0, period: week}",
            "8:23",
            "sampling.quotas[1].max_completed must be a positive integer",
        ),
    ],
)
def test_a_bad_sampling_setting_is_refused_at_its_line_and_column(
    extra: str, position: str, message: str
) -> None:
    result = load_flow_text(FLOW.format(extra=extra), "bad.yaml")
    assert result.flow is None
    assert any(f"bad.yaml:{position}:" in str(e) and message in str(e) for e in result.errors), [
        str(e) for e in result.errors
    ]


def test_the_reach_flows_satisfy_the_json_schema() -> None:
    root = Path(__file__).parents[2]
    schema = json.loads((root / "gateway/flows/flow.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(FLOWS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data = json.loads(json.dumps(data, default=str))  # dates as an editor sees them
        assert [e.message for e in validator.iter_errors(data)] == [], path.name


def test_the_commented_example_in_the_office_visit_flow_loads_when_uncommented() -> None:
    lines = (Path(__file__).parents[2] / "flows" / "office-visit.yaml").read_text("utf-8")
    out: list[str] = []
    in_example = False
    for line in lines.splitlines():
        if line.endswith("Uncomment to use:"):
            in_example = True
        elif in_example and line.startswith("# "):
            line = line[2:]
        else:
            in_example = False
        out.append(line)
    result = load_flow_text("\n".join(out), "office-visit.yaml")
    assert result.flow is not None, [str(e) for e in result.errors]
    assert result.flow.sampling is not None and result.flow.sampling.rate == 0.2
    assert result.flow.window is not None and result.flow.window.days == (0, 1, 2, 3, 4)
