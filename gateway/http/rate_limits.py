"""Request rate limits: per API key on the agency API, per address on the public pages.

Both use the fixed-window limiter of :mod:`gateway.http.fixed_window` (shared through Redis
when ``REDIS_URL`` is set). A request over its limit is answered 429 with ``Retry-After``:
JSON on the API, a short page elsewhere. Static files and Twilio's webhooks (which come
from Twilio's shared addresses and are signed) are not limited here.
"""

from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from flask.typing import ResponseReturnValue

from gateway.http.errors import ApiError
from gateway.http.fixed_window import RateLimiter, rate_limiter

#: Requests per window, overridable with the app config keys of the same names.
API_RATE_LIMIT = 600
API_RATE_WINDOW_SECONDS = 60
PUBLIC_RATE_LIMIT = 300
PUBLIC_RATE_WINDOW_SECONDS = 60

#: Endpoints a stranger can reach without any credential, limited per address.
PUBLIC_ENDPOINTS = frozenset(
    (
        "web.survey",
        "web.answer",
        "web.done",
        "web.one_click",
        "web.unsubscribe",
        "web.public_entry",
        "web.reply_page",
        "web.send_reply",
        "web.reply_sent",
        "dashboard.login",
    )  # fmt: skip
)


def _limiter(name: str, default_limit: int, default_window: int) -> RateLimiter:
    limiter: RateLimiter | None = current_app.extensions.get(f"rate_limiter.{name}")
    if limiter is None:
        settings = current_app.extensions["settings"]
        limiter = rate_limiter(
            settings.redis_url,
            int(current_app.config.get(f"{name.upper()}_RATE_LIMIT", default_limit)),
            int(current_app.config.get(f"{name.upper()}_RATE_WINDOW_SECONDS", default_window)),
            prefix=f"{settings.queue_prefix}{name}:",
        )
        current_app.extensions[f"rate_limiter.{name}"] = limiter
    return limiter


def limit_api_key() -> None:
    """Count one request for the authenticated key; raise 429 when over its limit."""
    prefix: str = g.api_key_prefix
    retry_after = _limiter("api", API_RATE_LIMIT, API_RATE_WINDOW_SECONDS).hit(prefix)
    if retry_after is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests with this API key; retry in {retry_after} seconds",
            {"retry_after": retry_after},
            {"Retry-After": str(retry_after)},
        )


def _limit_public() -> ResponseReturnValue | None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        return None
    limiter = _limiter("public", PUBLIC_RATE_LIMIT, PUBLIC_RATE_WINDOW_SECONDS)
    retry_after = limiter.hit(request.remote_addr or "unknown")
    if retry_after is None:
        return None
    page = render_template("security/too_many.html", minutes=max(1, round(retry_after / 60)))
    return page, 429, {"Retry-After": str(retry_after)}


def init_app(app: Flask) -> None:
    app.before_request(_limit_public)
