"""The MetaStore over SQLAlchemy Core, one implementation for SQLite and PostgreSQL: the unit of
work that holds one repository per subject, all on one `Database`, so that `atomic()` makes every
repository's reads and writes inside it one transaction.

Each subject's queries are in its own module: users and tokens (sql_users.py), templates,
collaborators and protection (sql_templates.py), statuses and runs (sql_checks.py), pull requests
(sql_pulls.py), stars, ratings and usage (sql_activity.py), events, hooks and deliveries
(sql_events.py), accounts (sql_accounts*.py), drafts and their documents (sql_drafts.py), journalled
writes of refs (sql_writes.py), evaluation results (sql_evals.py), A/B experiments and their units
(sql_experiments.py); the engine, transactions and paging in sql_base.py. A new subject is one more
repository here, never more methods on this class.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from .base import (
    ActivityRepository,
    CheckRepository,
    DraftRepository,
    EvalRepository,
    EventRepository,
    ExperimentRepository,
    PullRepository,
    StatsRepository,
    TemplateRepository,
    UserRepository,
    WriteRepository,
)
from .sql_accounts import SqlAccountRepository
from .sql_activity import SqlActivity
from .sql_base import Database
from .sql_checks import SqlChecks
from .sql_drafts import SqlDrafts
from .sql_evals import SqlEvals
from .sql_events import SqlEvents
from .sql_experiments import SqlExperiments
from .sql_pulls import SqlPulls
from .sql_stats import SqlStats
from .sql_templates import SqlTemplates
from .sql_users import SqlUsers
from .sql_writes import SqlWrites

if TYPE_CHECKING:  # the accounts package reads meta records: a runtime import would be a cycle
    from ..accounts.store import AccountRepository

class SqlMetaStore:
    def __init__(self, engine: Engine) -> None:
        self.db = Database(engine)
        self.users: UserRepository = SqlUsers(self.db)
        self.templates: TemplateRepository = SqlTemplates(self.db)
        self.checks: CheckRepository = SqlChecks(self.db)
        self.pulls: PullRepository = SqlPulls(self.db)
        self.activity: ActivityRepository = SqlActivity(self.db)
        self.events: EventRepository = SqlEvents(self.db)
        self.accounts: AccountRepository = SqlAccountRepository(self.db)
        self.drafts: DraftRepository = SqlDrafts(self.db)
        self.stats: StatsRepository = SqlStats(self.db)
        self.writes: WriteRepository = SqlWrites(self.db)
        self.experiments: ExperimentRepository = SqlExperiments(self.db)
        self.evals: EvalRepository = SqlEvals(self.db)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    def atomic(self) -> AbstractContextManager[None]:
        """Every read and write of every repository inside this block is one transaction."""
        return self.db.atomic()
