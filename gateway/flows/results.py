"""Reading a flow's results fields: the ``a11:`` reporting block and the ``alerts:`` list.

Both are read after the questions: an alert's ``when`` may name any question of the flow
(every question is "earlier" than a completed survey), and the A-11 block is checked
against the questions tagged for A-11.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from yaml.nodes import Node

from gateway.flows.cases import read_case_rule
from gateway.flows.model import TRANSACTION_POINTS, A11Reporting, AlertRule, Question
from gateway.flows.questions import QuestionReader
from gateway.services import destinations

A11_FIELDS = ("service", "transaction_point")
ALERT_FIELDS = ("name", "when", "webhook", "email", "case")
ALERT_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class ResultsReader(QuestionReader):
    """Adds the ``a11:`` and ``alerts:`` fields to the question reader."""

    def a11_block(self, node: Node) -> A11Reporting | None:
        fields = self.mapping(node, "a11", A11_FIELDS, ("service",), prefix="a11: ")
        if fields is None:
            return None
        service = None
        if "service" in fields:
            service = self.string(fields["service"][1], "a11: service")
            if service is not None and not service.strip():
                self.error(fields["service"][1], "a11: service must name the service reported")
                service = None
        point = "post-interaction"
        if "transaction_point" in fields:
            point_node = fields["transaction_point"][1]
            text = self.string(point_node, "a11: transaction_point")
            if text is not None and text not in TRANSACTION_POINTS:
                self.error(
                    point_node,
                    f"a11: transaction_point '{text}' is not one of "
                    + ", ".join(TRANSACTION_POINTS),
                )
                text = None
            if text is None:
                return None
            point = text
        if service is None:
            return None
        return A11Reporting(service=service.strip(), transaction_point=point)

    def alerts(self, node: Node, questions: tuple[Question, ...] | None) -> tuple[AlertRule, ...]:
        items = self.sequence(node, "alerts")
        if items is None:
            return ()
        rules: list[AlertRule] = []
        names: set[str] = set()
        for index, item in enumerate(items):
            rule = self._alert(item, index, questions)
            if rule is None:
                continue
            if rule.name in names:
                self.error(item, f"alert '{rule.name}': the name is used twice; give each its own")
                continue
            names.add(rule.name)
            rules.append(rule)
        return tuple(rules)

    def _alert(
        self, node: Node, index: int, questions: tuple[Question, ...] | None
    ) -> AlertRule | None:
        errors_before = len(self.errors)
        label = f"alert {index + 1}: "
        fields = self.mapping(node, f"alert {index + 1}", ALERT_FIELDS, ("name", "when"), label)
        if fields is None:
            return None
        name = None
        if "name" in fields:
            name_node = fields["name"][1]
            name = self.string(name_node, f"{label}name")
            if name is not None and not ALERT_NAME.fullmatch(name):
                self.error(
                    name_node,
                    f"{label}name '{name}' is not valid: use lowercase letters, digits, _ and -",
                )
                name = None
        prefix = f"alert '{name}': " if name else label
        condition = None
        source = None
        if "when" in fields:
            when_node = fields["when"][1]
            source = self.string(when_node, f"{prefix}when")
            if source is not None:
                # Every question comes before a completed survey: any may be named.
                after_all = len(questions or ()) + len(self._ids) + 1
                condition = self._when(when_node, source, after_all, prefix)
        webhook = None
        if "webhook" in fields:
            webhook = self._webhook(fields["webhook"][1], prefix)
        email = None
        if "email" in fields:
            email = self._email(fields["email"][1], prefix)
        case = None
        if "case" in fields:
            case = read_case_rule(self, fields["case"][1], prefix)
        if "webhook" not in fields and "email" not in fields and "case" not in fields:
            self.error(
                node, f"{prefix}give a webhook URL, an email address, a case, or several of them"
            )
        if len(self.errors) > errors_before or name is None or condition is None:
            return None
        assert source is not None
        return AlertRule(
            name=name, when=condition, when_source=source, webhook=webhook, email=email, case=case
        )

    def _webhook(self, node: Node, prefix: str) -> str | None:
        url = self.string(node, f"{prefix}webhook")
        if url is None:
            return None
        try:
            parts = urlsplit(url)
            local = parts.hostname in LOCAL_HOSTS
        except ValueError:
            parts, local = None, False
        secure = parts is not None and (
            parts.scheme == "https" or (local and parts.scheme == "http")
        )
        if parts is None or not parts.hostname or not secure:
            self.error(
                node,
                f"{prefix}webhook '{url[:200]}' must be an https:// URL "
                "(http:// only for localhost)",
            )
            return None
        # A loopback webhook is for development: it is delivered only when the operator's
        # OUTBOUND_ALLOWLIST names it (checked at delivery, where the settings are known).
        reason = None if local else destinations.problem(url)
        if reason is not None:
            self.error(node, f"{prefix}webhook '{url[:200]}' {reason}")
            return None
        return url

    def _email(self, node: Node, prefix: str) -> str | None:
        address = self.string(node, f"{prefix}email")
        if address is None:
            return None
        try:
            return validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            self.error(node, f"{prefix}email '{address}' is not an email address: {exc}")
            return None
