"""Reading a flow's ``comments:`` block: how its free-text answers are treated.

```yaml
comments:
  keep_original: true          # keep the unredacted text, sealed like contacts (default false)
  identifiers:                 # the agency's identifiers, masked like an SSN: [CLAIM]
    claim: "\\bCL-?\\d{8}\\b"
  crisis:                      # a comment read as crisis language goes here at once
    webhook: https://crisis.agency.example.gov/hook
    email: crisis-desk@agency.example.gov
    due: 1 hours               # the urgent case's due time, 1 to 24 hours (default 1)
    message:                   # shown or texted back to the respondent (STOP respected)
      en: "If you are in crisis, call or text 988 (Suicide and Crisis Lifeline)."
      es: "Si está en crisis, llame o envíe un texto al 988 (Línea de Prevención del
           Suicidio y Crisis)."
```

Each identifier pattern is compiled and tried on adversarial text as the flow loads
(:func:`gateway.flows.identifiers.compile_identifier`): a slow or unsafe pattern is an
error at its line, and the flow is not loaded.
"""

from __future__ import annotations

from yaml.nodes import Node

from gateway.flows.cases import read_due
from gateway.flows.identifiers import IdentifierPattern, UnsafePattern, compile_identifier
from gateway.flows.model import (
    CRISIS_DUE_HOURS,
    MAX_CRISIS_DUE_HOURS,
    CommentSettings,
    CrisisRoute,
)
from gateway.flows.results import ResultsReader

COMMENTS_FIELDS = ("keep_original", "identifiers", "crisis")
CRISIS_FIELDS = ("webhook", "email", "message", "due")
#: Names the gateway's own masks use; an identifier may not take one.
RESERVED = ("ssn", "phone", "email", "address", "dob")
MAX_IDENTIFIERS = 20


def read_comments(reader: ResultsReader, node: Node) -> CommentSettings | None:
    fields = reader.mapping(node, "comments", COMMENTS_FIELDS, prefix="comments: ")
    if fields is None:
        return None
    errors_before = len(reader.errors)
    keep = False
    if "keep_original" in fields:
        keep = bool(reader.boolean(fields["keep_original"][1], "comments: keep_original"))
    identifiers: tuple[IdentifierPattern, ...] = ()
    if "identifiers" in fields:
        identifiers = _identifiers(reader, fields["identifiers"][1])
    crisis = _crisis(reader, fields["crisis"][1]) if "crisis" in fields else None
    if len(reader.errors) > errors_before:
        return None
    return CommentSettings(keep_original=keep, identifiers=identifiers, crisis=crisis)


def _identifiers(reader: ResultsReader, node: Node) -> tuple[IdentifierPattern, ...]:
    pairs = reader.mapping(
        node, "comments: identifiers", allowed=_AnyName(), prefix="comments: identifiers: "
    )
    if pairs is None:
        return ()
    if len(pairs) > MAX_IDENTIFIERS:
        reader.error(node, f"comments: identifiers: at most {MAX_IDENTIFIERS} patterns")
        return ()
    found = []
    for name, (key_node, value_node) in pairs.items():
        if name in RESERVED:
            reader.error(
                key_node, f"comments: identifiers: '{name}' is a built-in mask; choose another name"
            )
            continue
        pattern = reader.string(value_node, f"comments: identifiers: {name}")
        if pattern is None:
            continue
        try:
            found.append(compile_identifier(name, pattern))
        except UnsafePattern as exc:
            reader.error(value_node, f"comments: identifiers: {name}: {exc}")
    return tuple(found)


def _crisis(reader: ResultsReader, node: Node) -> CrisisRoute | None:
    prefix = "comments: crisis: "
    fields = reader.mapping(node, "comments: crisis", CRISIS_FIELDS, prefix=prefix)
    if fields is None:
        return None
    if not fields:
        reader.error(
            node, f"{prefix}give a webhook URL, an email address, a message, a due time, or several"
        )
        return None
    webhook = reader._webhook(fields["webhook"][1], prefix) if "webhook" in fields else None
    email = reader._email(fields["email"][1], prefix) if "email" in fields else None
    message = reader.text(fields["message"][1], f"{prefix}message") if "message" in fields else None
    hours = _crisis_due(reader, fields["due"][1], f"{prefix}due") if "due" in fields else None
    return CrisisRoute(
        webhook=webhook, email=email, message=message, due_hours=hours or CRISIS_DUE_HOURS
    )


def _crisis_due(reader: ResultsReader, node: Node, what: str) -> int | None:
    """A crisis case's due time: hours, never business days (it is due the same day)."""
    due = read_due(reader, node, what, max_hours=MAX_CRISIS_DUE_HOURS, business_days=False)
    return due[1] if due is not None else None


class _AnyName(tuple[str, ...]):
    """Lets :meth:`gateway.flows.nodes.NodeReader.mapping` accept every field name
    (identifier names are the agency's own; they are checked one by one)."""

    def __contains__(self, item: object) -> bool:
        return True
