"""The AccountRepository contract suite over PostgreSQL: every test of
tests/unit/test_account_store_contract runs again here, each on a database of its own."""
from __future__ import annotations

import pytest

from registry.meta.db import open_store
from registry.settings import Settings
from tests.pg import pg_database
from tests.unit.test_account_store_contract import *  # noqa: F403  (the suite itself)
from tests.unit.test_account_store_contract import Stores


@pytest.fixture
def stores(tmp_path) -> Stores:  # noqa: F811  (overrides the suite's SQLite store)
    with pg_database(migrated=True) as url:
        meta = open_store(Settings(data_dir=tmp_path, database_url=url))
        yield Stores(meta, meta.accounts)
        meta.engine.dispose()
