"""Reading a flow's service-recovery fields: an alert rule's ``case:`` and the ``cases:`` block.

```yaml
cases:
  consent: may_contact            # a yes/no question: "yes" lets staff reply to the respondent
  resolutions: [fixed, explained, no_action]   # codes a resolved case records
  teams: {front-desk: desk@agency.example.gov} # escalations and the daily digest go here
  replies:
    - name: apology
      text: {en: "...", es: "..."}
alerts:
  - name: unhappy
    when: satisfied <= 2
    case: {priority: high, due: 2 business days, team: front-desk}
```
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from yaml.nodes import MappingNode, Node

from gateway.flows.model import (
    CASE_PRIORITIES,
    AlertRule,
    CaseRule,
    CaseSettings,
    Question,
    ReplyTemplate,
)
from gateway.flows.texts import TextReader

CASE_FIELDS = ("priority", "due", "team")
CASES_FIELDS = ("consent", "resolutions", "teams", "replies")
REPLY_FIELDS = ("name", "text")
#: Codes, team and template names: what a URL, a CSV cell and a webhook carry unquoted.
NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
DUE = re.compile(r"(\d{1,3}) *(business days?|hours?)")
MAX_BUSINESS_DAYS = 60
MAX_HOURS = 24 * 60
MAX_RESOLUTIONS = 30
MAX_TEAMS = 50
MAX_REPLIES = 30
#: A reply goes out as one text: at most the length of a few SMS segments.
MAX_REPLY_LENGTH = 480


def read_due(
    reader: TextReader,
    node: Node,
    what: str,
    *,
    max_hours: int = MAX_HOURS,
    business_days: bool = True,
) -> tuple[int | None, int | None] | None:
    """A ``due`` time such as '2 business days' or '4 hours', as (business days, hours),
    one of them None; None (with the error recorded) when it is not one, or is business
    days where ``business_days`` is False."""
    text = reader.string(node, what)
    match = DUE.fullmatch(text.strip()) if text is not None else None
    if match is None:
        if text is not None:
            reader.error(
                node, f"{what} '{text}' is not a time such as '2 business days' or '4 hours'"
            )
        return None
    amount = int(match[1])
    business = match[2].startswith("business")
    if business and not business_days:
        reader.error(node, f"{what} must be 1 to {max_hours} hours, not {text}")
        return None
    limit = MAX_BUSINESS_DAYS if business else max_hours
    if not 1 <= amount <= limit:
        reader.error(node, f"{what} must be 1 to {limit} {match[2]}, not {amount}")
        return None
    return (amount, None) if business else (None, amount)


def read_case_rule(reader: TextReader, node: Node, prefix: str) -> CaseRule | None:
    """An alert rule's ``case:`` mapping (every field optional)."""
    fields = reader.mapping(node, f"{prefix}case", CASE_FIELDS, prefix=f"{prefix}case: ")
    if fields is None:
        return None
    errors_before = len(reader.errors)
    priority = "normal"
    if "priority" in fields:
        text = reader.string(fields["priority"][1], f"{prefix}case: priority")
        if text is not None and text not in CASE_PRIORITIES:
            reader.error(
                fields["priority"][1],
                f"{prefix}case: priority '{text}' is not one of {', '.join(CASE_PRIORITIES)}",
            )
        priority = text or priority
    days: int | None = 5
    hours: int | None = None
    if "due" in fields:
        due = read_due(reader, fields["due"][1], f"{prefix}case: due")
        if due is not None:
            days, hours = due
    team = None
    if "team" in fields:
        team = _name(reader, fields["team"][1], f"{prefix}case: team")
    if len(reader.errors) > errors_before:
        return None
    return CaseRule(priority=priority, due_business_days=days, due_hours=hours, team=team)


def read_cases(
    reader: TextReader, node: Node, questions: tuple[Question, ...] | None
) -> CaseSettings | None:
    """The ``cases:`` block; ``questions`` (None when they failed to read) for ``consent``."""
    fields = reader.mapping(node, "cases", CASES_FIELDS, prefix="cases: ")
    if fields is None:
        return None
    errors_before = len(reader.errors)
    consent = None
    if "consent" in fields:
        consent_node = fields["consent"][1]
        consent = reader.string(consent_node, "cases: consent")
        if consent is not None and questions is not None:
            question = next((q for q in questions if q.id == consent), None)
            if question is None or question.type != "yesno":
                reader.error(
                    consent_node,
                    f"cases: consent must name a yesno question of the flow, not '{consent}'",
                )
    resolutions: tuple[str, ...] = ("resolved",)
    if "resolutions" in fields:
        resolutions = tuple(
            _names(reader, fields["resolutions"][1], "cases: resolutions", MAX_RESOLUTIONS)
        )
    teams: list[tuple[str, str]] = []
    if "teams" in fields:
        teams = _teams(reader, fields["teams"][1])
    replies: list[ReplyTemplate] = []
    if "replies" in fields:
        replies = _replies(reader, fields["replies"][1])
    if len(reader.errors) > errors_before:
        return None
    return CaseSettings(
        consent=consent, resolutions=resolutions, teams=tuple(teams), replies=tuple(replies)
    )


def check_teams(
    reader: TextReader, rules_node: Node, rules: tuple[AlertRule, ...], cases: CaseSettings | None
) -> None:
    """Every team an alert rule's case names is one of ``cases.teams``."""
    known = {name for name, _ in (cases.teams if cases else ())}
    for rule in rules:
        team = rule.case.team if rule.case else None
        if team is not None and team not in known:
            reader.error(
                rules_node,
                f"alert '{rule.name}': case: team '{team}' is not one of cases: teams",
            )


def _name(reader: TextReader, node: Node, what: str) -> str | None:
    text = reader.string(node, what)
    if text is not None and not NAME.fullmatch(text):
        reader.error(
            node, f"{what} '{text[:70]}' is not valid: use lowercase letters, digits, _ and -"
        )
        return None
    return text


def _names(reader: TextReader, node: Node, what: str, limit: int) -> list[str]:
    items = reader.sequence(node, what, non_empty=True) or []
    if len(items) > limit:
        reader.error(node, f"{what} may list at most {limit}, not {len(items)}")
        return []
    names: list[str] = []
    for item in items:
        name = _name(reader, item, what)
        if name is None:
            continue
        if name in names:
            reader.error(item, f"{what}: '{name}' is given twice")
            continue
        names.append(name)
    return names


def _teams(reader: TextReader, node: Node) -> list[tuple[str, str]]:
    if not isinstance(node, MappingNode) or not node.value:
        reader.error(node, "cases: teams must be a mapping of team name to email address")
        return []
    if len(node.value) > MAX_TEAMS:
        reader.error(node, f"cases: teams may name at most {MAX_TEAMS} teams")
        return []
    teams: list[tuple[str, str]] = []
    for key_node, value_node in node.value:
        name = _name(reader, key_node, "cases: teams: a team's name")
        address = reader.string(value_node, f"cases: teams: {name}")
        if name is None or address is None:
            continue
        try:
            teams.append((name, validate_email(address, check_deliverability=False).normalized))
        except EmailNotValidError as exc:
            reader.error(
                value_node, f"cases: teams: {name}: '{address}' is not an email address: {exc}"
            )
    return teams


def _replies(reader: TextReader, node: Node) -> list[ReplyTemplate]:
    items = reader.sequence(node, "cases: replies", non_empty=True) or []
    if len(items) > MAX_REPLIES:
        reader.error(node, f"cases: replies may list at most {MAX_REPLIES} templates")
        return []
    replies: list[ReplyTemplate] = []
    for index, item in enumerate(items):
        label = f"cases: reply {index + 1}: "
        fields = reader.mapping(item, label.rstrip(": "), REPLY_FIELDS, REPLY_FIELDS, label)
        if fields is None or set(fields) != set(REPLY_FIELDS):
            continue
        name = _name(reader, fields["name"][1], f"{label}name")
        text = reader.text(fields["text"][1], f"{label}text")
        if name is None or text is None:
            continue
        if any(r.name == name for r in replies):
            reader.error(item, f"cases: reply '{name}': the name is used twice")
            continue
        too_long = [lang for lang, words in text.items() if len(words) > MAX_REPLY_LENGTH]
        if too_long:
            reader.error(
                fields["text"][1],
                f"cases: reply '{name}': the {too_long[0]} text is longer than "
                f"{MAX_REPLY_LENGTH} characters",
            )
            continue
        replies.append(ReplyTemplate(name=name, text=text))
    return replies
