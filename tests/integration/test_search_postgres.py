"""The search contract suite on PostgreSQL full-text search (REGISTRY_SEARCH=postgres): every
test of tests/unit/test_search.py again, each on a database of its own."""
from __future__ import annotations

import pytest

from registry.meta.db import open_store
from registry.search.pg_index import PostgresIndex
from registry.settings import Settings
from tests.pg import pg_database
from tests.unit.test_search import *  # noqa: F403  (the suite itself)


@pytest.fixture
def make_index(tmp_path):  # noqa: F811  (overrides the suite's whoosh index)
    with pg_database() as url:
        store = open_store(Settings(data_dir=tmp_path, database_url=url))
        yield lambda: PostgresIndex(store.engine)
        store.engine.dispose()
