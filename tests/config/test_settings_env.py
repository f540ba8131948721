"""Production settings read from the environment: logs, pacing and quiet hours."""

from __future__ import annotations

import pytest

from config.settings import Settings


def test_production_logs_json_and_keeps_quiet_hours_by_default() -> None:
    settings = Settings.from_env({"GATEWAY_ENV": "production"})
    assert (settings.log_format, settings.quiet_hours) == ("json", True)


def test_development_logs_text_and_sends_at_any_hour_by_default() -> None:
    settings = Settings.from_env({})
    assert (settings.log_format, settings.quiet_hours) == ("text", False)


def test_pacing_defaults_to_one_segment_and_one_call_a_second() -> None:
    settings = Settings.from_env({})
    assert (settings.sms_segments_per_second, settings.calls_per_second) == (1.0, 1.0)


def test_pacing_and_quiet_hours_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"SMS_SEGMENTS_PER_SECOND": "3", "CALLS_PER_SECOND": "0.5", "QUIET_HOURS": "on"}
    )
    assert settings.sms_segments_per_second == 3.0
    assert settings.calls_per_second == 0.5
    assert settings.quiet_hours is True


def test_a_quiet_hours_value_that_is_not_on_or_off_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="QUIET_HOURS must be on or off"):
        Settings.from_env({"QUIET_HOURS": "sometimes"})
