"""The MetaStore contract suite over PostgreSQL: every test of tests/unit/test_metastore_contract
runs again here, each on a database of its own."""
from __future__ import annotations

import pytest

from registry.meta import MetaStore
from registry.meta.db import open_store
from registry.settings import Settings
from tests.pg import pg_database
from tests.unit.test_metastore_contract import *  # noqa: F403  (the suite itself)


@pytest.fixture
def meta(tmp_path) -> MetaStore:  # noqa: F811  (overrides the suite's SQLite store)
    with pg_database(migrated=True) as url:
        store = open_store(Settings(data_dir=tmp_path, database_url=url))
        yield store
        store.engine.dispose()
