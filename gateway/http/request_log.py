"""One log line and one metrics observation per request, under a request id.

The request id comes from the caller's ``X-Request-Id`` header when it is a plain token
(a load balancer's or the agency system's), otherwise it is generated; either way it is
returned in the response's ``X-Request-Id`` and stamped on every log record written while
the request is served. The line names the path without its query string: queries and
form bodies carry phone numbers, answers and tokens, and are never logged. A path that
carries a signed link's token (``/s/<token>``, ``/a/<token>``, ``/u/<token>``,
``/r/<token>``) is logged with the token masked: whoever reads the logs must not be able
to open the survey or write to its case.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from config.logging import TOKEN_MASK, redact, request_id_var
from gateway.http import metrics

log = logging.getLogger("gateway.request")

HEADER = "X-Request-Id"
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def request_id(offered: str) -> str:
    """The caller's ``X-Request-Id`` when it is a plain token, otherwise a new id."""
    if _ACCEPTABLE_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def record(method: str, path: str, endpoint: str, status: int, started: float) -> None:
    """Log and measure a request served since ``started`` (``time.perf_counter()``):
    ``endpoint`` is its URL rule, ``path`` the path as logged (numbers masked)."""
    duration = time.perf_counter() - started
    metrics.observe_request(method, endpoint, status, duration)
    log.info(
        "%s %s %d",
        method,
        path,
        status,
        extra={
            "method": method,
            "path": path,
            "endpoint": endpoint,
            "status": status,
            "duration_ms": round(duration * 1000, 2),
        },
    )


def logged_path() -> str:
    """The current request's path as it may be logged: a route's ``token`` argument (a
    signed link) masked, then any contact detail or other token in it."""
    path = request.path
    token = (request.view_args or {}).get("token")
    if isinstance(token, str) and token:
        path = path.replace(token, TOKEN_MASK)
    # A control character (``%0A`` decoded) would start a forged line in a text log.
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", redact(path))


def _begin() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_id(request.headers.get(HEADER, ""))
    g.request_id_token = request_id_var.set(g.request_id)


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:  # a request that failed before the first hook ran
        return response
    rule = request.url_rule
    endpoint = rule.rule if rule is not None else "unmatched"
    # A path matched by a rule without variables is the rule itself: nothing to mask.
    path = endpoint if rule is not None and not rule.arguments else logged_path()
    response.headers[HEADER] = g.request_id
    record(request.method, path, endpoint, response.status_code, started)
    return response


def _reset(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a streamed response's generator)
            request_id_var.set("-")


def init_app(app: Flask) -> None:
    """Log and measure every request the app serves (registered before other hooks)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
    app.teardown_request(_reset)
