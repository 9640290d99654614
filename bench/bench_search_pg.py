"""Gallery search on PostgreSQL against whoosh, in one run, through the HTTP API (issue 13).

The same synthetic corpus and 200 mixed queries as bench_search (text, filters, type-ahead,
sorts; facets and highlights on), at 20,000 templates on both backends and at 200,000 on
PostgreSQL; then how long a one-template update takes to be visible through the API.

    make bench   (or: python -m bench.bench_search_pg [--docs 20000] [--big 200000] [--queries 200] [--keep])

--keep (for iterating on the search code) keeps each size's database (bench_search_pg_<size>)
and uses it again when it holds this very corpus written by this very code: a fingerprint of the
corpus and the code that writes a document, set on the database only once a load and a run
(which puts the probe's template back) complete; otherwise it is loaded anew. New migrations
apply to it as to a deployed database. Without it, each run loads fresh databases and drops
them afterwards.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench.bench_search import make_doc, mixed_queries, through_api
from registry.meta.db import open_store
from registry.search import SearchDoc, WhooshIndex, pg_index
from registry.search.pg_index import PostgresIndex
from registry.settings import Settings
from tests.pg import ADMIN, pg_database


def _fill(index, docs: list[SearchDoc]) -> float:
    start = time.perf_counter()
    for chunk in range(0, len(docs), 2000):
        index.upsert_many(docs[chunk:chunk + 2000])
    return len(docs) / (time.perf_counter() - start)


def _fingerprint(docs: list[SearchDoc]) -> str:
    """What a kept database must match: the corpus and the code that indexed it."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(repr(doc).encode())
    # How a document is written (not how it is searched: that is what one iterates on). New
    # migrations apply to a kept database as to a deployed one (open_store).
    digest.update((pg_index.UPSERT.text + pg_index.WORDS.text + inspect.getsource(pg_index._row)).encode())
    return digest.hexdigest()


@contextmanager
def _kept_database(size: int, fingerprint: str) -> Iterator[tuple[str, bool]]:
    """(URL, whether it already holds the corpus) of the kept database for `size`; marked as
    holding it once the block completes."""
    name = f"bench_search_pg_{size}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                           (name,)).fetchone()
        loaded = row is not None and row[0] == fingerprint
        if not loaded:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'COMMENT ON DATABASE "{name}" IS NULL')  # until this run is through
    yield ADMIN.rsplit("/", 1)[0] + "/" + name, loaded
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{fingerprint}'")


@contextmanager
def _database(size: int, docs: list[SearchDoc], keep: bool) -> Iterator[tuple[str, bool]]:
    if keep:
        with _kept_database(size, _fingerprint(docs[:size])) as found:
            yield found
    else:
        with pg_database() as url:
            yield url, False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--big", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases and reuse them")
    args = parser.parse_args()
    rnd = random.Random(7)
    docs = [make_doc(i, rnd) for i in range(max(args.docs, args.big))]
    queries = mixed_queries(args.queries, rnd)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        whoosh = WhooshIndex(tmp / "w" / "search")
        rate = _fill(whoosh, docs[:args.docs])
        w50, w95, wvis = through_api(tmp / "w", {}, queries, whoosh, "xylophone")
        print(f"whoosh   {args.docs:>7} docs: indexing {rate:.0f} docs/s; API p50 {w50:.1f} ms, p95 {w95:.1f} ms; "
              f"update visible after {wvis:.0f} ms")
        for size in (args.docs, args.big):
            if not size:
                continue
            with _database(size, docs, args.keep) as (url, loaded):
                store = open_store(Settings(data_dir=tmp / f"p{size}", database_url=url))
                index = PostgresIndex(store.engine)
                rate = None if loaded else _fill(index, docs[:size])
                with store.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE search_docs")
                env = {"REGISTRY_DATABASE_URL": url, "REGISTRY_SEARCH": "postgres"}
                p50, p95, vis = through_api(tmp / f"p{size}", env, queries, index, "marimba")
                index.upsert(docs[1])  # the probe's template as it was
                with store.engine.begin() as conn:
                    conn.exec_driver_sql("DELETE FROM search_words WHERE word IN ('marimba', 'orchestra')")
                indexing = "kept database" if rate is None else f"indexing {rate:.0f} docs/s"
                print(f"postgres {size:>7} docs: {indexing}; API p50 {p50:.1f} ms, p95 {p95:.1f} ms; "
                      f"update visible after {vis:.0f} ms" + (f" (whoosh/postgres p95 {w95 / p95:.1f}x)"
                                                             if size == args.docs else ""))
                store.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
