"""``GET /api/v1/openapi.json``: the agency API's OpenAPI 3.1 description, read from
``openapi.yaml`` beside this module. Public: it describes the API, it holds no data."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

SPEC_PATH = Path(__file__).with_name("openapi.yaml")

bp = Blueprint("api_description", __name__, url_prefix="/api/v1")


@cache
def description() -> dict[str, Any]:
    """The parsed description (read once per process)."""
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return jsonify(description())
