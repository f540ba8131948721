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


def _switch(value: str | None, name: str, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("on", "true", "1", "yes"):
        return True
    if value.lower() in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{name} must be on or off, not {value!r}")


def _opt_out_scope(value: str | None) -> str:
    scope = (value or "all").lower()
    if scope not in ("all", "agency"):
        raise ValueError(f"OPT_OUT_SCOPE must be all or agency, not {value!r}")
    return scope


def _read_timeout(value: str | None) -> float:
    if value is None:
        return 15.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 86_400:
        raise ValueError(f"READ_STATEMENT_TIMEOUT must be seconds from 0 to 86400, not {value!r}")
    return seconds


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None


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
    # What a STOP to an agency's number covers (gateway/surveys/opt_outs.py): "all" agencies
    # (the conservative default) or that "agency" alone.
    opt_out_scope: str = "all"
    environment: str = "development"
    max_reprompts: int = 2
    queue_prefix: str = ""
    log_format: str = "text"
    log_level: str = "INFO"
    # Send pacing (docs/operations.md): 0 turns a limit off.
    sms_segments_per_second: float = 1.0
    calls_per_second: float = 1.0
    # Survey calls in progress at once per sender, shared by all workers (gateway/voice/slots.py;
    # 0: no limit), and how long a slot is held when its final status callback never comes.
    max_concurrent_calls: int = 0
    call_slot_lease: float = 1800.0
    # Seconds a text may stay claimed and unsent before its worker is taken for dead
    # (gateway/sending/claims.py); well above one request to Twilio (10 s at most).
    send_claim_timeout: float = 300.0
    # Hold SMS and voice starts to the respondent's daytime (gateway/sending/quiet_hours.py).
    quiet_hours: bool = False
    # OpenID Connect sign-in for staff (e.g. Login.gov); off unless issuer and client are set.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email"
    # Proxies in front of the gateway that append to X-Forwarded-For / -Proto (cloud.gov's
    # router: 1); 0 trusts no such header, so the client address is the connection's.
    trusted_proxy_hops: int = 0
    # Respondents' contacts (docs/privacy.md): AES-GCM keys "<id>:<base64>", primary first,
    # and the HMAC key of lookups; derived from SECRET_KEY when unset, refused in production.
    contact_encryption_keys: str | None = None
    contact_hash_key: str | None = None
    # Days after a survey closes before its contact is erased; 0 keeps contacts.
    contact_retention_days: int = 30
    # Origins ("scheme://host:port") that webhooks and alerts may reach although they are
    # not https to a public address (gateway/services/destinations.py): development only.
    outbound_allowlist: tuple[str, ...] = ()
    # A dashboard session ends when unused this long, and this long after sign-in at most.
    dashboard_idle_minutes: float = 30.0
    dashboard_session_hours: float = 12.0
    # Free-text answers (docs/comments.md): the themes' taxonomy file (None: the shipped
    # taxonomy/default.yaml), and the reader of themes, sentiment and crisis language
    # ("rules", or "package.module:factory").
    comment_taxonomy: Path | None = None
    comment_reader: str = "rules"
    # Seconds one statement of a read-heavy request (a dashboard page, a report, an export)
    # may run on PostgreSQL before it is cancelled (gateway/store/slow_reads.py); 0: no limit.
    read_statement_timeout: float = 15.0

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
            opt_out_scope=_opt_out_scope(get("OPT_OUT_SCOPE")),
            environment=environment,
            max_reprompts=int(get("MAX_REPROMPTS") or 2),
            queue_prefix=get("QUEUE_PREFIX") or "",
            # JSON lines in production (one object a line for the log drain), text elsewhere.
            log_format=get("LOG_FORMAT") or ("json" if environment == "production" else "text"),
            log_level=get("LOG_LEVEL") or "INFO",
            sms_segments_per_second=float(get("SMS_SEGMENTS_PER_SECOND") or 1),
            calls_per_second=float(get("CALLS_PER_SECOND") or 1),
            max_concurrent_calls=int(get("MAX_CONCURRENT_CALLS") or 0),
            call_slot_lease=float(get("CALL_SLOT_LEASE") or 1800),
            send_claim_timeout=float(get("SEND_CLAIM_TIMEOUT") or 300),
            # On in production; elsewhere simulated texts should not wait for the morning.
            quiet_hours=_switch(get("QUIET_HOURS"), "QUIET_HOURS", environment == "production"),
            oidc_issuer=(get("OIDC_ISSUER") or "").rstrip("/") or None,
            oidc_client_id=get("OIDC_CLIENT_ID"),
            oidc_client_secret=get("OIDC_CLIENT_SECRET"),
            oidc_scopes=get("OIDC_SCOPES") or "openid email",
            trusted_proxy_hops=int(get("TRUSTED_PROXY_HOPS") or 0),
            contact_encryption_keys=get("CONTACT_ENCRYPTION_KEYS"),
            contact_hash_key=get("CONTACT_HASH_KEY"),
            contact_retention_days=int(get("CONTACT_RETENTION_DAYS") or 30),
            outbound_allowlist=tuple(
                entry.strip()
                for entry in (get("OUTBOUND_ALLOWLIST") or "").split(",")
                if entry.strip()
            ),
            dashboard_idle_minutes=float(get("DASHBOARD_IDLE_MINUTES") or 30),
            dashboard_session_hours=float(get("DASHBOARD_SESSION_HOURS") or 12),
            comment_taxonomy=_optional_path(get("COMMENT_TAXONOMY")),
            comment_reader=get("COMMENT_READER") or "rules",
            read_statement_timeout=_read_timeout(get("READ_STATEMENT_TIMEOUT")),
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
