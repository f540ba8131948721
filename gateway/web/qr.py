"""The in-person kit: a QR code for a flow's public web entry, and a printable poster.

The code points at ``PUBLIC_BASE_URL/f/FLOW?location=CODE``; each scan opens a new
anonymous web survey with ``location`` in its context. The poster also offers the SMS
alternative (the flow's first start keyword and the gateway's number) for people who would
rather text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.flows.model import Flow
from gateway.flows.render import pick_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOCATION_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

#: The poster's words, in each language a flow may offer.
POSTER_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "heading": "How did we do?",
        "scan": "Scan the code with your phone's camera to take a short survey.",
        "visit": "Or go to",
        "text": "Or text {keyword} to {number}.",
        "voluntary": "Voluntary. About {minutes} minutes.",
    },
    "es": {
        "heading": "¿Cómo lo hicimos?",
        "scan": "Escanee el código con la cámara de su teléfono para responder una breve encuesta.",
        "visit": "O visite",
        "text": "O envíe {keyword} por mensaje de texto al {number}.",
        "voluntary": "Voluntaria. Unos {minutes} minutos.",
    },
}


def check_location(code: str) -> str:
    """A location code as printed in URLs: letters, digits, ``_ . -``, at most 64."""
    if not LOCATION_CODE.match(code):
        raise ValueError(
            f"location code {code!r}: use 1 to 64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return code


def entry_url(base_url: str, flow_id: str, location: str) -> str:
    """The public entry URL a QR code opens."""
    query = urlencode({"location": check_location(location)})
    return f"{base_url.rstrip('/')}/f/{quote(flow_id)}?{query}"


@dataclass(frozen=True)
class Kit:
    url: str
    svg: Path
    png: Path
    poster: Path


def write_kit(
    flow: Flow,
    location: str,
    base_url: str,
    out_dir: Path,
    *,
    sms_number: str | None = None,
) -> Kit:
    """Write ``{flow}-{location}.svg``, ``.png`` and ``-poster.html`` into ``out_dir``."""
    url = entry_url(base_url, flow.id, location)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{flow.id}-{location}"
    # Error correction "M" survives a smudge or a bent sheet and keeps the code small.
    code = segno.make(url, error="m", micro=False)
    svg = out_dir / f"{stem}.svg"
    png = out_dir / f"{stem}.png"
    code.save(str(svg), kind="svg", scale=10, border=4, title=f"QR code: {url}")
    code.save(str(png), kind="png", scale=12, border=4)
    inline_svg = code.svg_inline(scale=10, border=4, omitsize=True)

    keyword = flow.start_keywords[0] if flow.start_keywords else None
    languages = [lang for lang in flow.languages if lang in POSTER_TEXT] or ["en"]
    sections = []
    for language in languages:
        words = POSTER_TEXT[language]
        minutes = flow.pra.burden_minutes if flow.pra else None
        sections.append(
            {
                "language": language,
                "title": pick_text(flow.title, language),
                "heading": words["heading"],
                "scan": words["scan"],
                "visit": words["visit"],
                "text": (
                    words["text"].format(keyword=keyword, number=sms_number)
                    if keyword and sms_number
                    else None
                ),
                "voluntary": words["voluntary"].format(minutes=minutes) if minutes else None,
            }
        )
    poster = out_dir / f"{stem}-poster.html"
    poster.write_text(
        _env.get_template("kit/poster.html").render(
            flow=flow,
            url=url,
            qr_svg=inline_svg,
            sections=sections,
            pra=flow.pra,
            language=languages[0],
        ),
        encoding="utf-8",
    )
    return Kit(url=url, svg=svg, png=png, poster=poster)
