"""The primitives: keyed hashes of normalized addresses, sealing with named keys, and
keys from the configuration."""

from __future__ import annotations

import dataclasses

import pytest

from config.settings import Settings
from gateway.app import create_app
from gateway.store.sealing import (
    DEVELOPMENT_SECRET,
    KeyConfigurationError,
    Keyring,
    keyring_for,
    keyring_from,
    keyring_from_env,
    new_key,
)

NUMBER = "+12025550123"


def configured(*keys: str, hash_key: str | None = None) -> Keyring:
    return keyring_from(",".join(keys), hash_key or new_key(), None)


def test_an_address_hashes_the_same_whatever_its_case_and_spacing() -> None:
    keys = configured(f"k1:{new_key()}")
    assert keys.contact_hash(" Jane.Doe@Example.GOV ") == keys.contact_hash("jane.doe@example.gov")
    assert keys.contact_hash(NUMBER) == keys.contact_hash(f" {NUMBER}\n")
    assert keys.contact_hash(NUMBER) != keys.contact_hash("+12025550124")


def test_the_hash_is_keyed_so_another_key_gives_another_hash() -> None:
    first, second = configured(f"k1:{new_key()}"), configured(f"k1:{new_key()}")
    assert first.contact_hash(NUMBER) != second.contact_hash(NUMBER)
    assert len(first.contact_hash(NUMBER)) == 64


def test_a_sealed_address_opens_and_shows_no_plaintext() -> None:
    keys = configured(f"k1:{new_key()}")
    token = keys.seal(NUMBER)
    assert token.startswith("k1:")
    assert "2025550123" not in token
    assert keys.open(token) == NUMBER
    assert keys.seal(NUMBER) != token  # a fresh nonce each time


def test_after_rotation_the_new_key_seals_and_the_old_one_still_opens() -> None:
    old_key, new = new_key(), new_key()
    hash_key = new_key()
    before = configured(f"old:{old_key}", hash_key=hash_key)
    token = before.seal(NUMBER)
    after = configured(f"new:{new}", f"old:{old_key}", hash_key=hash_key)
    assert after.open(token) == NUMBER
    assert after.seal(NUMBER).startswith("new:")
    assert after.contact_hash(NUMBER) == before.contact_hash(NUMBER)


def test_a_token_of_a_removed_key_fails_with_the_key_named() -> None:
    token = configured(f"gone:{new_key()}").seal(NUMBER)
    with pytest.raises(KeyConfigurationError, match="'gone'"):
        configured(f"k1:{new_key()}").open(token)


def test_a_tampered_token_does_not_open() -> None:
    keys = configured(f"k1:{new_key()}")
    token = keys.seal(NUMBER)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(KeyConfigurationError, match="does not open"):
        keys.open(tampered)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("k1", "<id>:<base64 key>"),
        ("bad id!:" + "A" * 43, "<id>:<base64 key>"),
        ("k1:" + new_key()[:20], "not 32"),
        (f"k1:{new_key()},k1:{new_key()}", "twice"),
    ],
)
def test_malformed_encryption_keys_are_refused_with_what_is_wrong(keys: str, message: str) -> None:
    with pytest.raises(KeyConfigurationError, match=message):
        keyring_from(keys, new_key(), None)


def test_a_short_hash_key_is_refused() -> None:
    with pytest.raises(KeyConfigurationError, match="at least 32 bytes"):
        keyring_from(f"k1:{new_key()}", "c2hvcnQ", None)


def test_without_configured_keys_they_are_derived_from_the_secret_and_stable() -> None:
    first = keyring_from(None, None, "a-secret")
    again = keyring_from(None, None, "a-secret")
    other = keyring_from(None, None, "another-secret")
    assert first.derived
    assert first.contact_hash(NUMBER) == again.contact_hash(NUMBER)
    assert again.open(first.seal(NUMBER)) == NUMBER
    assert other.contact_hash(NUMBER) != first.contact_hash(NUMBER)


def test_a_generated_secret_derives_from_the_development_secret_not_from_itself() -> None:
    generated = Settings()  # a random SECRET_KEY, as when none is set
    keys = keyring_for(generated)
    assert keys.contact_hash(NUMBER) == keyring_from(None, None, DEVELOPMENT_SECRET).contact_hash(
        NUMBER
    )


def test_the_environment_is_read_as_the_settings_read_it() -> None:
    key, hash_key = new_key(), new_key()
    env = {"CONTACT_ENCRYPTION_KEYS": f"k9:{key}", "CONTACT_HASH_KEY": hash_key}
    from_env = keyring_from_env(env)
    from_settings = keyring_for(Settings.from_env(env))
    assert from_env.primary_id == "k9" and not from_env.derived
    assert from_env.contact_hash(NUMBER) == from_settings.contact_hash(NUMBER)


def test_production_refuses_to_start_without_contact_keys(settings: Settings) -> None:
    production = dataclasses.replace(settings, environment="production")
    with pytest.raises(KeyConfigurationError, match="CONTACT_ENCRYPTION_KEYS and CONTACT_HASH_KEY"):
        create_app(production, {"TESTING": True})
    with pytest.raises(KeyConfigurationError, match="CONTACT_HASH_KEY must be set"):
        create_app(
            dataclasses.replace(production, contact_encryption_keys=f"k1:{new_key()}"),
            {"TESTING": True},
        )


def test_production_starts_with_contact_keys(settings: Settings) -> None:
    production = dataclasses.replace(
        settings,
        environment="production",
        contact_encryption_keys=f"k1:{new_key()}",
        contact_hash_key=new_key(),
    )
    assert create_app(production, {"TESTING": True}).extensions["settings"] is production


def test_a_negative_retention_is_refused(settings: Settings) -> None:
    with pytest.raises(KeyConfigurationError, match="CONTACT_RETENTION_DAYS"):
        create_app(dataclasses.replace(settings, contact_retention_days=-1), {"TESTING": True})
