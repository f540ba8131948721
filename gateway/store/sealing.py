"""Respondents' contact addresses: sealed at rest, found by a keyed hash.

- :func:`contact_hash` is HMAC-SHA256, under its own key, of the normalized address
  (an E.164 number as given, an email address stripped and lower-cased). Every lookup by
  contact (awaiting survey, opt-outs, the fatigue rule) compares these hashes.
- :func:`seal` encrypts an address with AES-256-GCM under the primary key of
  ``CONTACT_ENCRYPTION_KEYS``; the token names its key (``"<key id>:<base64>"``) so older
  keys keep opening what they sealed until ``gateway privacy rotate-keys`` re-seals it.
  :func:`open_sealed` reverses it.

The keys are process-wide (:func:`install`, called by ``create_app`` and by the
migration); without an installed keyring the environment is read once, the same way the
app reads it. Derived keys are computed once per keyring, never per call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from config.settings import Settings

#: The secret keys are derived from when neither contact keys nor ``SECRET_KEY`` are set
#: (a development machine): stable across restarts, and no secret at all.
DEVELOPMENT_SECRET: Final = "feedback-gateway development secret: not for real data"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_NONCE_BYTES: Final = 12
#: Key id of the sealing key derived from the app's secret.
DERIVED_KEY_ID: Final = "s0"


class KeyConfigurationError(ValueError):
    """The contact keys in the configuration are missing or malformed."""


@dataclass(frozen=True)
class Keyring:
    """The hash key and the sealing keys, primary first."""

    hash_key: bytes
    seal_keys: tuple[tuple[str, bytes], ...]
    #: True when the keys were derived from the app's secret rather than configured.
    derived: bool = False
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.hash_key) < 32:
            raise KeyConfigurationError("CONTACT_HASH_KEY must hold at least 32 bytes")
        if not self.seal_keys:
            raise KeyConfigurationError("CONTACT_ENCRYPTION_KEYS names no key")
        ciphers: dict[str, AESGCM] = {}
        for key_id, key in self.seal_keys:
            if key_id in ciphers:
                raise KeyConfigurationError(f"CONTACT_ENCRYPTION_KEYS names key {key_id!r} twice")
            ciphers[key_id] = AESGCM(key)
        object.__setattr__(self, "_ciphers", ciphers)

    @property
    def primary_id(self) -> str:
        return self.seal_keys[0][0]

    def contact_hash(self, value: str) -> str:
        digest = hmac.new(self.hash_key, normalize(value).encode(), hashlib.sha256)
        return digest.hexdigest()

    def keyed_digest(self, data: bytes) -> str:
        """HMAC-SHA256 (hex) of other data that may hold a contact (a request body)."""
        return hmac.new(self.hash_key, b"data:" + data, hashlib.sha256).hexdigest()

    def seal(self, value: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self.primary_id].encrypt(nonce, value.encode(), None)
        return f"{self.primary_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, token: str) -> str:
        key_id, sep, body = token.partition(":")
        cipher = self._ciphers.get(key_id) if sep else None
        if cipher is None:
            raise KeyConfigurationError(
                f"a contact is sealed with key {key_id!r}, which CONTACT_ENCRYPTION_KEYS lacks"
                if sep
                else "a stored contact is not a sealed token"
            )
        try:
            raw = base64.urlsafe_b64decode(body)
            return cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise KeyConfigurationError(
                f"a contact sealed with key {key_id!r} does not open with that key"
            ) from exc


def normalize(value: str) -> str:
    """The form an address is hashed in: email addresses lower-cased, all stripped."""
    value = value.strip()
    return value.lower() if "@" in value else value


def _derive(secret: str, purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"feedback-gateway", info=purpose)
    return hkdf.derive(secret.encode())


def _decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError(f"{name}: a key is not URL-safe base64") from exc
    return key


def parse_encryption_keys(text: str) -> tuple[tuple[str, bytes], ...]:
    """``"k2:<base64 32 bytes>,k1:<...>"`` (primary first) as (key id, key) pairs."""
    keys: list[tuple[str, bytes]] = []
    for item in text.split(","):
        item = item.strip()
        key_id, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise KeyConfigurationError(
                "CONTACT_ENCRYPTION_KEYS: each key is written <id>:<base64 key>, the id being "
                "1-16 letters, digits, '-' or '_' (make one with `gateway privacy new-key`)"
            )
        key = _decode_key(encoded, "CONTACT_ENCRYPTION_KEYS")
        if len(key) != 32:
            raise KeyConfigurationError(
                f"CONTACT_ENCRYPTION_KEYS: key {key_id!r} holds {len(key)} bytes, not 32"
            )
        keys.append((key_id, key))
    return tuple(keys)


def keyring_from(
    encryption_keys: str | None,
    hash_key: str | None,
    secret_key: str | None,
    *,
    production: bool = False,
) -> Keyring:
    """The keyring the configuration describes.

    Keys left out are derived (HKDF-SHA256) from ``secret_key``, or from
    :data:`DEVELOPMENT_SECRET` when there is none; production refuses to derive.
    """
    if production and not (encryption_keys and hash_key):
        missing = [
            name
            for name, value in (
                ("CONTACT_ENCRYPTION_KEYS", encryption_keys),
                ("CONTACT_HASH_KEY", hash_key),
            )
            if not value
        ]
        raise KeyConfigurationError(
            f"{' and '.join(missing)} must be set in production: respondents' contacts are "
            "encrypted and hashed with them (see docs/privacy.md; `gateway privacy new-key` "
            "prints a key)"
        )
    secret = secret_key or DEVELOPMENT_SECRET
    seal_keys = (
        parse_encryption_keys(encryption_keys)
        if encryption_keys
        else ((DERIVED_KEY_ID, _derive(secret, b"contact-encryption")),)
    )
    hashing = (
        _decode_key(hash_key, "CONTACT_HASH_KEY") if hash_key else _derive(secret, b"contact-hash")
    )
    return Keyring(hashing, seal_keys, derived=not (encryption_keys and hash_key))


def keyring_for(settings: Settings) -> Keyring:
    """The keyring ``settings`` describe (a generated ``SECRET_KEY`` counts as none: keys
    derived from it would change at every start)."""
    if settings.contact_retention_days < 0:
        raise KeyConfigurationError("CONTACT_RETENTION_DAYS must be 0 (keep) or more days")
    return keyring_from(
        settings.contact_encryption_keys,
        settings.contact_hash_key,
        None if settings.secret_key_generated else settings.secret_key,
        production=settings.is_production,
    )


def keyring_from_env(env: Mapping[str, str] | None = None) -> Keyring:
    """The keyring the environment describes, read as ``config.settings`` reads it."""
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        return env.get(name, "").strip() or None

    return keyring_from(
        get("CONTACT_ENCRYPTION_KEYS"),
        get("CONTACT_HASH_KEY"),
        get("SECRET_KEY"),
        production=(get("GATEWAY_ENV") or "development") == "production",
    )


def new_key() -> str:
    """A fresh 32-byte key, URL-safe base64, for either setting."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


_installed: Keyring | None = None


def install(keyring: Keyring) -> None:
    """Make ``keyring`` the one this process seals, opens and hashes with."""
    global _installed
    _installed = keyring


def keyring() -> Keyring:
    """The installed keyring (the environment's when none was installed)."""
    global _installed
    if _installed is None:
        _installed = keyring_from_env()
    return _installed


def contact_hash(value: str) -> str:
    """HMAC-SHA256 (hex) of the normalized address: what lookups by contact compare."""
    return keyring().contact_hash(value)


def keyed_digest(data: bytes) -> str:
    """HMAC-SHA256 (hex) under the hash key, kept apart from contact hashes."""
    return keyring().keyed_digest(data)


def seal(value: str) -> str:
    """``value`` encrypted under the primary key, as ``"<key id>:<base64>"``."""
    return keyring().seal(value)


def open_sealed(token: str) -> str:
    """The address :func:`seal` sealed in ``token``."""
    return keyring().open(token)
