"""A flow's ``sender:``: a number for texts and calls, a Messaging Service for texts, or
one of each; anything else is an error that names the field."""

from __future__ import annotations

import pytest

from gateway.flows.loader import load_flow_text
from gateway.flows.model import FlowSender

FLOW = """\
id: visit
version: 1
title: Visit
agency: dmv
{sender}
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
"""
SERVICE = "MG" + "0123456789abcdef" * 2


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ('sender: "+12025550100"', FlowSender(sms="+12025550100", voice="+12025550100")),
        (f"sender: {SERVICE}", FlowSender(sms=SERVICE)),
        (
            f'sender: {{sms: {SERVICE}, voice: "+12025550100"}}',
            FlowSender(sms=SERVICE, voice="+12025550100"),
        ),
        ('sender: {voice: "+12025550100"}', FlowSender(voice="+12025550100")),
        ("", None),
    ],
)
def test_a_sender_is_read(written: str, read: FlowSender | None) -> None:
    result = load_flow_text(FLOW.format(sender=written), "visit.yaml")
    assert not result.errors
    assert result.flow is not None and result.flow.sender == read


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("sender: 2025550100", "a quoted number"),
        ('sender: "202-555-0100"', "is not an E.164 number"),
        (f"sender: {{voice: {SERVICE}}}", "sender.voice"),
        ("sender: {}", "names an sms or a voice sender"),
        ('sender: {fax: "+12025550100"}', "fax"),
    ],
)
def test_a_bad_sender_is_refused_naming_it(written: str, said: str) -> None:
    result = load_flow_text(FLOW.format(sender=written), "visit.yaml")
    assert result.flow is None
    assert any(said in error.message for error in result.errors), result.errors
