"""Gallery search on PostgreSQL against whoosh, in one run, through the HTTP API (issue 13).

The same synthetic corpus and 200 mixed queries as bench_search (text, filters, type-ahead,
sorts; facets and highlights on), at 20,000 templates on both backends and at 200,000 on
PostgreSQL; then how long a one-template update takes to be visible through the API.

    make bench   (or: python -m bench.bench_search_pg [--docs 20000] [--big 200000] [--queries 200])
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_search import make_doc, mixed_queries, through_api
from registry.meta.db import open_store
from registry.search import SearchDoc, WhooshIndex
from registry.search.pg_index import PostgresIndex
from registry.settings import Settings
from tests.pg import pg_database


def _fill(index, docs: list[SearchDoc]) -> float:
    start = time.perf_counter()
    for chunk in range(0, len(docs), 2000):
        index.upsert_many(docs[chunk:chunk + 2000])
    return len(docs) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--big", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
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
            with pg_database() as url:
                store = open_store(Settings(data_dir=tmp / f"p{size}", database_url=url))
                index = PostgresIndex(store.engine)
                rate = _fill(index, docs[:size])
                with store.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE search_docs")
                env = {"REGISTRY_DATABASE_URL": url, "REGISTRY_SEARCH": "postgres"}
                p50, p95, vis = through_api(tmp / f"p{size}", env, queries, index, "marimba")
                print(f"postgres {size:>7} docs: indexing {rate:.0f} docs/s; API p50 {p50:.1f} ms, p95 {p95:.1f} ms; "
                      f"update visible after {vis:.0f} ms" + (f" (whoosh/postgres p95 {w95 / p95:.1f}x)"
                                                             if size == args.docs else ""))
                store.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
