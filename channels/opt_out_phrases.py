"""Opt-out requests in plain words, in English and Spanish.

The FCC's 2024 consent rule (47 CFR 64.1200(a)(10)) makes any reasonable way of saying
"stop" a revocation, not only the carrier keywords. A whole message that is one of these
requests (ignoring case, accents, punctuation and a trailing "please" or "thanks") opts
the number out, as does a keyword said twice ("STOP STOP"), spelled out ("S T O P",
"S.T.O.P.") or with its letters held ("STOPP", "STOOOP"), and "halt", "quit it", "end it".
The phrases are anchored to the whole message so that an answer which merely contains
"stop" ("the line did not stop moving") is still an answer.
"""

from __future__ import annotations

import re
import unicodedata

_POLITE = r"(?: (?:PLEASE|PLZ|PLS|THANKS|THANK YOU|POR FAVOR|GRACIAS))*"
_NOW = r"(?: (?:NOW|ANYMORE|ANY MORE|AGAIN|EVER|FOREVER|YA|NUNCA MAS|MAS))*"
_MESSAGES = r"(?:MESSAGES?|MSGS?|TEXTS?|TEXT MESSAGES?|SMS|SURVEYS?|CALLS?)"
_SEND = r"(?:TEXT|TEXTING|MESSAGE|MESSAGING|CONTACT|CONTACTING|SEND|SENDING|CALL|CALLING)"
_MENSAJES = r"(?:MENSAJES?|TEXTOS?|SMS|ENCUESTAS?|LLAMADAS?)"
_ENVIAR = r"(?:ENVIEN|MANDEN|ESCRIBAN|ENVIE|MANDE|ESCRIBA|LLAMEN|CONTACTEN)"
_STOP_WORD = r"(?:STOP|QUIT|END|CANCEL|UNSUBSCRIBE|OPT OUT|OPTOUT|REVOKE|HALT)"
_PARAR = r"(?:PARAR|PARE|PAREN|ALTO|BASTA|CANCELAR|DETENER|BAJA|DARME DE BAJA)"

ENGLISH = (
    rf"(?:PLEASE )?{_STOP_WORD}(?: {_STOP_WORD})*(?: IT)?{_POLITE}",
    rf"(?:PLEASE )?(?:STOP|QUIT|DONT|DO NOT|NEVER) {_SEND}(?: ME)?(?: {_MESSAGES})?{_NOW}",
    rf"(?:PLEASE )?NO MORE {_MESSAGES}{_NOW}",
    r"(?:PLEASE )?(?:UNSUBSCRIBE|REMOVE|OPT) ME(?: OUT)?(?: FROM (?:THIS|THE|YOUR) LIST)?",
    r"(?:I )?(?:WANT TO|WOULD LIKE TO) (?:STOP|UNSUBSCRIBE|OPT OUT)",
    r"LEAVE ME ALONE",
)
SPANISH = (
    rf"(?:POR FAVOR )?(?:YA )?NO (?:ME )?{_ENVIAR}(?: MAS)?(?: {_MENSAJES})?{_NOW}",
    rf"(?:POR FAVOR )?(?:YA )?NO (?:QUIERO )?(?:MAS|RECIBIR(?: MAS)?) {_MENSAJES}{_NOW}",
    rf"(?:POR FAVOR )?(?:DEJEN|DEJE) DE (?:ENVIARME|MANDARME|ESCRIBIRME|LLAMARME)"
    rf"(?: {_MENSAJES})?{_NOW}",
    rf"(?:POR FAVOR )?{_PARAR}(?: {_PARAR})*",
)
_PATTERNS = tuple(
    (re.compile(rf"{phrase}{_POLITE}"), language)
    for phrases, language in ((ENGLISH, "en"), (SPANISH, "es"))
    for phrase in phrases
)


def fold(body: str) -> str:
    """Upper case, accents and punctuation removed, apostrophes dropped ("don't" is DONT),
    spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", body)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"['’`]", "", plain.upper())
    return " ".join(re.sub(r"[^A-Z0-9 ]+", " ", plain).split())


#: A word spelled out letter by letter ("S T O P", and "S.T.O.P." once folded).
_SPELLED = re.compile(r"(?:[A-Z] )+[A-Z]")
#: "STOP" with letters held down or doubled ("STOPP", "STOOOP", "SSTOP").
_HELD_STOP = re.compile(r"\bS+T+O+P+\b")


def opt_out_request(body: str) -> str | None:
    """The language (``en`` or ``es``) of the opt-out request the message is, or None."""
    text = fold(body)
    if _SPELLED.fullmatch(text):
        text = text.replace(" ", "")
    text = _HELD_STOP.sub("STOP", text)
    for pattern, language in _PATTERNS:
        if pattern.fullmatch(text):
            return language
    return None
