"""The agency HTTP API: keys, authentication, surveys and responses.

The blueprint is :data:`gateway.api.blueprint.bp`.
"""
