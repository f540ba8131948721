"""Stylesheets, fonts and images served ahead of Flask by WhiteNoise, under fingerprinted
names that browsers keep for a year; the HTML pages compressed by Flask-Compress.

Every file of the app's and its blueprints' static folders is served at its own URL and at
a fingerprinted one, ``name.<digest>.ext``, the digest being the first 12 hex digits of
the SHA-256 of its content. A template's ``url_for`` of a static endpoint gives the
fingerprinted URL, sent as ``immutable`` for a year: a changed file gets a new name, so
no browser keeps a stale copy, and a respondent's next page fetches nothing but its HTML.
The plain URL is kept for a minute. A text file is served from its precompressed ``.br``
or ``.gz`` sibling when the browser accepts that encoding (bench/build_uswds.py writes
them), plain otherwise.

WhiteNoise answers these requests before Flask's hooks run, so the security headers of
:mod:`gateway.http.security_headers` are added here, to every static response (304s and
405s included).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response
from flask_compress import Compress
from whitenoise import WhiteNoise

from gateway.http import security_headers

DIGEST_LENGTH = 12
#: A fingerprinted file name's digest, before its extension.
FINGERPRINTED = re.compile(rf"\.[0-9a-f]{{{DIGEST_LENGTH}}}\.[^./]+$")
#: How long a browser keeps a file asked for by its plain name.
PLAIN_MAX_AGE_SECONDS = 60
#: Encoded alternatives WhiteNoise looks for beside each file (served, never listed).
ENCODED_SUFFIXES = (".br", ".gz")
#: Flask-Compress on the HTML pages only (every other response is left as it was):
#: brotli when the browser takes it, else gzip; pages under 500 bytes are sent as they are.
#: A page is made for one request, so at the fastest levels: a survey page's 5,021 bytes
#: become 1,860 for no measurable CPU, where Flask-Compress's default brotli level (4)
#: makes 1,535 for 0.18 ms more a page (bench/web_page_cpu.py). The pages are never
#: cached (``no-store``) and carry no validator: no conditional request to weigh.
COMPRESSION = {
    "COMPRESS_REGISTER": False,
    "COMPRESS_MIMETYPES": ["text/html"],
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 1,
    "COMPRESS_LEVEL": 1,
    "COMPRESS_MIN_SIZE": 500,
    "COMPRESS_EVALUATE_CONDITIONAL_REQUEST": False,
}


def digest(content: bytes) -> str:
    """The fingerprint of a file's ``content``."""
    return hashlib.sha256(content).hexdigest()[:DIGEST_LENGTH]


def fingerprinted(name: str, content_digest: str) -> str:
    """``name`` (``dir/file.ext``) with ``content_digest`` before its extension."""
    stem, dot, extension = name.rpartition(".")
    if not dot or "/" in extension or not stem or stem.endswith("/"):
        return f"{name}.{content_digest}"
    return f"{stem}.{content_digest}.{extension}"


@dataclass(frozen=True)
class StaticFolder:
    """A static endpoint of the app: its name, the URL prefix its files are under, and the
    folder they are in."""

    endpoint: str
    prefix: str
    folder: Path

    def files(self) -> Iterator[tuple[str, Path]]:
        """Each file to serve, as (name relative to the folder, path); the encoded
        alternatives are WhiteNoise's to find."""
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and path.suffix not in ENCODED_SUFFIXES:
                yield path.relative_to(self.folder).as_posix(), path


def static_folders(app: Flask) -> list[StaticFolder]:
    """The app's static endpoints (its own and its blueprints') that have a folder."""
    found = []
    for rule in app.url_map.iter_rules():
        blueprint, _, name = rule.endpoint.rpartition(".")
        if name != "static":
            continue
        owner = app.blueprints.get(blueprint) if blueprint else app
        folder = owner.static_folder if owner is not None else None
        if folder is not None and Path(folder).is_dir():
            prefix = rule.rule.removesuffix("<path:filename>")
            found.append(StaticFolder(rule.endpoint, prefix, Path(folder)))
    return found


class StaticFiles(WhiteNoise):
    """WhiteNoise, with the security headers on everything it answers."""

    def __init__(self, application: Any, public_https: bool, **options: Any) -> None:
        super().__init__(application, **options)
        self.added = {
            scheme: security_headers.headers_for(public_https or scheme == "https")
            for scheme in ("http", "https")
        }

    def serve(self, static_file: Any, environ: dict[str, Any], start_response: Any) -> Any:
        added = self.added["https" if environ.get("wsgi.url_scheme") == "https" else "http"]

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers = headers + [(n, v) for n, v in added if n.lower() not in present]
            return start_response(status, headers, exc_info)

        return super().serve(static_file, environ, start)


def _immutable(_path: str, url: str) -> bool:
    return FINGERPRINTED.search(url) is not None


def serve_static(app: Flask, folders: Iterable[StaticFolder]) -> dict[str, dict[str, str]]:
    """Put WhiteNoise in front of the app's WSGI callable, serving each file of ``folders``
    at its plain and its fingerprinted URL; returns, per endpoint, each file's
    fingerprinted name."""
    public = app.extensions["settings"].public_base_url or ""
    server = StaticFiles(
        app.wsgi_app,
        public.startswith("https://"),
        max_age=PLAIN_MAX_AGE_SECONDS,
        allow_all_origins=False,
        immutable_file_test=_immutable,
    )
    names: dict[str, dict[str, str]] = {}
    for folder in folders:
        names[folder.endpoint] = {}
        for name, path in folder.files():
            hashed = fingerprinted(name, digest(path.read_bytes()))
            server.add_file_to_dictionary(folder.prefix + name, str(path))
            server.add_file_to_dictionary(folder.prefix + hashed, str(path))
            names[folder.endpoint][name] = hashed
    app.wsgi_app = server  # type: ignore[method-assign]
    return names


def init_app(app: Flask, page_blueprints: Iterable[str]) -> None:
    """Serve the static folders through WhiteNoise (call once every blueprint is
    registered), make the templates' ``url_for`` give their fingerprinted URLs, and
    compress the HTML pages of ``page_blueprints`` (those registered) for browsers that
    accept it.

    Compression is a hook of those blueprints only: the Twilio webhooks' answers stay as
    the quick lane (:mod:`gateway.twilio.quick_lane`) gives them, header for header."""
    names = serve_static(app, static_folders(app))

    # The templates' url_for, not a URL default of the app's: the views' own URLs (those
    # the quick lane builds without Flask too) are left alone.
    def fingerprinted_url_for(endpoint: str, **values: Any) -> str:
        hashed = names.get(endpoint, {}).get(values.get("filename", ""))
        if hashed is not None:
            values["filename"] = hashed
        return app.url_for(endpoint, **values)

    app.jinja_env.globals["url_for"] = fingerprinted_url_for
    for key, value in COMPRESSION.items():
        app.config.setdefault(key, value)
    compress = Compress(app)

    def compress_page(response: Response) -> Response:
        if response.mimetype != "text/html":
            return response
        compressed: Response = compress.after_request(response)
        return compressed

    for name in page_blueprints:
        if name in app.blueprints:
            app.after_request_funcs.setdefault(name, []).append(compress_page)
