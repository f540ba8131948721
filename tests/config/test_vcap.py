"""Settings read DATABASE_URL and REDIS_URL from Cloud Foundry's VCAP_SERVICES."""

from __future__ import annotations

import json

import pytest

from config.settings import Settings
from config.vcap import VcapError

CLOUD_GOV = json.dumps(
    {
        "aws-rds": [
            {
                "name": "feedback-db",
                "label": "aws-rds",
                "tags": ["database", "RDS"],
                "credentials": {"uri": "postgres://u:p@db.internal:5432/cgawsbroker"},
            }
        ],
        "aws-elasticache-redis": [
            {
                "name": "feedback-redis",
                "tags": ["redis", "Elasticache"],
                "credentials": {
                    "uri": "rediss://:secret@redis.internal:6379",
                    "host": "redis.internal",
                    "port": "6379",
                    "password": "secret",
                },
            }
        ],
    }
)


def test_bound_services_give_the_database_and_redis_urls() -> None:
    settings = Settings.from_env({"VCAP_SERVICES": CLOUD_GOV})
    assert settings.database_url == "postgres://u:p@db.internal:5432/cgawsbroker"
    assert settings.redis_url == "rediss://:secret@redis.internal:6379"


def test_plain_variables_win_over_bound_services() -> None:
    settings = Settings.from_env(
        {
            "VCAP_SERVICES": CLOUD_GOV,
            "DATABASE_URL": "postgresql://local/db",
            "REDIS_URL": "redis://local:6379/1",
        }
    )
    assert settings.database_url == "postgresql://local/db"
    assert settings.redis_url == "redis://local:6379/1"


def test_a_redis_service_that_gives_parts_is_assembled_into_a_url() -> None:
    vcap = json.dumps(
        {
            "user-provided": [
                {
                    "name": "cache",
                    "tags": ["redis"],
                    "credentials": {"host": "10.0.0.9", "port": 6380, "password": "p@ss"},
                }
            ]
        }
    )
    assert Settings.from_env({"VCAP_SERVICES": vcap}).redis_url == "redis://:p%40ss@10.0.0.9:6380"


def test_without_bound_services_the_embedded_defaults_apply() -> None:
    settings = Settings.from_env({"VCAP_SERVICES": json.dumps({"s3": [{"credentials": {}}]})})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None


def test_vcap_services_that_are_not_json_are_refused_with_the_reason() -> None:
    with pytest.raises(VcapError, match="VCAP_SERVICES is not valid JSON"):
        Settings.from_env({"VCAP_SERVICES": "{not json"})
