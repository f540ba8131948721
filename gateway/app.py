"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from config.logging import configure_logging
from config.settings import Settings
from gateway.alerts import crisis as alert_crisis
from gateway.alerts import delivery as alert_delivery
from gateway.api.blueprint import bp as api_bp
from gateway.api.openapi import bp as api_description_bp
from gateway.cases import setup as cases
from gateway.cases.opening import open_or_reopen
from gateway.dashboard import views as dashboard
from gateway.flows.registry import FlowRegistry
from gateway.http import (
    health,
    metrics,
    rate_limits,
    readiness,
    request_log,
    security_headers,
    static_files,
    unavailable,
)
from gateway.sending import sweeper
from gateway.sms import webhooks as sms
from gateway.store import db as store_db
from gateway.store import sealing as contacts
from gateway.surveys import comment_arrival
from gateway.twilio import quick_lane
from gateway.voice import webhooks as voice
from gateway.web import routes as web_pages
from gateway.web import simulator

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, test_config: Mapping[str, Any] | None = None
) -> Flask:
    """Build the web app from ``settings`` (default: the environment)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(SECRET_KEY=settings.secret_key, JSON_SORT_KEYS=False)
    if test_config:
        app.config.update(test_config)
    app.extensions["settings"] = settings
    if not app.testing:  # tests capture logs with pytest's own handlers
        configure_logging(settings.log_format, settings.log_level)
    request_log.init_app(app)
    if settings.secret_key_generated and settings.is_production:
        raise RuntimeError("SECRET_KEY must be set in production")
    contacts.install(contacts.keyring_for(settings))

    registry = FlowRegistry.load_directory(settings.flows_dir)
    for path, errors in registry.refused.items():
        for error in errors:
            log.error("flow refused: %s", error)
        log.error("flow file %s refused with %d error(s)", path, len(errors))
    app.extensions["flows"] = registry
    store_db.init_app(app, settings)

    app.register_blueprint(health.bp)
    app.register_blueprint(readiness.bp)
    metrics.init_app(app)
    unavailable.init_app(app)
    app.register_blueprint(api_description_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(web_pages.bp)
    if not settings.is_production:
        app.register_blueprint(simulator.bp)
    sweeper.init_app(app)
    alert_delivery.init_app(app)
    cases.init_app(app)
    # Free-text answers: the configured reader, and the crisis route (which opens cases).
    comment_arrival.configure_from(settings.comment_taxonomy, settings.comment_reader)
    alert_crisis.init_app(open_or_reopen)
    dashboard.init_app(app)
    # Both inside the proxy headers' middleware (security_headers), which sees requests
    # first; static files once every blueprint (and its static folder) is registered.
    static_files.init_app(app, (web_pages.bp.name, simulator.bp.name, dashboard.bp.name))
    quick_lane.install(app, {**sms.QUICK_ROUTES, **voice.QUICK_ROUTES}, sweeper.ensure_sweeper)
    security_headers.init_app(app)
    rate_limits.init_app(app)
    return app


def settings_of(app: Flask) -> Settings:
    settings: Settings = app.extensions["settings"]
    return settings


def flows_of(app: Flask) -> FlowRegistry:
    registry: FlowRegistry = app.extensions["flows"]
    return registry
