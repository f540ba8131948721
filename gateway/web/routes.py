"""The web survey pages: ``/s/<token>`` (links from email and SMS), ``/a/<token>`` (answer
links from the email: the question with that answer selected, recorded once confirmed),
``/u/<token>`` (unsubscribe), ``/f/<flow>`` (the public entry behind a poster's QR code)
and ``/r/<token>`` (writing back about a case: :mod:`gateway.web.reply_pages`).

Pages are server-rendered and work without JavaScript. Once a comment of the survey was
read as crisis language, every page of it shows the flow's crisis message
(:func:`gateway.surveys.crisis_replies.crisis_notice`). Every POST carries the survey's
form token and the marker of the screen it was shown on: a forged form gets a 400 page, a
second submission of the same screen changes nothing. A tampered link gets 404, an
expired or finished survey 410, each as a page that says so.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from config.settings import Settings
from gateway.engine.parsing import parse_web
from gateway.engine.types import Event, SessionState
from gateway.flows.catalog import message as engine_message
from gateway.flows.model import Flow
from gateway.flows.registry import FlowRegistry
from gateway.flows.render import render_text
from gateway.http.fixed_window import RateLimiter, rate_limiter
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.surveys.crisis_replies import crisis_notice
from gateway.surveys.input_policy import MAX_QUERY_VALUE, InputRefused, check_fields, clean_reply
from gateway.surveys.lifecycle import apply_event, survey_flow
from gateway.surveys.links import LinkError, Purpose, links_of
from gateway.web import reply_pages
from gateway.web.pages import error_message, question_page, step_marker, strings
from gateway.web.qr import check_location
from gateway.web.rendering import PAGE_LANGUAGES, PageError, render_page, visitor_language
from gateway.web.surveys import (
    closed_reason,
    create_public_survey,
    ensure_started,
    needs_start,
    opt_out_email,
    switch_language,
)

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/web"
)
reply_pages.register(bp)

#: Public entry: surveys one address may start per window (overridable in app.config).
ENTRY_LIMIT = 30
ENTRY_WINDOW_SECONDS = 600


def _now() -> datetime:
    return datetime.now(UTC)


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def _registry() -> FlowRegistry:
    registry: FlowRegistry = current_app.extensions["flows"]
    return registry


def _limiter() -> RateLimiter:
    limiter: RateLimiter | None = current_app.extensions.get("web_entry_limiter")
    if limiter is None:
        settings = _settings()
        limiter = rate_limiter(
            settings.redis_url,
            int(current_app.config.get("WEB_ENTRY_LIMIT", ENTRY_LIMIT)),
            int(current_app.config.get("WEB_ENTRY_WINDOW_SECONDS", ENTRY_WINDOW_SECONDS)),
            prefix=settings.queue_prefix,
        )
        current_app.extensions["web_entry_limiter"] = limiter
    return limiter


#: Form fields a respondent writes: cleaned and kept, never refused.
REPLY_FIELDS = ("answer",)


@bp.before_request
def _check_input() -> None:
    """Every query, path and form value but a reply, once: a 400 page for what no store
    can keep (a respondent's own reply is cleaned instead, where it is read)."""
    try:
        check_fields(request.args.items(multi=True))
        check_fields((name, str(value)) for name, value in (request.view_args or {}).items())
        form = request.form.items(multi=True) if request.method == "POST" else ()
        check_fields((name, value) for name, value in form if name not in REPLY_FIELDS)
    except InputRefused as exc:
        raise PageError(400, "bad_request") from exc


@bp.errorhandler(PageError)
def _page_error(error: PageError) -> Response:
    language = error.language or visitor_language()
    words = strings(language)
    params = {"minutes": max(1, -(-(error.retry_after or 60) // 60))}
    response = render_page(
        "web/message.html",
        language=language,
        status=error.status,
        heading=words.message(f"pages.{error.name}_heading"),
        body=words.message(f"pages.{error.name}_body", **params),
        alert="warning" if error.status >= 400 else None,
        return_url=error.return_url,
    )
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    name = {400: "bad_request", 404: "not_found", 410: "closed"}.get(status, "bad_request")
    return _page_error(PageError(status, name))


# -- links ------------------------------------------------------------------------------


def _survey_for(
    session: Session, purpose: Purpose, token: str, *, lock: bool = False
) -> tuple[Survey, str]:
    """The survey a link names, with its signed survey token; PageError when unusable."""
    links = links_of(current_app)
    try:
        link = links.read(purpose, token, _now())
    except LinkError as exc:
        raise PageError(410 if exc.reason == "expired" else 404, exc.reason) from exc
    survey = session.get(Survey, link.survey_id, with_for_update=lock)
    if survey is None:
        raise PageError(404, "not_found")
    return survey, links.make("survey", survey.id, survey.expires_at)


def _refuse_closed(survey: Survey) -> None:
    reason = closed_reason(survey, _now())
    if reason is None:
        return
    language = survey.language
    if reason == "finished":
        raise PageError(410, "finished", language=language)
    raise PageError(410, reason, language=language)


def _language_links(flow: Flow, url: str) -> list[tuple[str, str, str]]:
    return [
        (code, strings(code).message("site.language_name"), f"{url}?lang={code}")
        for code in flow.languages
        if code in PAGE_LANGUAGES
    ]


def _show_question(
    session: Session,
    survey: Survey,
    flow: Flow,
    token: str,
    *,
    submitted: str | list[str] | None = None,
    error: str | None = None,
    chosen: str | None = None,
) -> Response:
    state = SessionState.from_dict(survey.state)
    page = question_page(flow, state, submitted=submitted, error=error, chosen=chosen)
    action = url_for("web.survey", token=token)
    language = state.language or flow.default_language
    return render_page(
        "web/question.html",
        language=language,
        flow=flow,
        languages=_language_links(flow, action),
        page=page,
        action=action,
        csrf_token=links_of(current_app).csrf_token(survey.id),
        crisis_notice=crisis_notice(session, survey, flow, language),
    )


@bp.get("/s/<token>")
def survey(token: str) -> ResponseReturnValue:
    """The question the survey is at (starting it on the first visit). A visit to a survey
    under way only reads."""
    asked = request.args.get("lang")
    with db_of(current_app).session() as session:
        survey, _ = _survey_for(session, "survey", token)
        _refuse_closed(survey)
        flow = survey_flow(survey)
        if asked or needs_start(survey, flow):
            # Only a first visit or a change of language writes: read again under the
            # row's lock, so that two first visits start the survey once.
            session.refresh(survey, with_for_update=True)
            _refuse_closed(survey)
            ensure_started(session, survey, flow, now=_now())
            if asked:
                switch_language(survey, flow, asked)
                return redirect(url_for("web.survey", token=token), 303)
        state = SessionState.from_dict(survey.state)
        if state.phase == "done":
            return redirect(url_for("web.done", token=token), 303)
        return _show_question(session, survey, flow, token)


@bp.post("/s/<token>")
def answer(token: str) -> ResponseReturnValue:
    """Record the answer on the form (or go back, or skip) and show the next question."""
    here = url_for("web.survey", token=token)
    with db_of(current_app).session() as session:
        survey, _ = _survey_for(session, "survey", token, lock=True)
        if not links_of(current_app).csrf_valid(survey.id, request.form.get("csrf_token")):
            raise PageError(400, "bad_request", language=survey.language, return_url=here)
        _refuse_closed(survey)
        flow = survey_flow(survey)
        state = SessionState.from_dict(survey.state)
        if state.phase != "question" or request.form.get("step") != step_marker(state):
            # A resubmitted or outdated screen: show where the survey really is.
            return redirect(here, 303)
        question = flow.questions[state.index]
        action = request.form.get("action", "next")
        if action == "back":
            event = Event("back")
        elif action == "skip" and question.optional:
            event = Event("text", None)
        else:
            value: str | list[str] | None
            if question.type == "choice" and question.multiple:
                value = [clean_reply(v, MAX_QUERY_VALUE) for v in request.form.getlist("answer")]
            else:
                value = clean_reply(request.form.get("answer") or "").strip() or None
            parsed = parse_web(question, value)
            if not parsed.ok:
                error = error_message(question, parsed, value, state.language or "en")
                return _show_question(session, survey, flow, token, submitted=value, error=error)
            event = Event("text", value)
        apply_event(session, survey, event, now=_now(), max_reprompts=_settings().max_reprompts)
        if survey.status == "completed":
            return redirect(url_for("web.done", token=token), 303)
    return redirect(here, 303)


@bp.get("/s/<token>/done")
def done(token: str) -> ResponseReturnValue:
    """The thank-you page right after the last answer."""
    with db_of(current_app).session() as session:
        survey, _ = _survey_for(session, "survey", token)
        if survey.status != "completed":
            _refuse_closed(survey)
            return redirect(url_for("web.survey", token=token), 303)
        flow = survey_flow(survey)
        language = survey.language
        outro = (
            render_text(flow.outro, language, survey.context)
            if flow.outro
            else engine_message(language, "outro_default")
        )
        words = strings(language)
        return render_page(
            "web/message.html",
            language=language,
            flow=flow,
            heading=words.message("survey.done_heading"),
            body=f"{outro} {words.message('survey.done_close')}",
            alert="success",
            crisis_notice=crisis_notice(session, survey, flow, language),
        )


@bp.get("/a/<token>")
def one_click(token: str) -> ResponseReturnValue:
    """An answer link from the email: the question it answers, with that answer selected.

    Nothing is recorded here: mail gateways and link scanners fetch every link of an
    email, so a GET only shows the page, and the answer is recorded by the page's form
    (with its form token) when the respondent continues.
    """
    with db_of(current_app).session() as session:
        links = links_of(current_app)
        survey, survey_token = _survey_for(session, "answer", token, lock=True)
        _refuse_closed(survey)
        link = links.read("answer", token, _now())
        flow = survey_flow(survey)
        ensure_started(session, survey, flow, now=_now())
        state = SessionState.from_dict(survey.state)
        # Only while the survey still waits at that question: a link clicked after the
        # survey moved on shows where it really is, never an earlier answer to overwrite.
        if state.phase == "question" and flow.questions[state.index].id == link.question_id:
            question = flow.questions[state.index]
            chosen = link.value if parse_web(question, link.value).ok else None
            return _show_question(session, survey, flow, survey_token, chosen=chosen)
        if survey.status == "completed":
            return redirect(url_for("web.done", token=survey_token), 303)
    return redirect(url_for("web.survey", token=survey_token), 303)


@bp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> ResponseReturnValue:
    """Stop survey emails to the survey's address: a confirmation page, then the opt-out
    (also as the one-click POST mail providers send for ``List-Unsubscribe-Post``)."""
    links = links_of(current_app)
    with db_of(current_app).session() as session:
        survey, _ = _survey_for(session, "unsubscribe", token)
        language = survey.language
        flow = survey_flow(survey)
        address = survey.contact
        if request.method == "GET":
            return render_page(
                "web/unsubscribe.html",
                language=language,
                flow=flow,
                address=address,
                action=url_for("web.unsubscribe", token=token),
                csrf_token=links.csrf_token(survey.id),
            )
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        if not one_click and not links.csrf_valid(survey.id, request.form.get("csrf_token")):
            raise PageError(400, "bad_request", language=language)
        if survey.contact_hash is None:
            raise PageError(404, "not_found", language=language)
        scope = current_app.extensions["settings"].opt_out_scope
        opt_out_email(
            session,
            survey.contact_hash,
            now=_now(),
            agency_id=survey.agency_id if scope == "agency" else None,
        )
        words = strings(language)
        return render_page(
            "web/message.html",
            language=language,
            flow=flow,
            heading=words.message("pages.unsubscribed_heading"),
            body=words.message("pages.unsubscribed_body", address=address),
            alert="success",
        )


@bp.get("/f/<flow_id>")
def public_entry(flow_id: str) -> ResponseReturnValue:
    """A poster's QR code: start a new anonymous web survey at this location."""
    flow = _registry().get(flow_id)
    if flow is None or "web" not in flow.channels:
        raise PageError(404, "not_found")
    language = visitor_language(flow.languages)
    if flow.pra is not None and flow.pra.expired(_now().date()):
        raise PageError(410, "closed", language=language)
    location = request.args.get("location") or None
    if location is not None:
        try:
            check_location(location)
        except ValueError as exc:
            raise PageError(404, "invalid", language=language) from exc
    retry_after = _limiter().hit(f"entry:{request.remote_addr or 'unknown'}")
    if retry_after is not None:
        raise PageError(429, "too_many", language=language, retry_after=retry_after)
    with db_of(current_app).session() as session:
        survey = create_public_survey(session, flow, location, language, now=_now())
        token = links_of(current_app).make("survey", survey.id, survey.expires_at)
    return redirect(url_for("web.survey", token=token), 303)
