"""Flow definitions: the model, the YAML loader and validator, the `when` language, the
message catalog and the words of a question on each channel.

Imports nothing from the engine (:mod:`gateway.engine` builds on this package) nor from
the channel adapters.
"""
