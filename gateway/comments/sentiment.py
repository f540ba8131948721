"""Whether a comment is negative, neutral or positive, in English and Spanish.

A lexicon of words and stems with a weight each; a negation ("not", "never", "no",
"nunca") flips the weight of the next three words, an intensifier ("very", "muy")
multiplies the next one, and what follows "but" / "pero" counts half again as much (it is
usually the point). The words that decided are returned with the label, so staff can see
why. Weights are small whole numbers, so a reader can argue with any of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Sentiment = Literal["negative", "neutral", "positive"]

_POSITIVE_WORDS = """
good great excellent awesome amazing wonderful fantastic perfect perfectly easy easier
helpful friendly polite courteous kind nice patient professional quick quickly fast
efficient smooth smoothly thanks thank thankful grateful appreciate appreciated love loved
happy pleased satisfied best better clear organized knowledgeable respectful pleasant
painless resolved solved fixed outstanding superb impressed recommend glad awesome
seamless simple straightforward welcoming caring sweet lovely helped kudos terrific
bueno buena buenos buenas excelente excelentes genial perfecto perfecta facil faciles
rapido rapida rapidos rapidas amable amables atento atenta atentos atentas gracias
agradecido agradecida agradezco contento contenta satisfecho satisfecha feliz mejor
claro clara organizado organizada profesional respetuoso respetuosa resuelto resolvieron
solucionaron ayudaron ayudo maravilloso maravillosa increible eficiente eficientes
encanto encantada encantado recomiendo agil paciente pacientes simpatico simpatica
lindo linda bien rock rocks improvement improved justo justa fair educado educada
respetuosos respetuosas impresionante impressed lucio agradezco util
"""
_NEGATIVE_WORDS = """
bad terrible horrible awful worst worse poor poorly rude slow slowly long forever
confusing confused frustrating frustrated frustration annoying annoyed angry upset
unhelpful unprofessional disrespectful useless ridiculous unacceptable disappointed
disappointing disappointment waste wasted broken error errors crashed crash lost
impossible difficult hard complicated mess nightmare joke incompetent lazy ignored
mean nasty condescending dirty crowded chaos chaotic hate hated never
complaint complaints fail failed failure unfair wrong denied rejected crashing crashes
refused refuse cancelled canceled missing mistake mistakes invalid dead meh smh ugh
biased discriminated criminal abused aggressive afraid scared killing died death die
boredom suicidal hurt threatened beats hits abuse dropped scream lost deny
disconnected nobody nothing stuck sucks sucked pathetic shameful disgusting yelled
hung unresolved delay delayed delays expensive overcharged annoyingly painful
malo mala malos malas terrible terribles horrible horribles pesimo pesima peor lento
lenta lentos lentas grosero grosera groseros groseras confuso confusa frustrante
frustrado frustrada enojado enojada molesto molesta inutil ridiculo ridicula
inaceptable decepcionado decepcionada perdida perdi error errores imposible dificil
complicado complicada desastre burla incompetente incompetentes flojos ignoraron
sucio sucia odio nunca queja quejas fallo injusto injusta caia cayo ignoro perdieron
vueltas descompuesto discriminada discriminado criminal eternidad cancelaron descortes
muerta muerto morir matar matarme suicidarme suicidas pega golpea amenazo maltrata
decepcion miedo temo gritar agresivo prejuicios vencio bloqueado rechazaron
negaron rechazaron colgaron nadie nada atorado verguenza asco gritaron grito
irrespetuoso irrespetuosa demora demoraron caro cara tardaron tardo eterno eterna
mal
"""
_STRONG = {
    "terrible": -2,
    "horrible": -2,
    "awful": -2,
    "worst": -3,
    "nightmare": -2,
    "unacceptable": -2,
    "ridiculous": -2,
    "useless": -2,
    "pathetic": -2,
    "disgusting": -2,
    "pesimo": -2,
    "pesima": -2,
    "peor": -2,
    "desastre": -2,
    "inaceptable": -2,
    "excellent": 2,
    "amazing": 2,
    "wonderful": 2,
    "fantastic": 2,
    "outstanding": 2,
    "superb": 2,
    "excelente": 2,
    "maravilloso": 2,
    "maravillosa": 2,
    "increible": 2,
    "best": 2,
    "perfect": 2,
    "perfecto": 2,
    "perfecta": 2,
}
_PHRASES: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern), weight)
    for pattern, weight in (
        (r"\btook forever\b|\bwaste of (?:my )?time\b|\bperdida de tiempo\b", -2),
        (r"\bfor hours\b|\bhours? (?:and hours|on hold|in line)\b|\btoda la manana\b", -1),
        (r"\btodo el dia\b|\ball day\b|\bhung up on me\b|\bme colgaron\b", -1),
        (r"\bnever (?:again|got|received|heard)\b|\bnunca (?:me )?(?:llego|contestaron)\b", -1),
        (r"\bin and out\b|\bno (?:wait|line)\b|\bsin (?:espera|fila)\b|\bright away\b", 2),
        (r"\bgot what i needed\b|\blo que necesitaba\b|\bthank you\b|\bmuchas gracias\b", 1),
        (r"\bno complaints?\b|\bsin quejas?\b|\bnot bad\b|\bno problems?\b|\bsin problemas?\b", 2),
        (r"\bcould(?:n'?t| not) have been better\b|\bno pudo ser mejor\b", 2),
        (r"\bsaved my life\b|\bme salvo (?:la vida|el dia)\b|\blifesaver\b", 2),
        (r"\bturned away\b|\btoo much\b|\bmala cara\b|\bse corto\b|\bhad to\b|\btuve que\b", -1),
        (r"\bstill (?:waiting|no|not|have not|haven'?t|havent)\b|\bsigo esperando\b", -1),
        (r"\b\d+ (?:hours?|hrs?|horas)\b|\b(?:hours?|horas) (?:en|in|on)\b|\btransferred\b", -0.5),
        (r"\bme transfirieron\b|\bwhy (?:do|did|does|is)\b|\bpor que (?:tengo|mandaron)\b", -0.5),
    )
)
_NEGATORS = frozenset(
    """not no never nobody none nothing neither nor hardly barely cannot cant dont didnt
    doesnt isnt wasnt werent wont wouldnt couldnt shouldnt havent hasnt hadnt aint
    nunca jamas ni nada nadie sin tampoco""".split()
)
_INTENSIFIERS = frozenset(
    "very so really super extremely incredibly totally too truly muy tan super demasiado "
    "bastante sumamente realmente re bien".split()
)
_CONTRAST = frozenset(("but", "however", "although", "though", "pero", "aunque", "sino"))
_TOKENS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_LEXICON: dict[str, int] = {
    **{word: 1 for word in _POSITIVE_WORDS.split()},
    **{word: -1 for word in _NEGATIVE_WORDS.split()},
    **_STRONG,
}
# Phrases that contain a negator but read as positive are scored by _PHRASES; their words
# are not scored again (so "no complaints" is +2, not +2 and then "no" flipping "complaints").
_PHRASE_WORDS = re.compile(
    r"\bno complaints?\b|\bsin quejas?\b|\bnot bad\b|\bno problems?\b|\bsin problemas?\b|"
    r"\bno (?:wait|line)\b|\bsin (?:espera|fila)\b|\bnever (?:again|got|received|heard)\b|"
    r"\bnunca (?:me )?(?:llego|contestaron)\b|\bcould(?:n'?t| not) have been better\b"
)


@dataclass(frozen=True, slots=True)
class SentimentReading:
    label: Sentiment
    score: float
    #: The words and phrases that counted, with their weights after negation.
    evidence: tuple[tuple[str, float], ...]


def read_sentiment(folded: str) -> SentimentReading:
    """The sentiment of ``folded`` text (:func:`gateway.comments.text.fold`)."""
    evidence: list[tuple[str, float]] = []
    for pattern, weight in _PHRASES:
        for match in pattern.finditer(folded):
            evidence.append((match.group(0), float(weight)))
    rest = _PHRASE_WORDS.sub(" ", folded)
    negated = 0
    pending: str | None = None
    boost = 1.0
    after_contrast = 1.0
    for raw in _TOKENS.findall(rest):
        token = raw.replace("'", "")
        if token in _CONTRAST:
            after_contrast = 1.5
            negated = 0
            continue
        if token in _NEGATORS:
            if pending and not negated:
                evidence.append((pending, -0.5))
            negated = 3
            pending = token
            if token in _LEXICON:
                evidence.append((token, _LEXICON[token] * after_contrast))
            continue
        if token in _INTENSIFIERS and token not in _LEXICON:
            boost = 1.5
            continue
        found = _LEXICON.get(token)
        if found is not None:
            weight = float(found)
            value = weight * boost * after_contrast
            if negated:
                value = -value * (0.5 if value < 0 else 1.0)
                token = f"not {token}"
                pending = None
            evidence.append((token, value))
        boost = 1.0
        if negated:
            negated -= 1
            if not negated and pending:
                # A negation that flipped nothing ("couldn't get in", "no ramp") is a
                # complaint more often than not.
                evidence.append((pending, -0.5))
                pending = None
    if pending:
        evidence.append((pending, -0.5))
    score = sum(weight for _, weight in evidence)
    if score >= 0.5:
        label: Sentiment = "positive"
    elif score <= -0.5:
        label = "negative"
    else:
        label = "neutral"
    return SentimentReading(label, score, tuple(evidence))
