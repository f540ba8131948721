"""Generated JSON and CSV batches on ``POST /api/v1/surveys/batch``: rows of plausible and
hostile triggers, bodies that are no batch at all. No answer is a 5xx, a refused batch
writes nothing, an accepted one reports every row, and every survey it queued is started
(or failed for good) by the worker, with no job left behind."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import (
    Tally,
    assert_nothing_stuck,
    assert_nothing_written,
    fuzz_settings,
    hostile_text,
    row_counts,
    text_or,
)
from tests.sms.support import Gateway

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

FLOWS = ("clinic-visit", "lobby-poster", "quick-poll", "permit-handoff", "no-such-flow")
CHANNELS = ("sms", "voice", "email", "web", "fax")
CONTACTS = ("+12025550123", "+12025550124", "+1 (202) 555-0125", "visitor@example.gov", "+1")
LANGUAGES = ("en", "es", "fr")
SOON = (datetime.now(UTC) + timedelta(days=2)).isoformat()
SEND_AT = (SOON, "2026-10-01T12:00:00Z", "2099-01-01T00:00:00Z", "2026-10-01", "tomorrow")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)

#: Rows a batch would accept as they are.
VALID_ROWS = [
    {"flow": "clinic-visit", "channel": "sms", "to": "+12025550123"},
    {"flow": "clinic-visit", "channel": "voice", "to": "+12025550124", "language": "es"},
    {"flow": "lobby-poster", "channel": "sms", "to": "+12025550125", "context": {"office": "Main"}},
    {"flow": "quick-poll", "channel": "sms", "to": "+12025550126", "send_at": SOON},
]

FIELDS = {
    "flow": text_or(*FLOWS) | json_values,
    "channel": text_or(*CHANNELS),
    "to": text_or(*CONTACTS),
    "language": text_or(*LANGUAGES),
    "send_at": text_or(*SEND_AT),
    "context": st.dictionaries(text_or("office", "agent"), text_or("Main St"), max_size=3)
    | json_values,
    "fallback_to": st.fixed_dictionaries({}, optional={"email": text_or(*CONTACTS)}),
    "extra": json_values,
}

trigger_rows = st.one_of(
    # A valid row with a field or two changed: the rows that get furthest.
    st.builds(
        lambda row, changes: {**row, **changes},
        st.sampled_from(VALID_ROWS),
        st.dictionaries(st.sampled_from(sorted(FIELDS)), st.nothing(), max_size=0)
        | st.fixed_dictionaries({}, optional=FIELDS).filter(lambda changes: len(changes) <= 2),
    ),
    st.fixed_dictionaries({}, optional=FIELDS),
)


def _encoded(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _nested(depth: int) -> bytes:
    """A row whose context nests ``depth`` deep (deeper than any parser's stack, at most)."""
    return b'{"surveys": [{"context": {"office": ' + b"[" * depth + b"]" * depth + b"}}]}"


rows_of_triggers = st.lists(trigger_rows | json_values, max_size=8).map(lambda r: {"surveys": r})
json_bodies = st.one_of(
    rows_of_triggers,
    rows_of_triggers,  # twice as likely as each of the others
    json_values.map(lambda value: {"surveys": value}),
    json_values,
).map(_encoded) | st.integers(1, 5000).map(_nested)


#: Each CSV column with what a real batch holds in it.
COLUMNS = {
    "flow": FLOWS,
    "channel": CHANNELS,
    "to": CONTACTS,
    "language": LANGUAGES,
    "send_at": SEND_AT,
    "context.office": ("Main St", "=1+2"),
    "context.\x00": ("x",),
}


COLUMNS_NEEDED = ("flow", "channel", "to")
VALID_CELLS = {"flow": "clinic-visit", "channel": "sms", "to": "+12025550123"}


@st.composite
def csv_bodies(draw: st.DrawFn) -> bytes:
    header = draw(
        st.lists(st.sampled_from(sorted(COLUMNS)), max_size=4, unique=True).map(
            lambda extra: ["flow", "channel", "to"] + [n for n in extra if n not in COLUMNS_NEEDED]
        )
        | st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=7, unique=True)
        | st.lists(text_or(*COLUMNS), min_size=1, max_size=6)
    )
    plausible = [
        st.sampled_from([VALID_CELLS.get(name, ""), *COLUMNS.get(name, ())]) for name in header
    ]
    hostile = [text_or(*COLUMNS.get(name, ())) for name in header]
    rows = draw(
        st.lists(
            st.tuples(*plausible).map(list)
            | st.tuples(*hostile).map(list)
            | st.lists(hostile_text, max_size=len(header) + 1),
            max_size=8,
        )
    )
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    whole = out.getvalue()
    text = draw(st.one_of(st.just(whole), st.just(whole), st.just(whole[:-3]), hostile_text))
    # Some bodies carry lone surrogates as the bytes a broken encoder writes: not UTF-8.
    return text.encode("utf-8", "surrogatepass")


#: Idempotency keys as a header can carry them: Latin-1, no line breaks.
idempotency_keys = st.none() | text_or("batch-1", "x" * 256).filter(
    lambda key: all(ord(c) <= 255 and c not in "\r\n" for c in key)
)


def _post(gateway: Gateway, body: bytes, content_type: str, key: str | None) -> Any:
    headers = {"Authorization": f"Bearer {gateway.api_key}", "Content-Type": content_type}
    if key is not None:
        headers["Idempotency-Key"] = key
    return gateway.client.post("/api/v1/surveys/batch", data=body, headers=headers)


def _check(gateway: Gateway, tally: Tally, body: bytes, content_type: str, key: str | None) -> None:
    before = row_counts(gateway.app)
    response = _post(gateway, body, content_type, key)
    tally.count(response.status_code)
    assert response.status_code < 500, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer is not None, "every batch answer is JSON"
    if response.status_code >= 400:
        assert_nothing_written(before, row_counts(gateway.app), f"batch ({answer['error']})")
        return
    assert response.status_code == 202
    tally.note("rows accepted", answer["accepted"])
    for rejection in answer["rejected"]:
        assert 1 <= rejection["row"] <= answer["rows"], rejection
    assert answer["accepted"] + len({r["row"] for r in answer["rejected"]}) == answer["rows"]


def test_generated_json_batches(gateway: Gateway, tally: Tally) -> None:
    @given(body=json_bodies, key=idempotency_keys)
    @fuzz_settings()
    def batch(body: bytes, key: str | None) -> None:
        _check(gateway, tally, body, "application/json", key)

    batch()
    assert_nothing_stuck(gateway.app)


def test_generated_csv_batches(gateway: Gateway, tally: Tally) -> None:
    @given(body=csv_bodies(), key=idempotency_keys)
    @fuzz_settings()
    def batch(body: bytes, key: str | None) -> None:
        _check(gateway, tally, body, "text/csv", key)

    batch()
    assert_nothing_stuck(gateway.app)
