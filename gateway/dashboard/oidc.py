"""Staff sign-in through an OpenID Connect provider (Login.gov or an agency's own).

Authorization code flow with PKCE (S256), by Authlib: the provider's discovery document
names its endpoints and keys; the id_token's signature, issuer, audience, expiry and nonce
are checked before its ``email`` is trusted. The email must belong to an existing staff
account (accounts are still made with ``gateway staff create``, which sets the agency and
role); a locked account stays locked. Configured by ``OIDC_ISSUER``, ``OIDC_CLIENT_ID``,
``OIDC_CLIENT_SECRET`` (absent for a public client relying on PKCE alone) and
``OIDC_SCOPES``; without an issuer and client id the routes answer 404.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError
from werkzeug.exceptions import HTTPException

from config.settings import Settings
from gateway.agencies import audit
from gateway.dashboard import sessions
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.store.results_models import StaffMember

bp = Blueprint("dashboard_oidc", __name__, url_prefix="/dashboard/oidc")

EXTENSION = "dashboard_oidc"


def enabled(app: Flask) -> bool:
    return EXTENSION in app.extensions


def _client() -> Any:
    client = current_app.extensions.get(EXTENSION)
    if client is None:
        abort(404)
    return client


def _redirect_uri() -> str:
    settings: Settings = current_app.extensions["settings"]
    path = url_for("dashboard_oidc.callback")
    if settings.public_base_url:
        return settings.public_base_url + path
    return url_for("dashboard_oidc.callback", _external=True)


@bp.errorhandler(HTTPException)
def _error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    return render_template("dashboard/error.html", error=error, title=error.name), status


@bp.get("/login")
def login() -> ResponseReturnValue:
    """Send the browser to the provider; Authlib keeps state, nonce and verifier in the
    session."""
    response: ResponseReturnValue = _client().authorize_redirect(_redirect_uri())
    return response


@bp.get("/callback")
def callback() -> ResponseReturnValue:
    try:
        token = _client().authorize_access_token()
    except OAuthError as exc:
        abort(400, f"The sign-in could not be completed ({exc.error}); start again.")
    except JoseError as exc:  # the id_token's signature or claims did not check out
        abort(400, f"The identity provider's answer could not be verified ({exc.error}).")
    claims = token.get("userinfo") or {}
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is False:
        abort(403, "The identity provider did not give a verified email address.")
    with db_of(current_app).session() as session:
        member = session.scalars(sa.select(StaffMember).where(StaffMember.email == email)).first()
        actor = audit.staff_actor(email)
        locked = member is not None and (
            member.locked_until is not None and utcnow() < member.locked_until
        )
        if member is None or locked:
            agency_id = member.agency_id if member is not None else None
            audit.record(session, "staff.sign_in_failed", actor=actor, agency_id=agency_id)
            session.commit()
            abort(403, f"There is no usable dashboard account for {email}; ask your agency.")
        member.last_login_at = utcnow()
        audit.record(session, "staff.signed_in", actor=actor, agency_id=member.agency_id)
        sessions.sign_in(member)
    return redirect(url_for("dashboard.index"))


def init_app(app: Flask) -> None:
    """Register the routes, and the provider when configured."""
    settings: Settings = app.extensions["settings"]
    app.register_blueprint(bp)
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return
    oauth = OAuth(app)
    client_kwargs = {
        "scope": settings.oidc_scopes,
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": (
            "client_secret_post" if settings.oidc_client_secret else "none"
        ),
    }
    app.extensions[EXTENSION] = oauth.register(
        name="oidc",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
    )
