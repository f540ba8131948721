"""The response store: SQLAlchemy models and the database handle.

Every model module is imported here so that ``Base.metadata`` always holds every table
(for migrations, ``create_all`` and the schema check), whichever module is imported first.
"""

from gateway.store import (
    agency_models,  # noqa: F401  (registers its tables on Base)
    attempt_models,  # noqa: F401  (registers its tables on Base)
    batch_models,  # noqa: F401  (registers its tables on Base)
    case_models,  # noqa: F401  (registers its tables on Base)
    comment_models,  # noqa: F401  (registers its tables on Base)
    reach_models,  # noqa: F401  (registers its tables on Base)
    results_models,  # noqa: F401  (registers its tables on Base)
    security_models,  # noqa: F401  (registers its tables on Base)
    status_models,  # noqa: F401  (registers its tables on Base)
)
from gateway.store.db import Database, db_of, init_app, normalize_url, upgrade
from gateway.store.models import (
    Agency,
    Answer,
    ApiKey,
    Base,
    FlowVersion,
    Message,
    OptOut,
    Survey,
)

__all__ = [
    "Agency",
    "Answer",
    "ApiKey",
    "Base",
    "Database",
    "FlowVersion",
    "Message",
    "OptOut",
    "Survey",
    "db_of",
    "init_app",
    "normalize_url",
    "upgrade",
]
