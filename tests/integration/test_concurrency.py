"""No lost update under concurrency (issue 13): two processes, each with 8 threads, make 50
stars, ratings, collaborator changes, reviews and pull requests at once; the counts are exact.
On PostgreSQL and on SQLite."""
from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from registry.meta import Template
from registry.meta.db import open_store
from registry.settings import Settings
from tests.pg import pg_database

PER_PROCESS = 50
USERS = 2 * PER_PROCESS


def _work(data_dir: str, url: str | None, part: int) -> None:
    store = open_store(Settings(data_dir=Path(data_dir), database_url=url))
    users = [store.users.get(f"u{i}") for i in range(part * PER_PROCESS, (part + 1) * PER_PROCESS)]

    def one(user) -> None:  # noqa: ANN001
        store.activity.set_star("t1", user.id, True)
        store.activity.set_star("t1", user.id, True)  # twice: still one star
        store.activity.rate("t1", user.id, 1, None)
        store.activity.rate("t1", user.id, 1 + user.id % 5, "changed my mind")  # the second rating replaces the first
        store.templates.set_collaborator("t1", user.id, "reader")
        store.templates.set_collaborator("t1", user.id, "writer")
        number = store.pulls.add("t1", f"by {user.name}", "", user.name, "t1", f"b{user.id}", "main", "a" * 40).number
        store.pulls.add_review("t1", number, user.name, "COMMENT", "", "a" * 40, [])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, users))


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_parallel_writes_from_two_processes_end_with_exact_counts(backend, tmp_path):
    with (pg_database() if backend == "postgres" else _no_database()) as url:
        store = open_store(Settings(data_dir=tmp_path, database_url=url))
        store.templates.add(Template("t1", "owner", "t", "public", "", None, 0, 0))
        ids = [store.users.add(f"u{i}", None, False).id for i in range(USERS)]
        ctx = multiprocessing.get_context("spawn")
        start = time.monotonic()
        procs = [ctx.Process(target=_work, args=(str(tmp_path), url, part)) for part in range(2)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(240)
            assert proc.exitcode == 0
        stars, mean, ratings = store.activity.social("t1")
        assert (stars, ratings) == (USERS, USERS)
        assert mean == round(sum(1 + i % 5 for i in ids) / USERS, 2)
        assert len(store.templates.collaborator_names("t1")) == USERS
        assert {store.templates.collaborator_role("t1", i) for i in ids} == {"writer"}
        pulls, total = store.pulls.page("t1", "all", 0, 1000)
        assert total == USERS and sorted(p.number for p in pulls) == list(range(1, USERS + 1))
        assert sum(len(store.pulls.reviews("t1", p.number)) for p in pulls) == USERS
        print(f"{backend}: {8 * USERS} writes from 2 processes in {time.monotonic() - start:.1f} s")
        store.engine.dispose()


class _no_database:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        pass
