"""The quick lane: Twilio's common webhooks answered before Flask sees them.

Nearly every webhook is a respondent's reply to the question just asked, or a caller's
key at the current step of a call. Their views already serve that case in two statements
(:mod:`gateway.sms.quick_reply`, :mod:`gateway.voice.quick_step`); what a request then
costs is mostly Flask's own work around the view (request context, session, routing, form
parsing into a ``MultiDict`` through the stream machinery, hooks, the response object),
about a third of the webhook's CPU. This WSGI middleware serves the same case without it,
by the same rules and with the same functions as the views:

1. a ``POST`` to one of the lane's paths, form-encoded with a ``Content-Length`` within
   the app's ``MAX_CONTENT_LENGTH``, under ``PUBLIC_BASE_URL`` (the URL Twilio signed);
2. the form parsed as werkzeug parses it; the ``X-Twilio-Signature`` checked
   (:func:`~gateway.twilio.signature.signature_matches`);
3. the route's handler: the views' own quick-path function, which stores what the
   request brings and returns the answer, or returns None having written nothing;
4. the answer with the headers every response carries (``X-Request-Id``, the security
   headers), and the request's log line and metrics (:func:`gateway.http.request_log.record`),
   log records written meanwhile stamped with the request id.

Anything else goes to Flask unchanged, the body kept for it to read: another path or
method, a body the lane does not parse, no ``PUBLIC_BASE_URL``, a bad or missing signature
(the view answers 403 and logs it), a form the view would refuse, and a request whose
handler returns None or raises (logged): the view then serves it by its general path
straight away (:func:`declined`), and answers as it does for any error. So the views stay
complete on their own, and the lane only ever answers as they would.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug import urls as _urls  # noqa: F401 (registers the "werkzeug.url_quote" handler)
from werkzeug.datastructures import MultiDict
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.utils import get_content_type

from config.logging import request_id_var
from gateway.http import request_log, security_headers
from gateway.twilio.signature import owners_of, public_url_of, signature_matches, webhook_token

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

#: Set in the WSGI environ when the lane ran a request's handler and it declined.
DECLINED = "gateway.quick_lane.declined"
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Answer:
    """What a lane handler answers: a status and a body of ``mimetype``."""

    status: int
    body: str = ""
    mimetype: str = "text/html"


#: A route's handler: the app, the query's arguments and the form; None declines.
Handler = Callable[[Flask, MultiDict[str, str], MultiDict[str, str]], Answer | None]


def declined(environ: Mapping[str, Any]) -> bool:
    """Whether the lane already ran this request's quick path and it declined: the view
    goes straight to its general path instead of trying the same statements again."""
    return bool(environ.get(DECLINED))


def _form(body: bytes) -> MultiDict[str, str] | None:
    """The form as werkzeug parses a form-encoded body, or None when it is not UTF-8."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    return MultiDict(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))


#: What the app does before any request it serves (the lane does it before a handler).
OnRequest = Callable[[Flask], None]


def _nothing(_app: Flask) -> None:
    return None


class QuickLane:
    """WSGI middleware serving ``routes`` (path → handler) ahead of ``app``'s own
    ``wsgi_app`` (``inner``), calling ``on_request`` before a handler as the app's own
    hook would before a view; see the module's description."""

    def __init__(
        self,
        app: Flask,
        inner: WSGIApplication,
        routes: Mapping[str, Handler],
        on_request: OnRequest = _nothing,
    ):
        self.app = app
        self.inner = inner
        self.routes = dict(routes)
        self.on_request = on_request
        settings = app.extensions["settings"]
        self.settings = settings
        self.base = settings.public_base_url
        public_https = (self.base or "").startswith("https://")
        self.headers = {
            scheme: security_headers.headers_for(public_https or scheme == "https")
            for scheme in ("http", "https")
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        handler = self.routes.get(path)
        if handler is None or environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        started = time.perf_counter()
        parsed = self._parse(environ)
        if parsed is None:
            return self.inner(environ, start_response)
        args, form = parsed
        request_id = request_log.request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        token = request_id_var.set(request_id)
        try:
            answer = self._answer(handler, environ, args, form)
            if answer is not None:
                payload = self._start(environ, start_response, answer, request_id)
                request_log.record("POST", path, path, answer.status, started)
        finally:
            request_id_var.reset(token)
        if answer is None:
            environ["HTTP_X_REQUEST_ID"] = request_id  # the view logs under the same id
            return self.inner(environ, start_response)
        return [payload] if payload else []

    def _body(self, environ: WSGIEnvironment) -> bytes | None:
        """The request body, read and kept in the environ for Flask; None when the lane
        leaves the request alone."""
        if not (environ.get("CONTENT_TYPE") or "").startswith(_FORM):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        if length < 0 or (limit is not None and length > limit):
            return None
        body: bytes = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return body

    def _parse(
        self, environ: WSGIEnvironment
    ) -> tuple[MultiDict[str, str], MultiDict[str, str]] | None:
        """The query's arguments and the form of a request signed by Twilio, or None for
        Flask to serve."""
        if self.base is None:
            return None
        body = self._body(environ)
        if body is None:
            return None
        form = _form(body)
        if form is None:
            return None
        query = environ.get("QUERY_STRING", "")
        url = public_url_of(self.base, environ["PATH_INFO"], query)
        try:
            owners = owners_of(self.app).get()
        except SQLAlchemyError:
            return None  # the store is down: the view answers as it does then (503)
        token = webhook_token(self.settings, owners, form)
        signature = environ.get("HTTP_X_TWILIO_SIGNATURE", "")
        if token is None or not signature_matches(token, url, form, signature):
            return None  # the view refuses it (403) and logs why
        return MultiDict(parse_qsl(query, keep_blank_values=True)), form

    def _answer(
        self,
        handler: Handler,
        environ: WSGIEnvironment,
        args: MultiDict[str, str],
        form: MultiDict[str, str],
    ) -> Answer | None:
        """The handler's answer; None, the request marked :data:`DECLINED`, when it
        declines or fails (logged)."""
        self.on_request(self.app)
        try:
            answer = handler(self.app, args, form)
        except Exception:
            log.exception("quick lane: %s failed; the view serves it", environ["PATH_INFO"])
            answer = None
        if answer is None:
            environ[DECLINED] = True
        return answer

    def _start(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        answer: Answer,
        request_id: str,
    ) -> bytes:
        """Start the response to ``answer``; its body, encoded."""
        payload = answer.body.encode()
        headers = [("Content-Type", get_content_type(answer.mimetype, "utf-8"))]
        if answer.status != 204:
            headers.append(("Content-Length", str(len(payload))))
        headers.append((request_log.HEADER, request_id))
        https = environ.get("wsgi.url_scheme") == "https"
        headers.extend(self.headers["https" if https else "http"])
        start_response(f"{answer.status} {HTTP_STATUS_CODES[answer.status].upper()}", headers)
        return payload


def install(app: Flask, routes: Mapping[str, Handler], on_request: OnRequest = _nothing) -> None:
    """Serve ``routes`` through the lane, inside any middleware installed after this;
    ``on_request`` stands in for the app's hook that runs before every request (the
    in-process sweeper's start)."""
    app.wsgi_app = QuickLane(  # type: ignore[method-assign]
        app, app.wsgi_app, routes, on_request
    )
