"""The field-by-field checks of a flow file (contract section 1), building the Flow.

:class:`FlowReader` walks the top-level mapping; :mod:`gateway.flows.questions` reads each
question. Messages name the field, and the question or language where one is involved.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from yaml.nodes import MappingNode, Node, ScalarNode

from gateway.flows.cases import check_teams, read_cases
from gateway.flows.catalog import available_languages
from gateway.flows.comments import read_comments
from gateway.flows.contact_plan import read_fallback, read_reminders
from gateway.flows.model import CHANNELS, Channel, Flow, Pra, Question
from gateway.flows.nodes import position
from gateway.flows.reach import read_sampling, read_window
from gateway.flows.results import ResultsReader
from gateway.flows.sending import read_fatigue_days, read_quiet_hours, read_sender

FLOW_FIELDS = (
    "id",
    "version",
    "title",
    "agency",
    "languages",
    "channels",
    "context",
    "pra",
    "expires_after",
    "start_keywords",
    "intro",
    "outro",
    "questions",
    "a11",
    "alerts",
    "cases",
    "comments",
    "quiet_hours",
    "fatigue_days",
    "sender",
    "consent",
    "reminders",
    "fallback",
    "sampling",
    "window",
)
REQUIRED_FIELDS = ("id", "version", "title", "agency", "questions")
PRA_FIELDS = ("omb_control_number", "expiration_date", "burden_minutes")

FLOW_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
AGENCY = re.compile(r"[a-z0-9][a-z0-9-]*")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OMB_NUMBER = re.compile(r"\d{4}-\d{4}")
DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
KEYWORD = re.compile(r"[A-Za-z0-9]{2,20}")

#: Words carriers and the gateway keep for opt-out, opt-in and help (see A11.md), in
#: English and Spanish, written in upper case. Every keyword the SMS channel answers
#: (:mod:`channels.sms`) is among them, so no flow can start on one; a test holds the two
#: lists together.
RESERVED_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"}
    | {"START", "UNSTOP", "YES", "HELP", "INFO"}
    | {"PARAR", "PARE", "ALTO", "CANCELAR", "DETENER", "BAJA", "BASTA", "AYUDA", "SI", "SÍ"}
)


class FlowReader(ResultsReader):
    """Reads one flow's top-level mapping; errors and warnings accumulate on the reader."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.id_position: tuple[int, int] = (1, 1)
        self.keyword_positions: dict[str, tuple[int, int]] = {}
        self.questions_position: tuple[int, int] = (1, 1)

    def read(self, root: Node, content_hash: str) -> Flow | None:
        fields = self.mapping(root, "the top level of a flow file", FLOW_FIELDS, REQUIRED_FIELDS)
        if fields is None:
            return None
        value = {name: pair[1] for name, pair in fields.items()}

        # Languages and context first: every text is checked against them.
        languages = self._languages(value["languages"]) if "languages" in value else ("en",)
        self.languages = languages or ("en",)
        self.context = self._context(value["context"]) if "context" in value else ()

        flow_id = self._pattern(
            value.get("id"),
            "id",
            FLOW_ID,
            "lowercase letters, digits and hyphens, 2 to 63 characters",
        )
        if "id" in value:
            self.id_position = position(value["id"])
        version = self.positive(value["version"], "version") if "version" in value else None
        title = self.text(value["title"], "title") if "title" in value else None
        agency = self._pattern(
            value.get("agency"), "agency", AGENCY, "lowercase letters, digits and hyphens"
        )
        channels = self._channels(value["channels"]) if "channels" in value else CHANNELS
        self.channels = channels
        pra = self._pra(value["pra"]) if "pra" in value else None
        expires = self._duration(value["expires_after"]) if "expires_after" in value else None
        keywords = self._keywords(value["start_keywords"]) if "start_keywords" in value else ()
        intro = self.text(value["intro"], "intro") if "intro" in value else None
        outro = self.text(value["outro"], "outro") if "outro" in value else None
        questions: tuple[Question, ...] | None = None
        if "questions" in value:
            self.questions_position = position(value["questions"])
            questions = self.questions(value["questions"])
        a11 = self.a11_block(value["a11"]) if "a11" in value else None
        alerts = self.alerts(value["alerts"], questions) if "alerts" in value else ()
        cases = read_cases(self, value["cases"], questions) if "cases" in value else None
        if "alerts" in value:
            check_teams(self, value["alerts"], alerts, cases)
        comments = read_comments(self, value["comments"]) if "comments" in value else None
        quiet = read_quiet_hours(self, value["quiet_hours"]) if "quiet_hours" in value else None
        fatigue = (
            read_fatigue_days(self, value["fatigue_days"]) if "fatigue_days" in value else None
        )
        sender = read_sender(self, value["sender"]) if "sender" in value else None

        consent = self._consent(value["consent"]) if "consent" in value else False
        sampling = (
            read_sampling(self, value["sampling"], self.context) if "sampling" in value else None
        )
        window, window_hours = (
            read_window(self, value["window"]) if "window" in value else (None, None)
        )
        if window_hours is not None:
            if "quiet_hours" in value:
                self.error(
                    value["quiet_hours"],
                    "quiet_hours and window.hours are the same setting; keep window.hours",
                )
            quiet = window_hours
        reminders = (
            read_reminders(self, value["reminders"], expires) if "reminders" in value else ()
        )
        fallback = (
            read_fallback(self, value["fallback"], channels or (), expires)
            if "fallback" in value
            else ()
        )

        if self.errors or None in (flow_id, version, title, agency, languages, channels, questions):
            return None
        assert flow_id and version and title and agency and languages and channels and questions
        return Flow(
            id=flow_id,
            version=version,
            title=title,
            agency=agency,
            questions=questions,
            languages=languages,
            channels=channels,
            context=self.context,
            pra=pra,
            expires_after=expires,
            start_keywords=keywords,
            intro=intro,
            outro=outro,
            source_path=self.path,
            content_hash=content_hash,
            a11=a11,
            alerts=alerts,
            cases=cases,
            comments=comments,
            quiet_hours=quiet,
            fatigue_days=fatigue,
            sender=sender,
            consent_required=consent,
            reminders=reminders,
            fallback=fallback,
            sampling=sampling,
            window=window,
        )

    # ---- top-level fields ----------------------------------------------------------------

    def _consent(self, node: Node) -> bool:
        text = self.string(node, "consent")
        if text is None:
            return False
        if text not in ("required", "none"):
            self.error(node, f"consent must be 'required' or 'none', not '{text}'")
            return False
        return text == "required"

    def _pattern(
        self, node: Node | None, what: str, pattern: re.Pattern[str], rule: str
    ) -> str | None:
        if node is None:
            return None
        value = self.string(node, what)
        if value is not None and not pattern.fullmatch(value):
            self.error(node, f"{what} '{value}' is not valid: use {rule}")
            return None
        return value

    def _unique_strings(self, node: Node, what: str, item: str) -> list[tuple[Node, str]] | None:
        """The distinct text items of a list; a repeated item is an error at the repeat."""
        items = self.sequence(node, what, non_empty=True)
        if items is None:
            return None
        seen: set[str] = set()
        result: list[tuple[Node, str]] = []
        for item_node in items:
            text = self.string(item_node, f"{what}: each entry")
            if text is None:
                continue
            if text.casefold() in seen:
                self.error(item_node, f"{what}: {item} '{text}' is listed twice")
                continue
            seen.add(text.casefold())
            result.append((item_node, text))
        return result

    def _languages(self, node: Node) -> tuple[str, ...] | None:
        items = self._unique_strings(node, "languages", "language")
        if items is None:
            return None
        available = available_languages()
        valid: list[str] = []
        for item_node, code in items:
            if not LANGUAGE.fullmatch(code):
                self.error(
                    item_node, f"languages: '{code}' is not a language code such as en, es or pt-BR"
                )
            elif code not in available:
                self.error(
                    item_node,
                    f"languages: the gateway has no message catalog for '{code}'"
                    f" (available: {', '.join(sorted(available))})",
                )
            else:
                valid.append(code)
        return tuple(valid) if len(valid) == len(items) and valid else None

    def _context(self, node: Node) -> tuple[str, ...]:
        if isinstance(node, ScalarNode) or isinstance(node, MappingNode) or node.value:
            items = self._unique_strings(node, "context", "name")
        else:
            items = []  # an empty list is the same as no context
        valid: list[str] = []
        for item_node, name in items or []:
            if IDENTIFIER.fullmatch(name):
                valid.append(name)
            else:
                self.error(item_node, f"context: '{name}' is not a name; use letters, digits and _")
        return tuple(valid)

    def _channels(self, node: Node) -> tuple[Channel, ...] | None:
        items = self._unique_strings(node, "channels", "channel")
        if items is None:
            return None
        valid: list[Channel] = []
        for item_node, name in items:
            channel = next((c for c in CHANNELS if c == name), None)
            if channel is None:
                self.error(
                    item_node, f"channels: '{name}' is not a channel; use {', '.join(CHANNELS)}"
                )
            else:
                valid.append(channel)
        return tuple(valid) if len(valid) == len(items) else None

    def _pra(self, node: Node) -> Pra | None:
        fields = self.mapping(node, "pra", PRA_FIELDS, ("omb_control_number",), prefix="pra: ")
        if fields is None:
            return None
        number_node = fields["omb_control_number"][1] if "omb_control_number" in fields else None
        number = None
        if number_node is not None:
            number = self.string(number_node, "pra: omb_control_number")
            if number is not None and not OMB_NUMBER.fullmatch(number):
                self.error(
                    number_node, f"pra: omb_control_number '{number}' must look like \"1234-5678\""
                )
                number = None
        expires: date | None = None
        if "expiration_date" in fields:
            expires = self._date(fields["expiration_date"][1], "pra: expiration_date")
        elif number_node is not None:
            self.error(
                node, "pra: missing required field 'expiration_date' (the control number's expiry)"
            )
        burden = None
        if "burden_minutes" in fields:
            burden = self.positive(fields["burden_minutes"][1], "pra: burden_minutes")
        if number is None or expires is None:
            return None
        return Pra(omb_control_number=number, expiration_date=expires, burden_minutes=burden)

    def _date(self, node: Node, what: str) -> date | None:
        value = self.value(node)
        if isinstance(value, str) and isinstance(node, ScalarNode):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                pass
        if not isinstance(value, date) or isinstance(value, datetime):
            self.error(node, f"{what} must be a date such as 2027-06-30, not {node_text(node)}")
            return None
        if value < date.today():
            self.report(
                node,
                f"{what} {value.isoformat()} is in the past; a collection past its expiration "
                "date must stop, so renew the control number",
                "warning",
            )
        return value

    def _duration(self, node: Node) -> timedelta | None:
        text = self.string(node, "expires_after")
        if text is None:
            return None
        match = DURATION.fullmatch(text.strip())
        if not match or not any(match.groups()):
            self.error(
                node, f"expires_after '{text}' is not a duration such as 30m, 24h, 7d or 1h30m"
            )
            return None
        days, hours, minutes = (int(g or 0) for g in match.groups())
        duration = timedelta(days=days, hours=hours, minutes=minutes)
        if duration <= timedelta(0):
            self.error(node, f"expires_after '{text}' must be longer than zero")
            return None
        return duration

    def _keywords(self, node: Node) -> tuple[str, ...]:
        items = self._unique_strings(node, "start_keywords", "keyword")
        valid: list[str] = []
        for item_node, word in items or []:
            if not KEYWORD.fullmatch(word):
                self.error(
                    item_node,
                    f"start_keywords: '{word}' must be one word of 2 to 20 letters or digits",
                )
            elif word.upper() in RESERVED_KEYWORDS:
                self.error(
                    item_node,
                    f"start_keywords: '{word}' is reserved for opt-out, opt-in and help replies;"
                    " choose another word",
                )
            else:
                valid.append(word)
                self.keyword_positions[word] = position(item_node)
        return tuple(valid)


def node_text(node: Node) -> str:
    return repr(node.value) if isinstance(node, ScalarNode) else "a list or mapping"
