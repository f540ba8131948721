"""The page where an email respondent writes back about their case: ``/r/<token>``.

Staff's reply to an email respondent (:mod:`gateway.cases.replies`) links here with a
signed reply link that expires with the reply's answer window. The page shows the
agency's message and a box for the answer; the form's POST (with the survey's form token)
hands the answer to the cases, where it lands as an answer by text does. A GET only
reads: mail gateways and link scanners fetch every link of an email.

The page carries no PRA notice: it asks no survey question, only lets one person answer
the agency's message about their own feedback, after the survey that carried the notice.

The cases sit above the web pages, so they hand this module their :class:`ReplyDesk` when
the app is built (:func:`serve`); an app without one has no reply pages (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from flask import Blueprint, Flask, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.flows.model import Flow
from gateway.store.db import db_of
from gateway.surveys.input_policy import clean_reply
from gateway.surveys.links import Link, LinkError, links_of
from gateway.web.pages import strings
from gateway.web.rendering import PAGE_LANGUAGES, PageError, render_page

#: ``app.extensions`` key of the cases' desk.
DESK_KEY: Final = "reply_desk"
#: The longest answer the page takes; a longer one is shown back with the error.
MAX_ANSWER: Final = 2_000


@dataclass(frozen=True)
class ReplyThread:
    """What the page shows of a case: the flow (its title and languages), the agency's
    name, the respondent's language, the latest reply they were sent, and whether the
    case still takes answers."""

    flow: Flow
    agency: str
    language: str
    message: str | None
    open: bool


@dataclass(frozen=True)
class ReplyDesk:
    """The cases' side of the page: the thread of a survey's case (None without one),
    and the answer landed in it (False when the case no longer takes answers)."""

    thread: Callable[[Session, str, datetime], ReplyThread | None]
    answer: Callable[[Session, str, str, datetime], bool]


def serve(app: Flask, desk: ReplyDesk) -> None:
    """Have ``app``'s reply pages read and answer cases through ``desk``."""
    app.extensions[DESK_KEY] = desk


def _now() -> datetime:
    return datetime.now(UTC)


def _desk() -> ReplyDesk:
    desk: ReplyDesk | None = current_app.extensions.get(DESK_KEY)
    if desk is None:
        raise PageError(404, "not_found")
    return desk


def _link(token: str) -> Link:
    try:
        return links_of(current_app).read("reply", token, _now())
    except LinkError as exc:
        if exc.reason == "expired":
            raise PageError(410, "reply_expired") from exc
        raise PageError(404, "invalid") from exc


def _thread(session: Session, link: Link) -> ReplyThread:
    thread = _desk().thread(session, link.survey_id, _now())
    if thread is None:
        raise PageError(404, "not_found")
    return thread


def _language(thread: ReplyThread) -> str:
    """The respondent's language, or another the flow offers when they chose it."""
    asked = request.args.get("lang")
    if asked in thread.flow.languages and asked in PAGE_LANGUAGES:
        return asked
    return thread.language if thread.language in PAGE_LANGUAGES else "en"


def _here(endpoint: str, token: str, thread: ReplyThread, language: str) -> str:
    lang = language if language != thread.language else None
    return url_for(endpoint, token=token, lang=lang)


def _form(
    token: str,
    link: Link,
    thread: ReplyThread,
    language: str,
    *,
    answer: str = "",
    error: str | None = None,
) -> ResponseReturnValue:
    offered = [c for c in thread.flow.languages if c in PAGE_LANGUAGES]
    return render_page(
        "web/reply.html",
        language=language,
        flow=thread.flow,
        languages=[
            (code, strings(code).message("site.language_name"), f"?lang={code}") for code in offered
        ],
        agency=thread.agency,
        message=thread.message,
        message_language=thread.language,
        action=_here("web.reply_page", token, thread, language),
        csrf_token=links_of(current_app).csrf_token(link.survey_id),
        answer=answer,
        error=error,
        max_length=MAX_ANSWER,
    )


def reply_page(token: str) -> ResponseReturnValue:
    """The agency's message and the form to answer it. Reads only."""
    link = _link(token)
    with db_of(current_app).session() as session:
        thread = _thread(session, link)
    language = _language(thread)
    if not thread.open:
        raise PageError(410, "reply_closed", language=language)
    return _form(token, link, thread, language)


def send_reply(token: str) -> ResponseReturnValue:
    """Land the written answer in the case, then show that it was sent."""
    link = _link(token)
    now = _now()
    with db_of(current_app).session() as session:
        thread = _thread(session, link)
        language = _language(thread)
        if not links_of(current_app).csrf_valid(link.survey_id, request.form.get("csrf_token")):
            here = _here("web.reply_page", token, thread, language)
            raise PageError(400, "bad_request", language=language, return_url=here)
        # Cleaned, never refused: a respondent's words are kept as far as they can be.
        answer = clean_reply(request.form.get("answer") or "").strip()
        words = strings(language)
        if not answer:
            return _form(token, link, thread, language, error=words.message("reply.required"))
        if len(answer) > MAX_ANSWER:
            error = words.message("errors.too_long", max_length=MAX_ANSWER, length=len(answer))
            return _form(token, link, thread, language, answer=answer, error=error)
        if not _desk().answer(session, link.survey_id, answer, now):
            raise PageError(410, "reply_closed", language=language)
    return redirect(_here("web.reply_sent", token, thread, language), 303)


def reply_sent(token: str) -> ResponseReturnValue:
    """The page after an answer was sent."""
    link = _link(token)
    with db_of(current_app).session() as session:
        thread = _thread(session, link)
    language = _language(thread)
    words = strings(language)
    return render_page(
        "web/message.html",
        language=language,
        flow=thread.flow,
        heading=words.message("reply.sent_heading"),
        body=words.message("reply.sent_body"),
        alert="success",
    )


def register(bp: Blueprint) -> None:
    """Add the reply pages to the survey pages' blueprint (its input checks and error
    pages apply to them)."""
    bp.add_url_rule("/r/<token>", view_func=reply_page, methods=["GET"])
    bp.add_url_rule("/r/<token>", endpoint="send_reply", view_func=send_reply, methods=["POST"])
    bp.add_url_rule("/r/<token>/sent", view_func=reply_sent, methods=["GET"])
