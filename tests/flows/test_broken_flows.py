# ruff: noqa: E501 (tables of exact messages read best one to a line)
"""Every kind of mistake in a flow file is refused with its exact place and message.

Each file in ``broken/`` holds one mistake; the table gives the ``line:col: message`` the
loader must print for it, compared as the whole ``file:line:col: message`` line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.flows.loader import load_flow_file

BROKEN = Path(__file__).parent / "broken"

EXPECTED = [
    (
        "bad-a11-tag.yaml",
        "8:10: question 'satisfied': a11 tag 'happiness' is not one of satisfaction, trust, effectiveness, ease, efficiency, transparency, employee, humanity, went_well, went_poorly, comment",
    ),
    (
        "bad-agency.yaml",
        "4:9: agency 'DMV Office' is not valid: use lowercase letters, digits and hyphens",
    ),
    ("bad-channel.yaml", "5:17: channels: 'fax' is not a channel; use sms, voice, email, web"),
    (
        "bad-id.yaml",
        "1:5: id 'Office_Visit' is not valid: use lowercase letters, digits and hyphens, 2 to 63 characters",
    ),
    (
        "choice-bad-key.yaml",
        "10:49: question 'topic': option 'license': key must be one keypad digit, 1 to 9, not 0",
    ),
    (
        "choice-bad-value.yaml",
        "10:17: question 'topic': option 1: value 'Driver License' is not valid: use lowercase letters, digits and _",
    ),
    (
        "choice-key-twice.yaml",
        "11:9: question 'topic': option 'permit': key 2 is already the key of option 'license'",
    ),
    (
        "choice-too-many-options.yaml",
        "10:7: question 'topic': 10 options is too many: at most 9, one per keypad key",
    ),
    (
        "choice-value-twice.yaml",
        "11:17: question 'topic': option value 'license' is used twice (options 1 and 2)",
    ),
    (
        "choice-without-options.yaml",
        "6:5: question 'topic': missing required field 'options' (a choice question lists its options)",
    ),
    (
        "context-not-a-name.yaml",
        "5:11: context: 'office name' is not a name; use letters, digits and _",
    ),
    ("duplicate-field.yaml", "5:1: field 'version' is given twice (first on line 2)"),
    ("empty.yaml", "1:1: the file is empty; a flow needs id, version, title, agency and questions"),
    (
        "expires-after.yaml",
        "5:16: expires_after '2 days' is not a duration such as 30m, 24h, 7d or 1h30m",
    ),
    (
        "field-on-wrong-type.yaml",
        "8:5: question 'helped': field 'scale' is only allowed on rating questions",
    ),
    (
        "handoff-not-web.yaml",
        "8:14: question 'comment': handoff must be web, not 'email' (the web survey is the one place an SMS survey can continue)",
    ),
    (
        "handoff-without-web-channel.yaml",
        "12:14: question 'comment': handoff: web needs the web channel, and channels lists sms, voice; add web to channels or remove handoff",
    ),
    (
        "keyword-read-as-boolean.yaml",
        "5:18: start_keywords: each entry must be text, not the boolean 'YES'; YAML reads YES as a boolean, so quote it: \"YES\"",
    ),
    (
        "language-no-catalog.yaml",
        "5:17: languages: the gateway has no message catalog for 'xx' (available: en, es)",
    ),
    (
        "language-norwegian.yaml",
        "5:17: languages: each entry must be text, not the boolean 'no'; YAML reads no as a boolean, so quote it: \"no\"",
    ),
    ("language-twice.yaml", "5:17: languages: language 'en' is listed twice"),
    (
        "message-optional.yaml",
        "8:15: question 'notice': a message question has no answer, so it cannot be optional",
    ),
    ("missing-field.yaml", "1:1: missing required field 'agency'"),
    ("number-min-above-max.yaml", "9:10: question 'waited': max 1 is less than min 10"),
    (
        "optional-not-boolean.yaml",
        "8:15: question 'satisfied': optional must be true or false, not the text 'maybe'",
    ),
    (
        "placeholder-undeclared.yaml",
        "6:8: intro uses {ofice}, which is not declared in context (context declares office); add it to context or write {{ofice}} for literal braces",
    ),
    (
        "plain-text-several-languages.yaml",
        "9:13: question 'satisfied': prompt has no 'es' text; with languages en, es give a mapping with a text for each",
    ),
    (
        "pra-bad-number.yaml",
        "6:23: pra: omb_control_number '12345678' must look like \"1234-5678\"",
    ),
    ("pra-burden-zero.yaml", "8:19: pra: burden_minutes must be a positive integer, not 0"),
    (
        "pra-missing-expiration.yaml",
        "6:3: pra: missing required field 'expiration_date' (the control number's expiry)",
    ),
    ("prompt-missing-language.yaml", "10:7: question 'satisfied': prompt has no 'es' text"),
    (
        "question-bad-id.yaml",
        "6:9: question id 'Satisfied' is not valid: use lowercase letters, digits and _, starting with a letter",
    ),
    (
        "question-bad-type.yaml",
        "7:11: question 'satisfied': type 'stars' is not one of rating, yesno, choice, number, text, message",
    ),
    ("question-id-twice.yaml", "9:9: question id 'satisfied' is used twice (first on line 6)"),
    ("question-missing-prompt.yaml", "6:5: question 1: missing required field 'prompt'"),
    ("questions-empty.yaml", "5:12: questions must not be empty"),
    (
        "rating-scale.yaml",
        "8:12: question 'satisfied': scale [5, 1] must satisfy 0 <= lowest < highest <= 10",
    ),
    (
        "reserved-keyword.yaml",
        "5:25: start_keywords: 'Stop' is reserved for opt-out, opt-in and help replies; choose another word",
    ),
    (
        "text-in-other-language.yaml",
        "10:7: question 'satisfied': prompt has text in 'fr', which is not one of the flow's languages (en)",
    ),
    (
        "text-max-length.yaml",
        "8:17: question 'comment': max_length must be a positive integer, not -5",
    ),
    ("text-max-seconds.yaml", "8:18: question 'comment': max_seconds must be 1 to 600, not 900"),
    (
        "top-level-list.yaml",
        "1:1: the top level of a flow file must be a mapping of fields, not a list",
    ),
    ("unknown-field.yaml", "5:1: unknown field 'outtro' (did you mean 'outro'?)"),
    ("unmatched-brace.yaml", "5:8: intro has an unmatched '{'; write '{{' for a literal brace"),
    ("version-bool.yaml", "2:10: version must be an integer, not the boolean 'true'"),
    ("version-zero.yaml", "2:10: version must be a positive integer, not 0"),
    (
        "when-contains-single-choice.yaml",
        "13:11: question 'comment': when: 'contains' needs a multiple choice question; 'topic' is a choice question",
    ),
    (
        "when-integer-for-yesno.yaml",
        "11:21: question 'comment': when: 'helped' is a yesno question: compare it with \"yes\" or \"no\", not 1",
    ),
    (
        "when-later-question.yaml",
        "8:11: question 'comment': when names 'satisfied', which is not asked before this question; only earlier questions may be named",
    ),
    (
        "when-names-message.yaml",
        "11:11: question 'comment': when names 'notice', a message question, which has no answer",
    ),
    (
        "when-ordering-on-yesno.yaml",
        "11:12: question 'comment': when: '<' needs a rating or number question; 'helped' is a yesno question",
    ),
    ("when-syntax.yaml", "11:21: question 'comment': when: unexpected '='; compare with '=='"),
    (
        "when-unknown-option.yaml",
        '14:20: question \'comment\': when: \'topic\' has no option "licence"; its options are "license", "permit"',
    ),
    (
        "when-unknown-question.yaml",
        "11:11: question 'comment': when names 'satisfaction', which is not a question of this flow",
    ),
    (
        "yaml-syntax.yaml",
        "6:10: invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence that starts on line 5)",
    ),
]


@pytest.mark.parametrize(("name", "expected"), EXPECTED, ids=[name for name, _ in EXPECTED])
def test_a_broken_flow_is_refused_with_one_located_message(name: str, expected: str) -> None:
    path = BROKEN / name
    result = load_flow_file(path)
    assert result.flow is None
    assert [str(error) for error in result.errors] == [f"{path}:{expected}"]


def test_every_broken_file_has_an_expected_message() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(name for name, _ in EXPECTED)
