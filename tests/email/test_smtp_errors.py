"""SMTP_URL parsing and how SMTP failures map to retryable or permanent delivery errors."""

from __future__ import annotations

import smtplib

import pytest

from channels.email import SmtpConfig, map_smtp_error


def test_an_smtp_url_gives_host_port_and_credentials() -> None:
    config = SmtpConfig.from_url("smtp://user%40agency:p%3Ass@mail.example.gov:2525")
    assert (config.host, config.port, config.implicit_tls) == ("mail.example.gov", 2525, False)
    assert (config.username, config.password) == ("user@agency", "p:ss")


def test_smtps_means_implicit_tls_on_port_465() -> None:
    config = SmtpConfig.from_url("smtps://mail.example.gov")
    assert (config.port, config.implicit_tls) == (465, True)


def test_an_smtp_url_of_another_scheme_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="smtp:// or smtps://"):
        SmtpConfig.from_url("http://mail.example.gov")


@pytest.mark.parametrize(
    ("exc", "code", "retryable"),
    [
        (smtplib.SMTPRecipientsRefused({"a@b.gov": (450, b"busy")}), "smtp-450", True),
        (smtplib.SMTPRecipientsRefused({"a@b.gov": (550, b"no such user")}), "smtp-550", False),
        (smtplib.SMTPSenderRefused(421, b"closing", "f@b.gov"), "smtp-421", True),
        (smtplib.SMTPDataError(554, b"spam"), "smtp-554", False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), "smtp-535", False),
        (smtplib.SMTPServerDisconnected("gone"), "network", True),
        (ConnectionRefusedError("refused"), "network", True),
        (TimeoutError("slow"), "timeout", True),
    ],
)
def test_smtp_failures_map_to_retryable_or_permanent(
    exc: Exception, code: str, retryable: bool
) -> None:
    error = map_smtp_error(exc)
    assert (error.code, error.retryable) == (code, retryable)
