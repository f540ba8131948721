"""Loading valid flows: what the Flow holds, defaults, and the warnings a valid flow gets."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

from gateway.flows.loader import load_flow_file, load_flow_text

GOOD = Path(__file__).parent / "good"

HEAD = "id: example\nversion: 1\ntitle: Example\nagency: demo\n"


def rating(qid: str) -> str:
    return f"  - id: {qid}\n    type: rating\n    prompt: Rate it.\n"


def test_a_minimal_flow_loads_with_the_contract_defaults() -> None:
    flow = load_flow_file(GOOD / "minimal.yaml").flow
    assert flow is not None
    assert flow.languages == ("en",)
    assert flow.channels == ("sms", "voice", "email", "web")
    assert flow.questions[0].scale == (1, 5)
    assert flow.title == {"en": "Quick question"}


def test_a_flow_using_every_field_loads_every_value() -> None:
    result = load_flow_file(GOOD / "every-field.yaml")
    flow = result.flow
    assert result.errors == [] and result.warnings == []
    assert flow is not None
    assert (flow.id, flow.version, flow.agency) == ("every-field", 7, "city-permits")
    assert flow.pra is not None and flow.pra.expiration_date == date(2099, 6, 30)
    assert flow.expires_after == timedelta(hours=1, minutes=30)
    assert flow.start_keywords == ("PERMIT", "Permiso2")
    assert flow.question("satisfied").overrides["voice"]["es"].startswith("¿Qué")
    assert flow.question("comment").max_seconds == 120


def test_option_keys_default_to_their_position_unless_given() -> None:
    flow = load_flow_file(GOOD / "every-field.yaml").flow
    assert flow is not None
    assert [o.key for o in flow.question("topic").options] == ["1", "3"]


def test_a_loaded_when_condition_evaluates_against_answers() -> None:
    flow = load_flow_file(GOOD / "every-field.yaml").flow
    assert flow is not None
    when = flow.question("topic").when
    assert when is not None
    assert when.evaluate({"helped": "no", "satisfied": 9})
    assert not when.evaluate({"helped": "yes", "satisfied": 9})


def test_the_content_hash_is_the_sha256_of_the_file_bytes() -> None:
    path = GOOD / "minimal.yaml"
    flow = load_flow_file(path).flow
    assert flow is not None
    assert flow.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert flow.source_path == str(path)


def test_text_loads_with_the_same_hash_as_its_file() -> None:
    path = GOOD / "minimal.yaml"
    flow = load_flow_text(path.read_text(encoding="utf-8"), "x.yaml").flow
    assert flow is not None
    assert flow.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_problem_in_a_file_is_reported_in_one_pass() -> None:
    text = "id: Bad\nversion: 0\ntitle: T\nagency: demo\ncolour: red\nquestions: []\n"
    result = load_flow_text(text, "f.yaml")
    assert result.flow is None
    assert [(e.line, e.col) for e in result.errors] == [(1, 5), (2, 10), (5, 1), (6, 12)]


def test_a_file_that_is_not_utf8_is_refused_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(HEAD.encode() + "intro: Se\xf1or\n".encode("latin-1"))
    assert [str(e) for e in load_flow_file(path).errors] == [
        f"{path}:5:10: the file is not UTF-8 text; save it as UTF-8"
    ]


def test_more_than_fifteen_questions_is_a_warning_not_an_error() -> None:
    text = HEAD + "questions:\n" + "".join(rating(f"q{i}") for i in range(16))
    result = load_flow_text(text, "f.yaml")
    assert result.flow is not None
    assert [str(w) for w in result.warnings] == [
        "f.yaml:6:3: warning: 16 questions to answer; A-11 Section 280 surveys ask at most 15"
        " (about 5 minutes of burden)"
    ]


def test_an_expired_control_number_is_a_warning() -> None:
    pra = 'pra:\n  omb_control_number: "1234-5678"\n  expiration_date: 2020-01-31\n'
    result = load_flow_text(HEAD + pra + "questions:\n" + rating("q"), "f.yaml")
    assert result.flow is not None
    assert [str(w) for w in result.warnings] == [
        "f.yaml:7:20: warning: pra: expiration_date 2020-01-31 is in the past; a collection past"
        " its expiration date must stop, so renew the control number"
    ]


def test_an_expiration_date_may_be_a_quoted_iso_string() -> None:
    pra = 'pra:\n  omb_control_number: "1234-5678"\n  expiration_date: "2099-01-31"\n'
    flow = load_flow_text(HEAD + pra + "questions:\n" + rating("q"), "f.yaml").flow
    assert flow is not None and flow.pra is not None
    assert flow.pra.expiration_date == date(2099, 1, 31)


def test_a_when_literal_outside_the_scale_is_a_warning() -> None:
    question = "  - id: why\n    type: text\n    when: q >= 7\n    prompt: Why?\n"
    result = load_flow_text(HEAD + "questions:\n" + rating("q") + question, "f.yaml")
    assert result.flow is not None
    assert [str(w) for w in result.warnings] == [
        "f.yaml:11:16: warning: question 'why': when: 7 is outside the scale 1 to 5 of 'q',"
        " so it never matches"
    ]


def test_an_sms_prompt_needing_more_than_two_segments_is_a_warning() -> None:
    long_prompt = "Please tell us how satisfied you were with every part of your visit today. " * 4
    question = f"  - id: q\n    type: rating\n    prompt: {long_prompt.strip()}\n"
    result = load_flow_text(HEAD + "questions:\n" + question, "f.yaml")
    assert result.flow is not None
    assert len(result.warnings) == 1
    warning = str(result.warnings[0])
    assert warning.startswith("f.yaml:8:13: warning: question 'q': the SMS text in 'en' needs 3")
    assert "GSM-7 units with the answer instructions" in warning


def test_a_short_sms_override_avoids_the_long_prompt_warning() -> None:
    long_prompt = "Please tell us how satisfied you were with every part of your visit today. " * 4
    question = (
        f"  - id: q\n    type: rating\n    prompt: {long_prompt.strip()}\n"
        "    sms: Rate your visit 1-5.\n"
    )
    result = load_flow_text(HEAD + "questions:\n" + question, "f.yaml")
    assert result.flow is not None and result.warnings == []


def test_flows_without_sms_get_no_segment_warning() -> None:
    long_prompt = "Please tell us how satisfied you were with every part of your visit today. " * 4
    question = f"  - id: q\n    type: rating\n    prompt: {long_prompt.strip()}\n"
    result = load_flow_text(HEAD + "channels: [web]\nquestions:\n" + question, "f.yaml")
    assert result.flow is not None and result.warnings == []


def test_a_when_error_points_inside_a_quoted_expression() -> None:
    question = "  - id: why\n    type: text\n    when: \"q >= 'x'\"\n    prompt: Why?\n"
    result = load_flow_text(HEAD + "questions:\n" + rating("q") + question, "f.yaml")
    assert [str(e) for e in result.errors] == [
        "f.yaml:11:17: question 'why': when: 'q' is a rating question: compare it with an"
        ' integer, not "x"'
    ]


def test_a_question_marked_handoff_web_loads_with_its_handoff() -> None:
    flow = load_flow_file(GOOD / "every-field.yaml").flow
    assert flow is not None
    assert flow.question("comment").handoff == "web"
    assert flow.question("satisfied").handoff is None


def test_a_message_question_cannot_hand_off() -> None:
    question = "  - id: note\n    type: message\n    handoff: web\n    prompt: Hi.\n"
    result = load_flow_text(HEAD + "questions:\n" + question, "f.yaml")
    assert [str(e) for e in result.errors] == [
        "f.yaml:8:14: question 'note': a message question has no answer, so it cannot hand off"
        " to the web"
    ]


def test_a_handoff_in_a_flow_without_sms_is_a_warning() -> None:
    question = "  - id: why\n    type: text\n    handoff: web\n    prompt: Why?\n"
    result = load_flow_text(HEAD + "channels: [email, web]\nquestions:\n" + question, "f.yaml")
    assert result.flow is not None
    assert [str(w) for w in result.warnings] == [
        "f.yaml:9:14: warning: question 'why': handoff has no effect: it applies only on SMS,"
        " which this flow does not use"
    ]


def test_a_long_question_handed_off_to_the_web_gets_no_sms_segment_warning() -> None:
    long_prompt = "Please tell us how satisfied you were with every part of your visit today. " * 4
    question = f"  - id: q\n    type: rating\n    handoff: web\n    prompt: {long_prompt.strip()}\n"
    result = load_flow_text(HEAD + "questions:\n" + question, "f.yaml")
    assert result.flow is not None and result.warnings == []
