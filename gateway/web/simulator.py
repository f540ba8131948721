"""The simulator (outside production only): the texts and emails recorded by simulated
delivery, per survey, with a form to reply as the respondent.

A reply goes through :func:`gateway.sms.inbound.handle_inbound`, the same function the
signed Twilio webhook calls, so the simulator exercises the real inbound path. Links in
recorded emails and texts are shown as links, so a developer can open the web survey.
"""

from __future__ import annotations

import dataclasses
import re
import secrets

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape
from sqlalchemy.orm import selectinload

from config.settings import Settings
from gateway.sms.inbound import InboundSms, handle_inbound, reply_options
from gateway.store.db import db_of
from gateway.store.models import Message, Survey, utcnow
from gateway.surveys import messages
from gateway.surveys.links import links_of, survey_link_of
from gateway.web.pages import strings

bp = Blueprint("simulator", __name__, template_folder="templates")

#: Surveys listed, newest first.
LIST_LIMIT = 30
#: The form token of the simulator's own forms (they name no survey).
FORM_ID = "simulator"
URL = re.compile(r"https?://[^\s<>\"]+")
#: The number simulated texts come from when no Twilio number is configured.
SIMULATED_NUMBER = "+15005550006"


def linkify(text: str) -> Markup:
    """``text`` escaped, with its URLs as links."""
    out: list[str] = []
    last = 0
    for match in URL.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        url = escape(match.group(0))
        out.append(f'<a class="usa-link" href="{url}">{url}</a>')
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


@bp.get("/simulator")
def index() -> ResponseReturnValue:
    """Recent surveys and every message recorded for them."""
    with db_of(current_app).session() as session:
        surveys = session.scalars(
            sa.select(Survey)
            .options(selectinload(Survey.messages))
            .order_by(Survey.created_at.desc(), Survey.id.desc())
            .limit(LIST_LIMIT)
        ).all()
        strays = session.scalars(
            sa.select(Message)
            .where(Message.survey_id.is_(None))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(LIST_LIMIT)
        ).all()
        words = strings("en")
        html = render_template(
            "simulator/index.html",
            lang="en",
            t=words.message,
            site_title="Simulator",
            title="Simulator",
            languages=None,
            footer="Simulated delivery: nothing here was sent.",
            surveys=surveys,
            strays=strays,
            linkify=linkify,
            csrf_token=links_of(current_app).csrf_token(FORM_ID),
            number=_settings().twilio_phone_number or SIMULATED_NUMBER,
            sent=request.args.get("sent"),
        )
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.post("/simulator/sms")
def reply() -> ResponseReturnValue:
    """Text the gateway as a phone number, through the SMS webhook's own handler."""
    if not links_of(current_app).csrf_valid(FORM_ID, request.form.get("csrf_token")):
        return Response("The form was out of date. Reload the simulator.\n", 400)
    from_ = (request.form.get("from") or "").strip()
    body = request.form.get("body") or ""
    if not from_ or not body.strip():
        return redirect(url_for("simulator.index", sent="empty"), 303)
    settings = _settings()
    sms = InboundSms(
        sid="SMsim" + secrets.token_hex(14),
        from_=from_,
        to=settings.twilio_phone_number or SIMULATED_NUMBER,
        body=body,
    )
    options = dataclasses.replace(
        reply_options(
            settings,
            now=utcnow(),
            reply_status=messages.SIMULATED,
            survey_link=survey_link_of(current_app),
        ),
        deployment_number=sms.to,  # the simulator plays the deployment's number
    )
    with db_of(current_app).session() as session:
        handle_inbound(session, current_app.extensions["flows"], sms, options)
    return redirect(url_for("simulator.index", sent="1") + "#latest", 303)
