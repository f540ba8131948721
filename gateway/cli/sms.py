"""`gateway sms reply`: text the gateway as a respondent would, through its webhook.

The request is signed exactly as Twilio signs it (with the token of the account that owns
the ``--to`` number, read from the database at ``DATABASE_URL``; else ``TWILIO_AUTH_TOKEN``,
or the development token when none is set), so it exercises the real webhook; the
gateway's TwiML reply is printed as plain text.
"""

from __future__ import annotations

import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import click
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from config.settings import Settings
from gateway.agencies.routes import owners
from gateway.store.db import Database
from gateway.twilio.signature import signature_for, webhook_auth_token, webhook_token

INBOUND_PATH = "/twilio/sms"


@click.group("sms")
def sms_group() -> None:
    """Play an SMS respondent against a running gateway."""


@sms_group.command("reply")
@click.option("--from", "from_", required=True, help="The respondent's number, E.164.")
@click.option("--to", default=None, help="The gateway's number (default: TWILIO_PHONE_NUMBER).")
@click.option(
    "--url",
    # The address `gateway run` listens on by default: it too reads PORT.
    default=lambda: f"http://127.0.0.1:{os.environ.get('PORT') or 5000}",
    show_default="http://127.0.0.1:$PORT, PORT 5000 when unset",
    help="Where the gateway listens.",
)
@click.argument("body")
def reply_command(from_: str, to: str | None, url: str, body: str) -> None:
    """Send BODY from --from to the gateway's SMS webhook and print its reply."""
    settings = Settings.from_env()
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
        "From": from_,
        "To": to or settings.twilio_phone_number or "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    token = _signing_token(settings, params)
    if token is None:
        raise click.ClickException("TWILIO_AUTH_TOKEN is not set: cannot sign the request")
    target = url.rstrip("/") + INBOUND_PATH
    # Twilio signs the public URL it called; behind a proxy that is PUBLIC_BASE_URL.
    signed_url = (settings.public_base_url or url.rstrip("/")) + INBOUND_PATH
    request = urllib.request.Request(
        target,
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature_for(token, signed_url, params)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            twiml = response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        raise click.ClickException(
            f"the gateway answered {exc.code}: {exc.read().decode()}"
        ) from exc
    except urllib.error.URLError as exc:
        raise click.ClickException(f"cannot reach the gateway at {url}: {exc.reason}") from exc
    for message in ET.fromstring(twiml).iter("Message"):
        click.echo(message.text or "")


def _signing_token(settings: Settings, params: dict[str, str]) -> str | None:
    """The token of the account owning the number texted, as the gateway will check it;
    the deployment's when the database cannot say."""
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            known = owners(session)
        return webhook_token(settings, known, MultiDict(params))
    except SQLAlchemyError:
        return webhook_auth_token(settings)
    finally:
        database.dispose()
