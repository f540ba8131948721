"""The survey pages' layout: a page rendered in the respondent's language, and the
exception that ends a request with a friendly page instead."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from gateway.flows.model import Flow
from gateway.flows.render import pick_text
from gateway.web.pages import strings

PAGE_LANGUAGES = ("en", "es")


class PageError(Exception):
    """Ends a request with a friendly page: a heading and a sentence from the catalog."""

    def __init__(
        self,
        status: int,
        name: str,
        *,
        language: str | None = None,
        retry_after: int | None = None,
        return_url: str | None = None,
    ) -> None:
        super().__init__(name)
        self.status = status
        self.name = name
        self.language = language
        self.retry_after = retry_after
        self.return_url = return_url


def visitor_language(offered: tuple[str, ...] = PAGE_LANGUAGES) -> str:
    asked = request.args.get("lang")
    if asked in offered:
        return asked
    return request.accept_languages.best_match(offered) or offered[0]


def render_page(
    template: str,
    *,
    language: str,
    flow: Flow | None = None,
    status: int = 200,
    languages: list[tuple[str, str, str]] | None = None,
    **values: Any,
) -> Response:
    """A page in the survey layout, in ``language``."""
    words = strings(language)
    title = pick_text(flow.title, language) if flow else words.message("site.banner")
    agency = flow.agency if flow else None
    html = render_template(
        template,
        lang=language,
        t=words.message,
        site_title=title,
        title=title,
        languages=languages,
        footer=words.message("site.footer", agency=agency) if agency else "",
        **values,
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
