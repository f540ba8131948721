"""The feedback gateway: a Flask service running post-interaction surveys over SMS,
phone keypad, email and web from YAML flow definitions into one response store."""

from gateway.app import create_app

__all__ = ["create_app"]
