"""Flows built directly from the model for the engine tests."""

from __future__ import annotations

from datetime import date

from gateway.flows.model import Flow, Option, Pra, Question
from gateway.flows.when import parse_when

SATISFIED = Question(
    id="satisfied",
    type="rating",
    prompt={"en": "I am satisfied with the service.", "es": "Estoy satisfecho con el servicio."},
)
WHAT_WENT_WRONG = Question(
    id="what_went_wrong",
    type="choice",
    multiple=True,
    when=parse_when("satisfied <= 2"),
    prompt={"en": "What went wrong?", "es": "¿Qué salió mal?"},
    options=(
        Option("wait", {"en": "Waiting time", "es": "Tiempo de espera"}, "1"),
        Option("staff", {"en": "Staff", "es": "Personal"}, "2"),
        Option("other", {"en": "Something else", "es": "Otra cosa"}, "3"),
    ),
)
ALMOST_DONE = Question(id="almost", type="message", prompt={"en": "Almost done.", "es": "Ya casi."})
MINUTES = Question(
    id="minutes",
    type="number",
    min=0,
    max=600,
    optional=True,
    prompt={"en": "How many minutes did you wait?", "es": "¿Cuántos minutos esperó?"},
)
COMMENT = Question(
    id="comment",
    type="text",
    optional=True,
    max_length=50,
    prompt={"en": "Anything else, {office}?", "es": "¿Algo más, {office}?"},
)
PRA = Pra(omb_control_number="1234-5678", expiration_date=date(2027, 6, 30), burden_minutes=2)


def office_flow(**changes: object) -> Flow:
    fields: dict[str, object] = {
        "id": "office",
        "version": 1,
        "title": {"en": "Office visit", "es": "Visita"},
        "agency": "dmv",
        "questions": (SATISFIED, WHAT_WENT_WRONG, ALMOST_DONE, MINUTES, COMMENT),
        "languages": ("en", "es"),
        "context": ("office",),
        "pra": PRA,
        "intro": {"en": "Thanks for visiting {office}.", "es": "Gracias por visitar {office}."},
        "outro": {"en": "Thank you.", "es": "Gracias."},
    }
    fields.update(changes)
    return Flow(**fields)  # type: ignore[arg-type]
