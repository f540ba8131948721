"""Sampling: which interactions are offered a survey.

The draw is reproducible: the first 8 bytes of SHA-256 over ``"<flow id>:<seed>"``, read
as a big-endian integer and divided by 2**64, give a number in [0, 1); the interaction is
sampled in when that number is below the flow's ``sampling.rate``. The seed is the
trigger's ``Idempotency-Key`` when it has one, else the id of the survey record the
trigger answered with, so anyone can recompute a decision from what the API returned.
"""

from __future__ import annotations

import hashlib

from gateway.flows.model import Sampling

SCALE = 2**64


def draw(flow_id: str, seed: str) -> float:
    """The interaction's number in [0, 1)."""
    digest = hashlib.sha256(f"{flow_id}:{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / SCALE


def sampled_in(sampling: Sampling | None, flow_id: str, seed: str) -> bool:
    """Whether the interaction seeded by ``seed`` is offered a survey (before quotas)."""
    if sampling is None or sampling.rate >= 1:
        return True
    return draw(flow_id, seed) < sampling.rate
