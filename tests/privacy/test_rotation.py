"""`gateway privacy rotate-keys`: everything sealed with an older key is re-sealed under
the first key, after which the older key can be removed."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from gateway.cli import main
from gateway.store.db import db_of
from gateway.store.sealing import new_key
from tests.sms.support import make_gateway

NUMBER = "+12025550142"


def test_rotation_reseals_every_contact_under_the_new_key(database_url: str) -> None:
    old, new, hash_key = new_key(), new_key(), new_key()
    before = make_gateway(
        database_url, contact_encryption_keys=f"old:{old}", contact_hash_key=hash_key
    )
    survey_id = before.trigger(to=NUMBER)["id"]
    before.text("4", from_=NUMBER)
    env = {
        "DATABASE_URL": database_url,
        "CONTACT_ENCRYPTION_KEYS": f"new:{new},old:{old}",
        "CONTACT_HASH_KEY": hash_key,
    }
    runner = CliRunner()

    dry = runner.invoke(main, ["privacy", "rotate-keys", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "surveys.contact: 1 to re-seal" in dry.output
    assert "5 value(s) to re-seal under key 'new'" in dry.output

    done = runner.invoke(main, ["privacy", "rotate-keys"], env=env)
    assert done.exit_code == 0, done.output
    assert "5 value(s) re-sealed under key 'new'" in done.output
    with db_of(before.app).engine.connect() as conn:
        sealed = conn.execute(
            sa.text(
                "SELECT contact FROM surveys UNION ALL SELECT from_addr FROM messages "
                "UNION ALL SELECT to_addr FROM messages"
            )
        ).scalars()
        assert {value[:4] for value in sealed if value} == {"new:"}

    # The old key can go: an app with the new key alone reads and finds everything.
    after = make_gateway(
        database_url, contact_encryption_keys=f"new:{new}", contact_hash_key=hash_key
    )
    assert after.survey(survey_id)["to"] == NUMBER
    assert after.text("yes", from_=NUMBER).status_code == 200
    assert after.survey(survey_id)["answers"]["returning"] == "yes"


def test_production_commands_refuse_to_run_without_keys(database_url: str) -> None:
    result = CliRunner().invoke(
        main,
        ["privacy", "rotate-keys"],
        env={"DATABASE_URL": database_url, "GATEWAY_ENV": "production", "SECRET_KEY": "s"},
    )
    assert result.exit_code == 1
    assert "CONTACT_ENCRYPTION_KEYS and CONTACT_HASH_KEY must be set in production" in result.output


def test_new_key_prints_a_usable_key() -> None:
    result = CliRunner().invoke(main, ["privacy", "new-key"])
    assert result.exit_code == 0
    assert len(result.output.strip()) == 43
