"""The MetaStore contract, one part per repository (a module and a class each) and one for the unit
of work. Every backend runs all of it by importing these classes beside a `meta` fixture of its
own: SQLite in tests/unit/test_metastore_contract.py, PostgreSQL in
tests/integration/test_metastore_postgres.py. A new repository adds its module here.

Each test says what a use case relies on: uniqueness, not-found errors, cascades on template
deletion, paging totals, the status bookkeeping the checks pipeline depends on, upserts, and one
transaction across repositories.
"""
import pytest

# not test_*.py files: their asserts are rewritten (pytest's report of what differed) only if asked first
PARTS = ("activity", "checks", "drafts", "evals", "events", "experiments", "pulls", "stats", "support", "templates",
         "unit_of_work", "users",
         "writes")
pytest.register_assert_rewrite(*(f"{__name__}.{part}" for part in PARTS))

from .activity import TestActivityRepository  # noqa: E402
from .checks import TestCheckRepository  # noqa: E402
from .drafts import TestDraftRepository  # noqa: E402
from .evals import TestEvalRepository  # noqa: E402
from .events import TestEventRepository  # noqa: E402
from .experiments import TestExperimentRepository  # noqa: E402
from .pulls import TestPullRepository  # noqa: E402
from .stats import TestStatsRepository  # noqa: E402
from .templates import TestTemplateRepository  # noqa: E402
from .unit_of_work import TestUnitOfWork  # noqa: E402
from .users import TestUserRepository  # noqa: E402
from .writes import TestWriteRepository  # noqa: E402

__all__ = ["TestActivityRepository", "TestCheckRepository", "TestDraftRepository", "TestEvalRepository",
           "TestEventRepository", "TestExperimentRepository", "TestPullRepository", "TestStatsRepository",
           "TestTemplateRepository", "TestUnitOfWork", "TestUserRepository",
           "TestWriteRepository"]
