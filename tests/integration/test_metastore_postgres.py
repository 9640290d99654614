"""The MetaStore contract suite over PostgreSQL: every repository's part (tests/metacontract/, as
tests/unit/test_metastore_contract.py runs it on SQLite) runs again here, each test on a
database of its own."""
from __future__ import annotations

import pytest

from registry.meta import MetaStore
from registry.meta.db import open_store
from registry.settings import Settings
from tests.metacontract import *  # noqa: F403  (the suite itself)
from tests.pg import pg_database


@pytest.fixture
def meta(tmp_path) -> MetaStore:
    with pg_database(migrated=True) as url:
        store = open_store(Settings(data_dir=tmp_path, database_url=url))
        yield store
        store.engine.dispose()
