"""The message catalog and the question texts built from it."""

from __future__ import annotations

import string

import pytest

from gateway.flows.catalog import available_languages, catalog, message
from gateway.flows.render import pra_notice, render_question
from tests.engine.flows import COMMENT, MINUTES, SATISFIED, WHAT_WENT_WRONG, office_flow


def test_english_and_spanish_are_available() -> None:
    assert {"en", "es"} <= available_languages()


@pytest.mark.parametrize("language", sorted(available_languages() - {"en"}))
def test_every_translation_uses_the_same_placeholders_as_english(language: str) -> None:
    english, other = catalog("en"), catalog(language)
    for key in other.keys() & english.keys():
        if isinstance(english.raw(key), str):
            names = {f[1] for f in string.Formatter().parse(english.raw(key)) if f[1]}
            assert {f[1] for f in string.Formatter().parse(other.raw(key)) if f[1]} == names, key


def test_a_missing_placeholder_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        message("en", "service.help", program="DMV")


def test_the_help_reply_names_the_program_and_how_to_stop() -> None:
    text = message("es", "service.help", program="DMV", contact="1-800-555-0100")
    assert "DMV" in text and "STOP" in text


@pytest.mark.parametrize(
    ("question", "channel", "language", "expected"),
    [
        (
            SATISFIED,
            "sms",
            "en",
            "I am satisfied with the service. Reply 1 to 5 (1 = strongly disagree, 5 = strongly agree).",  # noqa: E501
        ),
        (
            SATISFIED,
            "voice",
            "en",
            "I am satisfied with the service. Press 1 for strongly disagree, up to 5 for strongly agree.",  # noqa: E501
        ),
        (SATISFIED, "web", "en", "I am satisfied with the service."),
        (
            WHAT_WENT_WRONG,
            "sms",
            "en",
            "What went wrong? 1 Waiting time, 2 Staff, 3 Something else. Reply with one or more numbers, like 1,3.",  # noqa: E501
        ),
        (
            MINUTES,
            "voice",
            "en",
            "How many minutes did you wait? Enter the number, then press pound. To skip, press star.",  # noqa: E501
        ),
        (
            MINUTES,
            "sms",
            "es",
            "¿Cuántos minutos esperó? Responda con un número del 0 al 600. Responda OMITIR para saltar esta pregunta.",  # noqa: E501
        ),
        (
            COMMENT,
            "voice",
            "en",
            "Anything else, {office}? After the tone, say your answer, then press pound. To skip, press star.",  # noqa: E501
        ),
    ],
)
def test_questions_carry_the_answer_instructions_of_their_channel(
    question, channel, language, expected
) -> None:  # type: ignore[no-untyped-def]
    assert render_question(office_flow(), question, channel, language) == expected


def test_voice_instructions_never_say_reply() -> None:
    flow = office_flow()
    for question in flow.questions:
        assert "reply" not in render_question(flow, question, "voice", "en").lower()


def test_a_flow_without_a_notice_has_none() -> None:
    assert pra_notice(office_flow(pra=None), "sms", "en") is None


def test_the_sms_notice_links_to_the_full_notice_when_given_a_link() -> None:
    text = pra_notice(office_flow(), "sms", "en", link="https://example.gov/pra")
    assert text is not None and text.endswith("Full notice: https://example.gov/pra")
