"""The MetaStore over SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

Users and tokens (sql_users.py), templates, collaborators and protection (sql_templates.py),
statuses and runs (sql_checks.py), pull requests, reviews and comments (sql_pulls.py), stars,
ratings and usage (sql_activity.py) are repositories of their own, `users`, `templates`,
`checks`, `pulls` and `activity`; events, hooks and deliveries are in sql_events.py; the
engine, transactions and paging in sql_base.py.
Every change of several rows is one transaction; uniqueness is the database's (constraints
and upserts), never check-then-insert.
"""
from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Engine

from .base import ActivityRepository, CheckRepository, PullRepository, TemplateRepository, UserRepository
from .sql_activity import SqlActivity
from .sql_base import Database
from .sql_checks import SqlChecks
from .sql_events import EventsMixin, OpsMixin
from .sql_pulls import SqlPulls
from .sql_templates import SqlTemplates
from .sql_users import SqlUsers


class SqlMetaStore(EventsMixin, OpsMixin):
    """The engine, `atomic` and the transactions every part uses are the Database's (sql_base.py)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(Database(engine))
        self.users: UserRepository = SqlUsers(self._db)
        self.templates: TemplateRepository = SqlTemplates(self._db)
        self.checks: CheckRepository = SqlChecks(self._db)
        self.pulls: PullRepository = SqlPulls(self._db)
        self.activity: ActivityRepository = SqlActivity(self._db)

    @property
    def engine(self) -> Engine:
        return self._db.engine

    def atomic(self) -> AbstractContextManager[None]:
        return self._db.atomic()
