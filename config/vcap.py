"""Service URLs from Cloud Foundry's ``VCAP_SERVICES`` (cloud.gov and other CF hosts).

A service bound to the app (``cf bind-service``) appears in ``VCAP_SERVICES`` as JSON:
``{"aws-rds": [{"name": ..., "tags": [...], "credentials": {"uri": ...}}], ...}``. The
gateway takes the first PostgreSQL service and the first Redis service it finds, matched
by the service's label (the JSON key) or tags, and reads its ``uri`` credential (or, for
Redis brokers that give parts, builds one from ``host``, ``port`` and ``password``).
The plain ``DATABASE_URL`` and ``REDIS_URL`` variables, when set, always win.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

POSTGRES_WORDS = ("postgres", "postgresql", "aws-rds", "rds", "relational")
REDIS_WORDS = ("redis", "aws-elasticache-redis", "elasticache")


class VcapError(ValueError):
    """``VCAP_SERVICES`` is set but is not the JSON Cloud Foundry writes."""


def _services(raw: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise VcapError(f"VCAP_SERVICES is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise VcapError("VCAP_SERVICES must be a JSON object of service lists")
    for label, instances in document.items():
        for instance in instances if isinstance(instances, list) else []:
            if isinstance(instance, dict):
                yield str(label), instance


def _matches(label: str, instance: Mapping[str, Any], words: tuple[str, ...]) -> bool:
    names = {label.lower(), *(str(tag).lower() for tag in instance.get("tags") or [])}
    return any(word in names for word in words)


def _redis_uri(credentials: Mapping[str, Any]) -> str | None:
    host = credentials.get("host") or credentials.get("hostname")
    if not host:
        return None
    password = credentials.get("password")
    auth = f":{quote(str(password), safe='')}@" if password else ""
    scheme = "rediss" if credentials.get("tls") or credentials.get("ssl") else "redis"
    return f"{scheme}://{auth}{host}:{credentials.get('port') or 6379}"


def service_url(raw: str | None, kind: str) -> str | None:
    """The URL of the first bound ``kind`` service (``postgres`` or ``redis``), if any."""
    if not raw:
        return None
    words = {"postgres": POSTGRES_WORDS, "redis": REDIS_WORDS}[kind]
    for label, instance in _services(raw):
        if not _matches(label, instance, words):
            continue
        credentials = instance.get("credentials") or {}
        uri = credentials.get("uri") or credentials.get("url")
        if not uri and kind == "redis":
            uri = _redis_uri(credentials)
        if uri:
            return str(uri)
    return None
