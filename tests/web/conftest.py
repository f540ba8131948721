from __future__ import annotations

import pytest
from flask import Flask

from config.settings import Settings
from gateway.app import create_app


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings, {"TESTING": True, "WEB_ENTRY_LIMIT": 5})
