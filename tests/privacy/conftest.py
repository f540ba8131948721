"""The email tests' SMTP server, for the surveys these tests run end to end."""

from __future__ import annotations

from tests.email.conftest import smtp_server

__all__ = ["smtp_server"]
