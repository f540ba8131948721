"""The feedback gateway: a Flask service running post-interaction surveys over SMS,
phone keypad, email and web from YAML flow definitions into one response store.

The application factory is :func:`gateway.app.create_app`; this package face imports
nothing, so importing one module of the gateway loads only what that module needs.
"""
