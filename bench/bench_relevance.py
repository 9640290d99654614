"""Search relevance on the test collection (tests/fixtures/relevance/): recall@5 and MRR of 40
plain-language queries, on whoosh and on PostgreSQL (when one answers at REGISTRY_TEST_PG), and
the same queries as plain AND of every word (what search did before), as the baseline.

    make bench   (or: python -m bench.bench_relevance)
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from registry.search import SearchQuery, WhooshIndex
from registry.search.query import STOP_WORDS, words_of
from tests.relevance import Scores, corpus, evaluate, queries


class _AllWords:
    """The baseline: every query word but stop words must appear, as the registry searched before."""

    def __init__(self, index: WhooshIndex) -> None:
        self.index = index

    def search(self, query: SearchQuery):
        words = " ".join(f'"{w}"' for w in words_of(query.q) if w not in STOP_WORDS)
        return self.index.search(SearchQuery(q=words, per_page=query.per_page))


def line(name: str, scores: Scores) -> str:
    return f"{name:<26} recall@5 {scores.recall_at_5:.3f}   MRR {scores.mrr:.3f}   missed {len(scores.misses)}"


def main() -> None:
    docs = corpus()
    print(f"relevance: {len(docs)} templates, {len(queries())} queries")
    ix = WhooshIndex(Path(tempfile.mkdtemp()) / "ix")
    ix.upsert_many(docs)
    print(line("baseline (all words)", evaluate(_AllWords(ix))))
    print(line("whoosh", evaluate(ix)))
    try:
        from registry.meta.db import open_store
        from registry.search.pg_index import PostgresIndex
        from registry.settings import Settings
        from tests.pg import pg_database

        with pg_database() as url:
            store = open_store(Settings(data_dir=Path(tempfile.mkdtemp()), database_url=url))
            pg = PostgresIndex(store.engine)
            pg.upsert_many(docs)
            print(line("postgres", evaluate(pg)))
            store.engine.dispose()
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: whoosh's figures stand alone
        print(f"postgres: skipped ({exc})")


if __name__ == "__main__":
    main()
