"""Settings read from the environment (the contract's section 5).

Every setting has an embedded default so that `gateway run` works on a fresh machine:
a SQLite file under ``instance/``, jobs inside the web process, simulated delivery.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from config.vcap import service_url

INSTANCE_DIR = Path(os.environ.get("GATEWAY_INSTANCE_DIR", "instance"))


def _default_database_url() -> str:
    return f"sqlite:///{(INSTANCE_DIR / 'gateway.sqlite3').resolve()}"


@dataclass(frozen=True)
class Settings:
    """The gateway's configuration. Build it with :meth:`from_env`."""

    database_url: str = field(default_factory=_default_database_url)
    redis_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    secret_key_generated: bool = True
    public_base_url: str | None = None
    flows_dir: Path = Path("flows")
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_phone_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str | None = None
    smtp_url: str | None = None
    email_from: str = "feedback@localhost"
    environment: str = "development"
    max_reprompts: int = 2
    queue_prefix: str = ""
    log_format: str = "text"
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        secret = get("SECRET_KEY")
        environment = get("GATEWAY_ENV") or "development"
        vcap = get("VCAP_SERVICES")
        return cls(
            database_url=get("DATABASE_URL")
            or service_url(vcap, "postgres")
            or _default_database_url(),
            redis_url=get("REDIS_URL") or service_url(vcap, "redis"),
            secret_key=secret or secrets.token_hex(32),
            secret_key_generated=secret is None,
            public_base_url=(get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            flows_dir=Path(get("FLOWS_DIR") or "flows"),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_phone_number=get("TWILIO_PHONE_NUMBER"),
            twilio_messaging_service_sid=get("TWILIO_MESSAGING_SERVICE_SID"),
            twilio_api_base_url=(get("TWILIO_API_BASE_URL") or "").rstrip("/") or None,
            smtp_url=get("SMTP_URL"),
            email_from=get("EMAIL_FROM") or "feedback@localhost",
            environment=environment,
            max_reprompts=int(get("MAX_REPROMPTS") or 2),
            queue_prefix=get("QUEUE_PREFIX") or "",
            # JSON lines in production (one object a line for the log drain), text elsewhere.
            log_format=get("LOG_FORMAT") or ("json" if environment == "production" else "text"),
            log_level=get("LOG_LEVEL") or "INFO",
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        return replace(self, **dict(overrides))

    @property
    def twilio_configured(self) -> bool:
        """Real delivery needs both credentials; otherwise delivery is simulated."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"
