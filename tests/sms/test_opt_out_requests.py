"""Every carrier keyword and plain-words request opts out, in any case and with any
surrounding punctuation; the confirmation is sent once; answers that merely mention
stopping stay answers."""

from __future__ import annotations

import pytest

from channels.sms import match_keyword
from tests.sms.support import Gateway, replies

KEYWORDS = ["STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE", "STOPALL",
            "OPTOUT"]  # fmt: skip
PLAIN = [
    "stop texting me",
    "no more messages",
    "please stop",
    "Stop sending me texts!",
    "Don't text me anymore.",
    "Please remove me from this list",
    "no me envíen más",
    "ya no me manden mensajes",
    "No más mensajes, gracias",
    "Dejen de enviarme mensajes",
]
#: A keyword said twice, spelled out, with letters held, and short plain words.
EMPHATIC = ["STOP STOP", "stop stop stop", "S T O P", "s.t.o.p.", "STOPP", "Stooop!",
            "halt", "HALT!", "quit it", "End it.", "stop it please", "alto alto",
            "Basta, basta"]  # fmt: skip
NOT_REQUESTS = ["It did not stop", "the wait never seemed to end", "5", "no", "cancelled my"
                " appointment", "stop sign outside was broken", "S", "O K", "stops",
                "halted traffic", "it is the end of it", "the end"]  # fmt: skip


@pytest.mark.parametrize("word", KEYWORDS)
@pytest.mark.parametrize("dress", ["{}", "{}.", " {}! ", "¡{}!", '"{}"', "({})"])
@pytest.mark.parametrize("case", [str.upper, str.lower, str.title])
def test_every_keyword_in_any_case_and_punctuation_is_a_stop(
    word: str, dress: str, case: object
) -> None:
    body = dress.format(case(word))  # type: ignore[operator]
    matched = match_keyword(body)
    assert matched is not None and matched.kind == "stop", body


@pytest.mark.parametrize("body", PLAIN)
def test_a_plain_words_request_is_a_stop(body: str) -> None:
    matched = match_keyword(body)
    assert matched is not None and matched.kind == "stop"


@pytest.mark.parametrize("body", EMPHATIC)
def test_a_repeated_spelled_out_or_held_stop_and_short_plain_words_are_a_stop(body: str) -> None:
    matched = match_keyword(body)
    assert matched is not None and matched.kind == "stop", body


@pytest.mark.parametrize("body", ["STOP STOP", "S T O P", "STOPP", "halt", "quit it", "end it"])
def test_a_repeated_spelled_out_or_held_stop_opts_the_number_out(
    gateway: Gateway, body: str
) -> None:
    survey_id = gateway.trigger()["id"]
    assert len(replies(gateway.text(body))) == 1
    assert gateway.opted_out()
    assert gateway.status_of(survey_id) == "opted_out"


@pytest.mark.parametrize(("body", "language"), [("no me envíen más", "es"),
                                                ("stop texting me", "en")])  # fmt: skip
def test_a_plain_words_request_keeps_its_language(body: str, language: str) -> None:
    matched = match_keyword(body)
    assert matched is not None and matched.language == language


@pytest.mark.parametrize("body", NOT_REQUESTS)
def test_an_answer_that_mentions_stopping_is_not_a_stop(body: str) -> None:
    assert match_keyword(body) is None


@pytest.mark.parametrize("body", ["stop texting me", "ya no me manden mensajes"])
def test_a_plain_words_request_opts_the_number_out(gateway: Gateway, body: str) -> None:
    survey_id = gateway.trigger()["id"]
    assert len(replies(gateway.text(body))) == 1
    assert gateway.opted_out()
    assert gateway.status_of(survey_id) == "opted_out"


def test_a_second_stop_gets_no_second_confirmation(gateway: Gateway) -> None:
    gateway.trigger()
    assert len(replies(gateway.text("STOP"))) == 1
    assert replies(gateway.text("stop")) == []
    assert replies(gateway.text("stop texting me")) == []
    assert gateway.opted_out()
