"""`when` expressions built at random, written out, parsed back and evaluated, agree with a
direct evaluation of the same tree (the contract's rules: null compares false, ordering
between integers only, `contains` on lists)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.flows.when import parse_when

NAMES = ("a", "b", "c")
integers = st.integers(-5, 5)
strings = st.sampled_from(["yes", "no", "wait", "it's", 'say "hi"'])
literal = st.one_of(integers, strings, st.none())
answer_value = st.one_of(integers, strings, st.none(), st.lists(strings, max_size=3))


def write(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(write(v) for v in value) + "]"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def same(answer: Any, value: Any) -> bool:
    return type(answer) is type(value) and answer == value


def truth(tree: Any, answers: dict[str, Any]) -> bool:
    kind = tree[0]
    if kind == "not":
        return not truth(tree[1], answers)
    if kind in ("and", "or"):
        results = [truth(t, answers) for t in tree[1]]
        return all(results) if kind == "and" else any(results)
    _, name, op, value = tree
    answer = answers.get(name)
    if value is None and op in ("==", "!="):
        return (answer is None) == (op == "==")
    if answer is None or value is None:
        return False
    if op == "==":
        return same(answer, value)
    if op == "!=":
        return not same(answer, value)
    if op == "in":
        return any(same(answer, v) for v in value)
    if op == "contains":
        return isinstance(answer, list) and any(same(a, value) for a in answer)
    if type(answer) is not int or type(value) is not int:
        return False
    return {"<": answer < value, "<=": answer <= value, ">": answer > value,
            ">=": answer >= value}[op]  # fmt: skip


def source(tree: Any) -> str:
    kind = tree[0]
    if kind == "not":
        return f"not ({source(tree[1])})"
    if kind in ("and", "or"):
        return "(" + f" {kind} ".join(source(t) for t in tree[1]) + ")"
    _, name, op, value = tree
    return f"{name} {op} {write(value)}"


comparison = st.one_of(
    st.tuples(st.just("cmp"), st.sampled_from(NAMES), st.sampled_from(["==", "!="]), literal),
    st.tuples(
        st.just("cmp"), st.sampled_from(NAMES), st.sampled_from(["<", "<=", ">", ">="]), integers
    ),  # fmt: skip
    st.tuples(
        st.just("cmp"),
        st.sampled_from(NAMES),
        st.just("in"),
        st.lists(st.one_of(integers, strings), min_size=1, max_size=3),
    ),  # fmt: skip
    st.tuples(st.just("cmp"), st.sampled_from(NAMES), st.just("contains"), strings),
)
trees = st.recursive(
    comparison,
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)


@settings(max_examples=300)
@given(trees, st.fixed_dictionaries({name: answer_value for name in NAMES}))
def test_a_written_expression_evaluates_as_its_tree(tree: Any, answers: dict[str, Any]) -> None:
    assert parse_when(source(tree)).evaluate(answers) == truth(tree, answers)
