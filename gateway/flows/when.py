"""The `when` language: a question is asked only when its condition holds.

Grammar (contract section 1), parsed by a hand-written tokenizer and a recursive-descent
parser, never ``eval``::

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" or_expr ")" | comparison
    comparison := ID ("==" | "!=" | "<" | "<=" | ">" | ">=") literal
                | ID "in" list
                | ID "contains" literal
    literal    := INTEGER | STRING | "null" | list
    list       := "[" (literal ("," literal)*)? "]"

Strings are quoted with ``'`` or ``"`` (a backslash escapes the quote or itself);
integers may carry a leading minus sign.

Unanswered questions: an answer of ``None`` (skipped, or never asked) makes every
comparison false, so ``waited > 10`` and ``waited != 10`` are both false for a skipped
question. The exceptions are ``== null``, true exactly when the question has no answer,
and ``!= null``, true exactly when it has one. Any other comparison with a ``null``
literal is false. ``not`` negates the result as usual, so ``not waited > 10`` holds for
an unanswered question.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from gateway.flows.answers import AnswerValue

Operator = Literal["==", "!=", "<", "<=", ">", ">=", "in", "contains"]
ORDERING: frozenset[str] = frozenset({"<", "<=", ">", ">="})
KEYWORDS: frozenset[str] = frozenset({"and", "or", "not", "in", "contains", "null"})

# A literal as written: int, str, None for null, or a tuple of literals for a list.
LiteralValue: TypeAlias = "int | str | None | tuple[LiteralValue, ...]"


class WhenSyntaxError(ValueError):
    """A `when` expression that does not parse; ``offset`` is 0-based into the source."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class Condition(ABC):
    """A parsed `when` expression."""

    @abstractmethod
    def evaluate(self, answers: Mapping[str, AnswerValue]) -> bool:
        """Whether the condition holds for these answers (a missing id counts as None)."""

    @abstractmethod
    def comparisons(self) -> Iterator[Comparison]:
        """Every comparison in the expression, left to right."""

    def names(self) -> set[str]:
        """The question ids the expression names."""
        return {c.name for c in self.comparisons()}


@dataclass(frozen=True)
class Comparison(Condition):
    name: str
    op: Operator
    value: LiteralValue
    offset: int  # where the question id starts in the source
    value_offset: int  # where the literal starts in the source

    def evaluate(self, answers: Mapping[str, AnswerValue]) -> bool:
        answer = answers.get(self.name)
        if self.value is None and self.op in ("==", "!="):
            return (answer is None) == (self.op == "==")
        if answer is None or self.value is None:
            return False
        if self.op == "==":
            return _same(answer, self.value)
        if self.op == "!=":
            return not _same(answer, self.value)
        if self.op == "in":
            items = self.value if isinstance(self.value, tuple) else ()
            return any(_same(answer, item) for item in items)
        if self.op == "contains":
            return isinstance(answer, list) and any(_same(a, self.value) for a in answer)
        if not isinstance(answer, int) or not isinstance(self.value, int):
            return False  # ordering is defined between integers only
        if self.op == "<":
            return answer < self.value
        if self.op == "<=":
            return answer <= self.value
        if self.op == ">":
            return answer > self.value
        return answer >= self.value

    def comparisons(self) -> Iterator[Comparison]:
        yield self


@dataclass(frozen=True)
class Not(Condition):
    operand: Condition

    def evaluate(self, answers: Mapping[str, AnswerValue]) -> bool:
        return not self.operand.evaluate(answers)

    def comparisons(self) -> Iterator[Comparison]:
        yield from self.operand.comparisons()


@dataclass(frozen=True)
class And(Condition):
    operands: tuple[Condition, ...]

    def evaluate(self, answers: Mapping[str, AnswerValue]) -> bool:
        return all(o.evaluate(answers) for o in self.operands)

    def comparisons(self) -> Iterator[Comparison]:
        for operand in self.operands:
            yield from operand.comparisons()


@dataclass(frozen=True)
class Or(Condition):
    operands: tuple[Condition, ...]

    def evaluate(self, answers: Mapping[str, AnswerValue]) -> bool:
        return any(o.evaluate(answers) for o in self.operands)

    def comparisons(self) -> Iterator[Comparison]:
        for operand in self.operands:
            yield from operand.comparisons()


def _same(answer: AnswerValue, literal: LiteralValue) -> bool:
    """Equality that keeps types apart: 1 never equals "1", a list never equals a string."""
    if isinstance(answer, list):
        return isinstance(literal, tuple) and tuple(answer) == literal
    return type(answer) is type(literal) and answer == literal


# ---- tokenizer -------------------------------------------------------------------------

TokenKind = Literal["id", "int", "str", "op", "punct", "end"]


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    offset: int
    value: int | str | None = None


_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT = re.compile(r"-?[0-9]+")
_OPS = ("==", "!=", "<=", ">=", "<", ">")


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        space = _SPACE.match(source, pos)
        if space:
            pos = space.end()
            continue
        char = source[pos]
        if word := _WORD.match(source, pos):
            tokens.append(Token("id", word.group(), pos))
            pos = word.end()
        elif number := _INT.match(source, pos):
            if _WORD.match(source, number.end()):
                raise WhenSyntaxError(
                    f"unexpected character {source[number.end()]!r}", number.end()
                )
            text = number.group()
            tokens.append(Token("int", text, pos, int(text)))
            pos = number.end()
        elif char in "'\"":
            value, end = _string(source, pos)
            tokens.append(Token("str", source[pos:end], pos, value))
            pos = end
        elif op := next((o for o in _OPS if source.startswith(o, pos)), None):
            tokens.append(Token("op", op, pos))
            pos += len(op)
        elif char in "()[],":
            tokens.append(Token("punct", char, pos))
            pos += 1
        elif char == "=":
            raise WhenSyntaxError("unexpected '='; compare with '=='", pos)
        else:
            raise WhenSyntaxError(f"unexpected character {char!r}", pos)
    tokens.append(Token("end", "", len(source)))
    return tokens


def _string(source: str, start: int) -> tuple[str, int]:
    quote = source[start]
    chars: list[str] = []
    pos = start + 1
    while pos < len(source):
        char = source[pos]
        if char == "\\" and pos + 1 < len(source) and source[pos + 1] in (quote, "\\"):
            chars.append(source[pos + 1])
            pos += 2
        elif char == quote:
            return "".join(chars), pos + 1
        else:
            chars.append(char)
            pos += 1
    raise WhenSyntaxError(f"string starting here has no closing {quote}", start)


# ---- parser ----------------------------------------------------------------------------


def parse_when(source: str) -> Condition:
    """Parse a `when` expression; raises :class:`WhenSyntaxError` with the offset of the
    problem."""
    parser = _Parser(tokenize(source))
    if parser.peek().kind == "end":
        raise WhenSyntaxError("the condition is empty", 0)
    condition = parser.or_expr()
    token = parser.peek()
    if token.kind != "end":
        raise WhenSyntaxError(
            f"unexpected {_describe(token)}; expected 'and', 'or' or the end", token.offset
        )
    return condition


def _describe(token: Token) -> str:
    return "end of the condition" if token.kind == "end" else repr(token.text)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def at_word(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "id" and token.text == word

    def or_expr(self) -> Condition:
        operands = [self.and_expr()]
        while self.at_word("or"):
            self.take()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Condition:
        operands = [self.not_expr()]
        while self.at_word("and"):
            self.take()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def not_expr(self) -> Condition:
        if self.at_word("not"):
            self.take()
            return Not(self.not_expr())
        token = self.peek()
        if token.kind == "punct" and token.text == "(":
            self.take()
            inner = self.or_expr()
            closing = self.take()
            if closing.text != ")" or closing.kind != "punct":
                raise WhenSyntaxError(
                    f"expected ')' but found {_describe(closing)}", closing.offset
                )
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        name = self.take()
        if name.kind != "id" or name.text in KEYWORDS:
            raise WhenSyntaxError(
                f"expected a question id but found {_describe(name)}", name.offset
            )
        op = self.take()
        if op.kind == "op":
            operator: Operator = op.text  # type: ignore[assignment]
        elif op.kind == "id" and op.text in ("in", "contains"):
            operator = op.text  # type: ignore[assignment]
        else:
            raise WhenSyntaxError(
                f"expected an operator (== != < <= > >= in contains) after '{name.text}'"
                f" but found {_describe(op)}",
                op.offset,
            )
        start = self.peek().offset
        if operator == "in" and not (self.peek().kind == "punct" and self.peek().text == "["):
            raise WhenSyntaxError(
                f"'in' needs a list such as [1, 2] but found {_describe(self.peek())}", start
            )
        return Comparison(name.text, operator, self.literal(), name.offset, start)

    def literal(self) -> LiteralValue:
        token = self.take()
        if token.kind in ("int", "str"):
            return token.value
        if token.kind == "id" and token.text == "null":
            return None
        if token.kind == "punct" and token.text == "[":
            items: list[LiteralValue] = []
            if self.peek().kind == "punct" and self.peek().text == "]":
                self.take()
                return ()
            while True:
                items.append(self.literal())
                separator = self.take()
                if separator.kind == "punct" and separator.text == "]":
                    return tuple(items)
                if separator.kind != "punct" or separator.text != ",":
                    raise WhenSyntaxError(
                        f"expected ',' or ']' in the list but found {_describe(separator)}",
                        separator.offset,
                    )
        hint = f"; quote text: '{token.text}'" if token.kind == "id" else ""
        raise WhenSyntaxError(
            "expected a value (integer, quoted string, list or null)"
            f" but found {_describe(token)}{hint}",
            token.offset,
        )
