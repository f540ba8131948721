"""Whatever text it gets, loading answers with a LoadResult and parsing `when` with a
WhenSyntaxError at worst."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.flows.loader import LoadResult, load_flow_text
from gateway.flows.when import WhenSyntaxError, parse_when

GOOD_TEXT = (Path(__file__).parent / "good" / "every-field.yaml").read_text(encoding="utf-8")
GOOD_LINES = GOOD_TEXT.splitlines(keepends=True)

YAMLISH = st.text(
    alphabet=st.sampled_from(list("abn01 -:[]{},'\"\n#&*!|>?%@`\t{}é€👍")), max_size=200
)
WHEN_PIECES = [*"ab_01- =!<>()[],'\"\\", " and ", " or ", "not ", " in ", " contains ", "null"]
WHENISH = st.lists(st.sampled_from(WHEN_PIECES), max_size=30).map("".join)


def assert_result(result: LoadResult) -> None:
    assert isinstance(result, LoadResult)
    assert (result.flow is None) == bool(result.errors)
    for problem in result.errors + result.warnings:
        assert problem.line >= 1 and problem.col >= 1


@given(st.text(max_size=300))
def test_arbitrary_text_gives_a_load_result(text: str) -> None:
    assert_result(load_flow_text(text, "f.yaml"))


@given(YAMLISH)
def test_yaml_looking_text_gives_a_load_result(text: str) -> None:
    assert_result(load_flow_text(text, "f.yaml"))


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(GOOD_LINES) - 1),
            st.sampled_from(["drop", "dup", "replace"]),
            YAMLISH,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_mutated_valid_flow_gives_a_load_result(edits: list[tuple[int, str, str]]) -> None:
    lines = list(GOOD_LINES)
    for index, action, text in edits:
        index %= len(lines)
        if action == "drop":
            del lines[index]
        elif action == "dup":
            lines.insert(index, lines[index])
        else:
            head, _, _ = lines[index].partition(":")
            lines[index] = f"{head}: {text}\n"
        if not lines:
            break
    assert_result(load_flow_text("".join(lines), "f.yaml"))


@given(st.one_of(st.text(max_size=80), WHENISH))
def test_parse_when_raises_only_when_syntax_error(source: str) -> None:
    try:
        condition = parse_when(source)
    except WhenSyntaxError as exc:
        assert 0 <= exc.offset <= len(source)
    else:
        condition.evaluate({})
