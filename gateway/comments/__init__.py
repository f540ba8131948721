"""What a free-text answer says: personal data masked, themes, sentiment, crisis language.

Pure text analysis, like the engine: nothing here reads a clock, a database or the network.
The default reader is rules and lexicons an agency can read and edit; another reader can be
configured behind the same interface (:mod:`gateway.comments.reader`).
"""
