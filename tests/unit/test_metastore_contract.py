"""The MetaStore contract on SQLite: every repository's part (tests/metacontract/, a class each)
on a fresh database per test. tests/integration/test_metastore_postgres.py runs the same classes
on PostgreSQL."""
from __future__ import annotations

import pytest

from registry.meta import MetaStore
from registry.meta.db import open_store
from registry.settings import Settings
from tests.metacontract import *  # noqa: F403  (the suite itself)


@pytest.fixture
def meta(tmp_path) -> MetaStore:
    return open_store(Settings(data_dir=tmp_path))
