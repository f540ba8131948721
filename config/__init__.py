"""Settings, gunicorn and logging configuration for the gateway."""

from config.settings import Settings

__all__ = ["Settings"]
