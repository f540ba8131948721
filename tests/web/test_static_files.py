"""Stylesheets, fonts and images: fingerprinted URLs cached for a year as immutable, sent
brotli- or gzip-encoded to a browser that accepts it and plain to one that does not, with
the security headers; the committed compressed copies match their files; the HTML pages
are compressed too."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.http.security_headers import CONTENT_SECURITY_POLICY
from gateway.http.static_files import (
    ENCODED_SUFFIXES,
    digest,
    fingerprinted,
    static_folders,
)
from tests.web.support import start_public

FINGERPRINTED_URL = re.compile(r"^/[\w/.-]+\.[0-9a-f]{12}\.(css|png|svg|woff2)$")
IMMUTABLE = re.compile(r"^max-age=(\d+), public, immutable$")
YEAR = 365 * 24 * 3600
CSS_URL = re.compile(r"url\((\.\./[^)]+)\)")
DECODE = {".br": brotli.decompress, ".gz": gzip.decompress}


def _assets(page: TestResponse) -> list[str]:
    html = page.get_data(as_text=True)
    return re.findall(r'<(?:link rel="stylesheet"|img)[^>]*(?:href|src)="([^"]+)"', html)


def _get(client: FlaskClient, url: str, encoding: str | None = None, **kwargs: str) -> TestResponse:
    """GET ``url``, read and closed (a static file's body is an open file until then)."""
    headers = {"Accept-Encoding": encoding} if encoding else {}
    with client.get(url, headers=headers | kwargs) as response:
        response.get_data()
    return response


def _file_for(app: Flask, url: str) -> Path:
    plain = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", url)
    for folder in static_folders(app):
        if plain.startswith(folder.prefix):
            return folder.folder / plain.removeprefix(folder.prefix)
    raise AssertionError(f"{url} is in no static folder")


def test_a_survey_pages_assets_have_fingerprinted_urls_cached_for_a_year(
    app: Flask, client: FlaskClient
) -> None:
    assets = _assets(start_public(client))
    assert len(assets) == 3  # the USWDS subset, the survey's own stylesheet, the flag
    for url in assets:
        assert FINGERPRINTED_URL.match(url), url
        response = _get(client, url)
        assert response.status_code == 200
        cache = IMMUTABLE.match(response.headers["Cache-Control"])
        assert cache is not None and int(cache.group(1)) >= YEAR, url
        content = _file_for(app, url).read_bytes()
        assert response.data == content
        assert digest(content) in url


def test_a_changed_file_gets_another_url() -> None:
    name = "uswds/css/uswds.min.css"
    first, second = fingerprinted(name, digest(b"a")), fingerprinted(name, digest(b"b"))
    assert first != second
    assert re.fullmatch(r"uswds/css/uswds\.min\.[0-9a-f]{12}\.css", first)


@pytest.mark.parametrize(
    ("accepted", "sent"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("br", "br"),
        ("gzip", "gzip"),
        ("gzip, deflate", "gzip"),
        (None, None),
        ("identity", None),
    ],
)
def test_stylesheets_are_sent_encoded_as_the_browser_accepts(
    app: Flask, client: FlaskClient, accepted: str | None, sent: str | None
) -> None:
    for url in _assets(start_public(client))[:2]:
        content = _file_for(app, url).read_bytes()
        response = _get(client, url, accepted)
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == sent, (url, accepted)
        assert "Accept-Encoding" in response.headers["Vary"]
        if sent is None:
            assert response.data == content
        else:
            assert len(response.data) < len(content)
            assert DECODE[{"br": ".br", "gzip": ".gz"}[sent]](response.data) == content
        assert IMMUTABLE.match(response.headers["Cache-Control"])


def test_the_plain_url_of_a_file_is_kept_only_a_minute(client: FlaskClient) -> None:
    response = _get(client, "/static/uswds/css/uswds.min.css", "br")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=60, public"
    assert response.headers["Content-Encoding"] == "br"


def test_static_answers_carry_the_security_headers_revalidations_and_refusals_too(
    client: FlaskClient,
) -> None:
    url = _assets(start_public(client))[0]
    first = _get(client, url, "br")
    again = _get(client, url, **{"If-None-Match": first.headers["ETag"]})
    with client.post(url) as refused:
        pass
    assert (first.status_code, again.status_code, refused.status_code) == (200, 304, 405)
    for response in (first, again, refused):
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_every_url_in_a_stylesheet_is_served_fingerprinted_and_immutable(
    app: Flask, client: FlaskClient
) -> None:
    stylesheets = [url for url in _assets(start_public(client)) if url.endswith(".css")]
    named = []
    for sheet in stylesheets:
        css = _get(client, sheet).get_data(as_text=True)
        for relative in CSS_URL.findall(css):
            url = str(Path(sheet).parent.parent / relative.removeprefix("../"))
            named.append(url)
            response = _get(client, url)
            assert response.status_code == 200, url
            assert IMMUTABLE.match(response.headers["Cache-Control"]), url
            assert response.data == _file_for(app, url).read_bytes()
    assert any(url.endswith(".woff2") for url in named)


def test_each_compressed_copy_holds_its_file(app: Flask) -> None:
    copies = [
        path
        for folder in static_folders(app)
        for path in folder.folder.rglob("*")
        if path.suffix in ENCODED_SUFFIXES
    ]
    assert len(copies) >= 6  # the three stylesheets, each as .br and .gz
    for copy in copies:
        source = copy.with_suffix("")
        assert source.is_file(), f"{copy} has no file beside it"
        assert DECODE[copy.suffix](copy.read_bytes()) == source.read_bytes(), (
            f"{copy} is stale: .venv/bin/python bench/build_uswds.py --compress-only"
        )
    for folder in static_folders(app):
        for sheet in folder.folder.rglob("*.css"):
            assert sheet.with_name(sheet.name + ".br").is_file(), sheet
            assert sheet.with_name(sheet.name + ".gz").is_file(), sheet


def test_the_survey_page_itself_is_compressed_when_asked(client: FlaskClient) -> None:
    page = start_public(client)
    path = page.request.path
    plain = _get(client, path)
    for accepted, sent in (("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), (None, None)):
        response = _get(client, path, accepted)
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == sent
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == "no-store"
        body = response.data
        if sent is not None:
            assert len(body) < len(plain.data) / 2
            body = DECODE[{"br": ".br", "gzip": ".gz"}[sent]](body)
        assert body == plain.data
