"""Extra filters for ``GET /api/v1/responses``: ``version``, ``language`` and
``context.<key>=value`` (any number of context keys, all of which must match)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlalchemy as sa

from gateway.http.errors import ApiError
from gateway.store.models import FlowVersion, Survey
from gateway.surveys.input_policy import InputRefused, whole_number

CONTEXT_PREFIX = "context."
CONTEXT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, {"field": field})


def extra_clauses(args: Mapping[str, str]) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for the extra filters present in the query string ``args``."""
    clauses: list[sa.ColumnElement[bool]] = []
    version = args.get("version")
    if version is not None:
        try:
            number = whole_number(version, "version", 1)
        except InputRefused as exc:
            message = f"version must be a positive whole number, not {version!r}"
            raise _bad("version", message) from exc
        clauses.append(
            Survey.flow_version_id.in_(
                sa.select(FlowVersion.id).where(FlowVersion.version == number)
            )
        )
    language = args.get("language")
    if language is not None:
        if not LANGUAGE.fullmatch(language):
            raise _bad(
                "language", f"language must be a language code such as en or es, not {language!r}"
            )
        clauses.append(Survey.language == language)
    for name, value in args.items():
        if not name.startswith(CONTEXT_PREFIX):
            continue
        key = name[len(CONTEXT_PREFIX) :]
        if not CONTEXT_KEY.fullmatch(key):
            raise _bad(name, f"{name}: the context name {key!r} is not a name (letters, digits, _)")
        clauses.append(Survey.context[key].as_string() == value)
    return clauses
