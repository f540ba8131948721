"""The flow's crisis message, given to the respondent where they answer.

- By text: added to the reply to the text that carried crisis language. It goes out the
  way every reply to a text does (the webhook's TwiML, recorded as a reply row of the
  survey), and never to a number that opted out of the agency's texts.
- On the web survey pages (where email-invited respondents answer too): shown at the top
  of every page of the survey after a crisis reading of it was routed, in the page's
  language. It is shown, not sent, so an opt-out does not withhold it.

On the phone the message is not given: a recording's transcription arrives after the
call, so the route (case, webhook, email) is what acts.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.flows.model import Flow
from gateway.store.comment_models import CommentReading
from gateway.store.models import Survey
from gateway.surveys.comment_arrival import routed_in
from gateway.surveys.flow_versions import flow_for_version_id
from gateway.surveys.opt_outs import is_hash_opted_out


def _message(flow: Flow, language: str) -> str | None:
    """The flow's crisis message in ``language`` (else the flow's default), if it has one."""
    route = flow.comments.crisis if flow.comments is not None else None
    if route is None or not route.message:
        return None
    return route.message.get(language) or route.message.get(flow.default_language) or None


def crisis_message(session: Session, survey: Survey) -> list[str]:
    """The flow's crisis message, in the respondent's language, to add to the reply to the
    text that carried crisis language; nothing when the flow has none, no crisis was read
    in this transaction, or the number opted out of the agency's texts."""
    if not routed_in(session, survey.id):
        return []
    text = _message(flow_for_version_id(session, survey.flow_version_id), survey.language)
    if text is None:
        return []
    if is_hash_opted_out(session, survey.contact_hash, survey.agency_id):
        return []
    return [text]


def crisis_notice(session: Session, survey: Survey, flow: Flow, language: str) -> str | None:
    """The flow's crisis message in ``language`` for the survey's web pages, once a crisis
    reading of one of its comments was routed; None otherwise."""
    text = _message(flow, language)
    if text is None:
        return None
    routed = session.scalar(
        sa.select(CommentReading.id)
        .where(CommentReading.survey_id == survey.id, CommentReading.crisis_routed_at.is_not(None))
        .limit(1)
    )
    return text if routed is not None else None
