"""The database unreachable: answer 503 with ``Retry-After`` instead of a 500.

A PostgreSQL failover, restart or network cut drops the pool's connections; requests in
that moment fail with ``OperationalError``. They are answered 503 (JSON under /api/, a
short text page elsewhere) with ``Retry-After``, so that agency systems and Twilio retry,
and the gateway recovers by itself: the pool checks each connection before use
(``pool_pre_ping``) and opens new ones once the database is back.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from sqlalchemy.exc import InterfaceError, OperationalError

from gateway.http.errors import API_PREFIX, error_response

log = logging.getLogger(__name__)

#: Seconds a client should wait before trying again.
RETRY_AFTER = 5
MESSAGE = "the gateway cannot reach its database just now; retry shortly"


def database_unavailable(error: Exception) -> Response:
    cause = getattr(error, "orig", None) or error
    log.warning("database unavailable (%s): answered 503", type(cause).__name__)
    headers = {"Retry-After": str(RETRY_AFTER)}
    if request.path.startswith(API_PREFIX):
        return error_response(503, "database_unavailable", MESSAGE, None, headers)
    return Response(MESSAGE + "\n", 503, headers, mimetype="text/plain")


def init_app(app: Flask) -> None:
    for error in (OperationalError, InterfaceError):
        app.register_error_handler(error, database_unavailable)
