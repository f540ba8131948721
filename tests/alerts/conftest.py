"""The results tests' flows and store (tests/support/results.py)."""

from tests.support.results import add_survey, flow_files, settings

__all__ = ["add_survey", "flow_files", "settings"]
