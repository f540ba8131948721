"""Web survey pages, the email channel's links and the development simulator."""

from __future__ import annotations

from flask import Flask

from gateway.web.routes import bp as pages_bp
from gateway.web.simulator import bp as simulator_bp


def init_app(app: Flask) -> None:
    """Register the survey pages, and the simulator outside production."""
    app.register_blueprint(pages_bp)
    if not app.extensions["settings"].is_production:
        app.register_blueprint(simulator_bp)
