"""A small OpenID Connect provider served on a local port: discovery document, JWKS,
an authorize endpoint that signs in whoever the test names, and a token endpoint that
checks the PKCE verifier and signs an id_token with RS256."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "urn:gov:gsa:openidconnect.profiles:sp:sso:dmv:feedback"


@dataclass
class FakeProvider:
    issuer: str = ""
    email: str = "pat@dmv.example.gov"
    email_verified: bool = True
    #: What the token endpoint was sent, per request.
    token_requests: list[dict[str, str]] = field(default_factory=list)
    grants: dict[str, dict[str, str]] = field(default_factory=dict)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    #: Signs id_tokens instead of ``key`` (which the JWKS still publishes) when set.
    forger: RSAKey | None = None


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def provider_app(provider: FakeProvider) -> Flask:
    app = Flask(__name__)

    @app.get("/.well-known/openid-configuration")
    def discovery() -> ResponseReturnValue:
        return jsonify(
            issuer=provider.issuer,
            authorization_endpoint=f"{provider.issuer}/authorize",
            token_endpoint=f"{provider.issuer}/token",
            jwks_uri=f"{provider.issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["pairwise"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
        )

    @app.get("/jwks")
    def jwks() -> ResponseReturnValue:
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @app.get("/authorize")
    def authorize() -> ResponseReturnValue:
        code = secrets.token_urlsafe(16)
        provider.grants[code] = dict(request.args)
        query = urlencode({"code": code, "state": request.args["state"]})
        return redirect(f"{request.args['redirect_uri']}?{query}")

    @app.post("/token")
    def token() -> ResponseReturnValue:
        form = dict(request.form)
        provider.token_requests.append(form)
        grant = provider.grants.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return jsonify(error="invalid_grant"), 400
        if _challenge(form.get("code_verifier", "")) != grant.get("code_challenge"):
            return jsonify(error="invalid_grant", error_description="PKCE check failed"), 400
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": provider.issuer,
            "sub": "user-1",
            "aud": grant["client_id"],
            "iat": now,
            "exp": now + 300,
            "nonce": grant.get("nonce"),
            "email": provider.email,
            "email_verified": provider.email_verified,
        }
        signer = provider.forger or provider.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, signer)
        return jsonify(
            access_token=secrets.token_urlsafe(16),
            token_type="Bearer",
            expires_in=300,
            id_token=id_token,
        )

    return app


@contextmanager
def serve_provider() -> Iterator[FakeProvider]:
    provider = FakeProvider()
    server = make_server("127.0.0.1", 0, provider_app(provider), threaded=True)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
