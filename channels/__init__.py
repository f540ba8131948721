"""Channel adapters: thin wrappers around delivery providers, behind small Protocols.

Nothing here knows Flask or the database; :mod:`gateway` wires them to the store.
"""
