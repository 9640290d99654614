"""A PostgreSQL database of its own for each test, on the server this machine runs (CI starts
one: .ci/run). REGISTRY_TEST_PG names the server's admin URL."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

ADMIN = os.environ.get("REGISTRY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def pg_database() -> Iterator[str]:
    """A new, empty database; dropped afterwards (connections and all)."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
