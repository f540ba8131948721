"""Crisis language: self-harm, violence and abuse in English and Spanish; negation,
reported speech and figures of speech; every decision with its reasons."""

from __future__ import annotations

import pytest

from gateway.comments.crisis import read_crisis
from gateway.comments.text import fold


def crisis(text: str) -> bool:
    return read_crisis(fold(text)).route


@pytest.mark.parametrize(
    "text",
    [
        "If my benefits get denied again I'm going to kill myself",
        "Ya no quiero vivir, esta era mi última esperanza",
        "me quiero morir",
        "Si no llega este cheque voy a acabar con todo",
        "I'll bring a gun next time",
        "la voy a matar a esa empleada",
        "my husband hits me and takes my check",
        "mi esposo me pega cuando pregunto por el dinero",
        "I've been giving away my stuff, I won't need it much longer",
    ],
)
def test_crisis_language_is_routed(text: str) -> None:
    assert crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "my son said he wanted to die after they cut his benefits",
        "mi hermano se quiere matar",
    ],
)
def test_reported_speech_about_someone_at_risk_is_routed_and_says_so(text: str) -> None:
    reading = read_crisis(fold(text))
    assert reading.route
    assert any(reason.about_someone_else for reason in reading.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "I'm not going to hurt myself, I'm just frustrated",
        "No me voy a hacer daño, solo estoy frustrada",
        "This line is killing me",
        "esta fila me está matando",
        "me muero de hambre esperando",
        "I almost died of boredom",
        "The supervisor abused his authority, an abuse of power",
        "El supervisor cometió abuso de autoridad",
        "The agent killed it, super helpful",
    ],
)
def test_negations_and_figures_of_speech_are_not_routed(text: str) -> None:
    assert not crisis(text)


def test_a_negated_phrase_with_distress_is_routed_towards_safety() -> None:
    reading = read_crisis(fold("I won't kill myself today but I think about it, hopeless"))
    assert reading.route
    assert "hopeless" in reading.distress


def test_a_negation_of_another_verb_does_not_cancel_the_phrase() -> None:
    assert crisis("if this check doesn't come I'll end it")


def test_every_decision_names_the_matched_phrases() -> None:
    reading = read_crisis(fold("Me quiero morir, ya no aguanto"))
    assert reading.categories == ("self_harm",)
    assert 'self_harm: "me quiero morir"' in reading.explain()
    negated = read_crisis(fold("I am not going to hurt myself"))
    assert not negated.route
    assert negated.explain() == 'self_harm: "hurt myself" (negated)'


def test_a_crisis_word_no_phrase_foresaw_still_routes_and_says_only_a_word_matched() -> None:
    reading = read_crisis(fold("thinking about the pills in my cabinet tonight"))
    assert reading.route
    assert reading.reasons[0].phrase.startswith("word: ")
