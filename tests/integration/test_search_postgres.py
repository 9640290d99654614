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


def test_type_ahead_by_each_way_of_matching(make_index):
    """The last word as a title prefix, with the other words required, however the SQL is shaped
    (pg_index._match): alone (an OR of two indexes), after words that match anyway (the prefix
    adds nothing), and after words that would not (a UNION)."""
    from registry.search import SearchDoc, SearchQuery

    ix = make_index()
    ix.upsert_many([SearchDoc(id="1", owner="o", name="inv", title="Invoice reader", readme="please be kind"),
                    SearchDoc(id="2", owner="o", name="dr", title="Drama planner", readme="episodes")])
    found = {q: sorted(h.name for h in ix.search(SearchQuery(q=q)).results)
             for q in ("invo", "drama invo", "please invo", "kind -episodes invo")}
    assert found == {"invo": ["inv"], "drama invo": ["dr"], "please invo": ["inv"], "kind -episodes invo": ["inv"]}


def test_head_implies_the_query_only_for_plain_words():
    from registry.search.pg_index import _implies
    from registry.search.query import parse

    assert _implies(parse("drama"), parse("drama invo"))
    assert not _implies(parse("please"), parse("please invo"))  # filler: dropped from the whole query
    assert not _implies(parse('"drama plan"'), parse('"drama plan" invo'))
    assert not _implies(parse("drama"), parse("drama -invo"))
