"""Metadata: the MetaStore unit of work and its repository protocols, their records, and their one
implementation over SQLAlchemy Core (SQLite, the embedded default, or PostgreSQL;
registry.meta.db opens and migrates it)."""
from . import (
    accounts_schema,  # noqa: F401  (puts the accounts' tables on schema.metadata)
    drafts_schema,  # noqa: F401  (and the drafts')
    experiments_schema,  # noqa: F401  (and the experiments')
)
from .base import (
    ActivityRepository,
    CheckRepository,
    DraftRepository,
    EvalRepository,
    EventRepository,
    ExperimentRepository,
    MetaStore,
    PullRepository,
    StatsRepository,
    TemplateRepository,
    UserRepository,
    WriteRepository,
)
from .records import (
    FINAL,
    ROLES,
    SCOPES,
    Comment,
    EvalResult,
    Protection,
    Pull,
    Rating,
    RefWrite,
    Review,
    Run,
    RunChanges,
    Status,
    Template,
    Token,
    User,
    Visibility,
)
from .records_drafts import Draft, DraftConflict, DraftFile, StoredDoc
from .records_events import USAGE_KINDS, Delivery, Event, EventFilter, Hook, HookChanges, Outgoing, UsageDay
from .records_experiments import EXPERIMENT_FINAL, Experiment, Unit
from .sql import SqlMetaStore

__all__ = ["ActivityRepository", "CheckRepository", "DraftRepository", "Draft", "DraftConflict", "DraftFile",
           "StoredDoc", "EventRepository", "PullRepository", "StatsRepository", "TemplateRepository",
           "UserRepository", "WriteRepository",
           "EvalRepository", "EvalResult", "FINAL", "ROLES", "SCOPES", "Comment", "MetaStore", "Protection", "Pull",
           "Rating", "RefWrite", "Review", "Run", "RunChanges", "Status", "Template", "Token", "User", "Visibility",
           "SqlMetaStore", "USAGE_KINDS",
           "ExperimentRepository", "EXPERIMENT_FINAL", "Experiment", "Unit",
           "Delivery", "Event", "EventFilter", "Hook", "HookChanges", "Outgoing", "UsageDay"]
