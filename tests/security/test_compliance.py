"""Compliance rules that sit outside one channel: Spanish reserved keywords, and a flow
past its PRA expiration taking no new surveys from any door."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flask import Flask

from config.settings import Settings
from gateway.app import create_app
from gateway.flows.loader import load_flow_text
from tests.conftest import bearer, new_key

WITH_KEYWORD = """\
id: poster
version: 1
title: Poster
agency: dmv
start_keywords: [{word}]
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
"""

EXPIRED = """\
id: old-form
version: 1
title: Old form
agency: dmv
pra:
  omb_control_number: "1234-5678"
  expiration_date: 2020-01-31
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
"""


@pytest.mark.parametrize("word", ["PARAR", "Alto", "cancelar", "AYUDA", "Baja", "Detener"])
def test_spanish_opt_out_and_help_words_are_reserved(word: str) -> None:
    result = load_flow_text(WITH_KEYWORD.format(word=word), "poster.yaml")
    assert [e.message for e in result.errors] == [
        f"start_keywords: '{word}' is reserved for opt-out, opt-in and help replies;"
        " choose another word"
    ]


def test_an_ordinary_word_is_still_a_start_keyword() -> None:
    assert load_flow_text(WITH_KEYWORD.format(word="VISITA"), "poster.yaml").ok


@pytest.fixture
def expired_app(settings: Settings, flows_dir: Path) -> Flask:
    """An app whose flows include ``old-form``, past its PRA expiration."""
    (flows_dir / "old-form.yaml").write_text(EXPIRED, encoding="utf-8")
    return create_app(dataclasses.replace(settings, flows_dir=flows_dir), {"TESTING": True})


def test_a_flow_past_its_pra_expiration_takes_no_new_public_entry_visit(
    expired_app: Flask,
) -> None:
    client = expired_app.test_client()
    assert client.get("/f/old-form").status_code == 410
    assert client.get("/f/dmv-visit").status_code == 303


def test_a_flow_past_its_pra_expiration_takes_no_new_trigger(expired_app: Flask) -> None:
    key = new_key(expired_app, "dmv")
    body = {"flow": "old-form", "channel": "sms", "to": "+12025550123"}
    answer = expired_app.test_client().post("/api/v1/surveys", json=body, headers=bearer(key))
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "pra_expired"
