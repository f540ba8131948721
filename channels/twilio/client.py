"""Twilio's REST API through its helper library: one client constructor and one mapping
of the library's failures to :class:`~channels.base.DeliveryError`, shared by the SMS
sender (:mod:`channels.twilio.sms`) and the call placer (:mod:`channels.twilio.voice`)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from channels.base import DeliveryError
from channels.twilio.errors import OPT_OUT_ERRORS, is_retryable


class RebasedHttpClient(TwilioHttpClient):
    """Sends every request to another origin (a Twilio-compatible provider or test double).

    The helper library builds absolute ``https://api.twilio.com/...`` URLs; only the scheme
    and host are replaced, the path and query are kept.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        base = urlsplit(base_url)
        if not base.scheme or not base.netloc:
            raise ValueError(
                f"TWILIO_API_BASE_URL must be an origin like https://host:port, got {base_url!r}"
            )
        self._scheme = base.scheme
        self._netloc = base.netloc
        self._prefix = base.path.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        original = urlsplit(url)
        url = urlunsplit(
            (self._scheme, self._netloc, self._prefix + original.path, original.query, "")
        )
        return super().request(method, url, *args, **kwargs)


#: Connections to the provider kept open per client (one per sending thread).
CONNECTIONS = 16


def twilio_client(
    account_sid: str, auth_token: str, *, api_base_url: str | None, timeout: float
) -> Client:
    """A helper-library client, sending to ``api_base_url`` when one is set.

    Its HTTP session keeps up to :data:`CONNECTIONS` connections open, so that threads
    sending at once (a batch's chunk) each reuse one instead of opening a new one.
    """
    http_client = (
        RebasedHttpClient(api_base_url, timeout)
        if api_base_url
        else TwilioHttpClient(timeout=timeout)
    )
    if http_client.session is not None:
        for scheme in ("https://", "http://"):
            http_client.session.mount(scheme, HTTPAdapter(pool_maxsize=CONNECTIONS))
    return Client(account_sid, auth_token, http_client=http_client)


@contextmanager
def delivery_errors(permanent: Collection[str] = ()) -> Iterator[None]:
    """Turn the helper library's failures into ``DeliveryError``: Twilio's error codes by
    :func:`~channels.twilio.errors.is_retryable` (and ``permanent``, codes never worth a
    retry), an opt-out code as an opted-out recipient, timeouts and network failures as
    retryable."""
    try:
        yield
    except TwilioRestException as exc:
        code = str(exc.code) if exc.code is not None else f"http-{exc.status}"
        retryable = code not in permanent and is_retryable(code, exc.status)
        raise DeliveryError(code, exc.msg, retryable, opted_out=code in OPT_OUT_ERRORS) from exc
    except requests.Timeout as exc:
        raise DeliveryError("timeout", str(exc), retryable=True) from exc
    except requests.RequestException as exc:
        raise DeliveryError("network", str(exc), retryable=True) from exc
