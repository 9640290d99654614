"""The search contract suite on PostgreSQL full-text search (REGISTRY_SEARCH=postgres): every
test of tests/unit/test_search.py again, each on a database of its own."""
from __future__ import annotations

import pytest

from registry.meta.db import open_store
from registry.search import SearchDoc, SearchQuery
from registry.search.pg_index import PostgresIndex
from registry.settings import Settings
from tests.pg import pg_database
from tests.unit.test_search import *  # noqa: F403  (the suite itself)


@pytest.fixture
def make_index(tmp_path):  # noqa: F811  (overrides the suite's whoosh index)
    with pg_database(migrated=True) as url:
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


# Past the cap (pg_sql.CAP, 3 here): a sample of the matches is counted and ranked.
WIDE = [SearchDoc(str(i), "acme", f"t{i}", f"Risk memo {i}" if i % 3 == 0 else f"Memo {i}",
                  "about risk" if i % 3 == 1 else "plain", readme="risk " * (i % 4 + 1),
                  industry=("retail", "gaming")[i % 2], tags=("risk", f"n{i % 3}"), stars=(i * 7) % 11,
                  rating=float(i % 5), updated_at=float(1000 + i)) for i in range(24)]
SECRET = SearchDoc("s", "acme", "secret", "Risk secret", "risk", industry="secret-industry", tags=("risk", "hush"),
                   stars=99, rating=5.0, updated_at=9999, readers=("acme",))


@pytest.fixture
def capped(tmp_path):
    from registry.search.pg_sql import CAP

    with pg_database(migrated=True) as url:
        store = open_store(Settings(data_dir=tmp_path, database_url=url))
        small, full = PostgresIndex(store.engine, cap=3), PostgresIndex(store.engine)
        assert full.cap == CAP
        small.upsert_many([*WIDE, SECRET])
        yield small, full
        store.engine.dispose()


def test_past_the_cap_the_total_and_facets_are_estimates_of_what_the_reader_may_see(capped):
    small, full = capped
    exact = full.search(SearchQuery(q="risk"))
    assert not exact.total_is_estimate and exact.total == 24
    found = small.search(SearchQuery(q="risk"))
    assert found.total_is_estimate and found.total >= 4  # more than the cap, however it is estimated
    assert set(found.facets["industry"]) <= {"retail", "gaming"} and "hush" not in found.facets["tags"]
    assert sum(found.facets["industry"].values()) == pytest.approx(found.total, abs=2)
    assert "secret" not in {h.name for h in found.results}
    assert small.search(SearchQuery(q="risk", reader="acme", sort="stars")).results[0].name == "secret"
    few = small.search(SearchQuery(q="risk", industry="retail", tags=("n0",)))  # 4 matches: past the cap of 3
    assert few.total_is_estimate and {h.industry for h in few.results} == {"retail"}
    assert not small.search(SearchQuery(q="risk", owner="nobody")).total_is_estimate


def test_past_the_cap_relevance_pages_rank_title_matches_first_without_repeats(capped):
    small, full = capped
    seen: list[str] = []
    for page in range(1, 20):
        hits = small.search(SearchQuery(q="risk", page=page, per_page=4)).results
        if not hits:
            break
        seen += [h.name for h in hits]
    assert len(seen) == len(set(seen)) and "secret" not in seen and len(seen) >= 4
    everything = [h.name for h in full.search(SearchQuery(q="risk", per_page=50)).results]
    assert seen == [name for name in everything if name in seen]  # the candidates, ranked exactly
    titled = [name for name in seen if name in {d.name for d in WIDE if d.title.startswith("Risk")}]
    assert len(titled) == 3 and seen[:3] == titled  # the cap's worth of title matches, first


@pytest.mark.parametrize("sort,key", [("stars", lambda d: (-d.stars, d.id)), ("rating", lambda d: (-d.rating, d.id)),
                                      ("updated", lambda d: (-d.updated_at, d.id))])
def test_past_the_cap_other_sorts_are_exact_pages_of_all_matches(capped, sort, key):
    small, full = capped
    for q, wanted in (("risk", WIDE), ("", WIDE), ("", [d for d in WIDE if d.industry == "gaming"])):
        industry = "gaming" if len(wanted) < len(WIDE) else None
        order = [d.name for d in sorted(wanted, key=key)]
        pages = [h.name for page in (1, 2, 3) for h in
                 small.search(SearchQuery(q=q, sort=sort, industry=industry, page=page, per_page=5)).results]
        assert pages == order[:15]
        assert small.search(SearchQuery(q=q, sort=sort, industry=industry)).total_is_estimate


def test_past_the_cap_trending_is_the_list_then_newest(capped):
    small, full = capped
    trending = {"5": 3.0, "s": 9.0, "7": 2.0, "gone": 1.0}
    query = dict(q="risk", sort="trending", trending=trending)
    pages = [h.name for page in (1, 2, 3) for h in small.search(SearchQuery(**query, page=page, per_page=3)).results]
    assert pages == [h.name for h in full.search(SearchQuery(**query, per_page=9)).results]
    assert pages[:2] == ["t5", "t7"] and "secret" not in pages


# Where the planner expects many matches, the sample is read from the eighth of the templates in
# the sample index (migration 0008, pg_sql.SHARE) and scaled up by eight.
@pytest.fixture
def sampled(capped):
    small, full = capped
    with small.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE search_docs")  # what the planner's expectation needs
        share = set(conn.exec_driver_sql("SELECT id FROM search_docs WHERE hashtext(id) & 7 = 0").scalars())
    small.sample, small.sample_from = 100, 12
    return small, full, share


def test_many_expected_matches_are_sampled_from_an_eighth_and_scaled_up(sampled):
    small, full, share = sampled
    found = small.search(SearchQuery(q="risk"))
    visible = {d.id for d in WIDE}
    assert found.total_is_estimate and found.total == 8 * len(share & visible)
    assert sum(found.facets["industry"].values()) == pytest.approx(found.total, abs=2)
    assert "hush" not in found.facets["tags"] and "secret" not in {h.name for h in found.results}
    assert not full.search(SearchQuery(q="risk")).total_is_estimate  # the full cap: never sampled
    titled = {d.name for d in WIDE if d.title.startswith("Risk")}
    names = [h.name for h in small.search(SearchQuery(q="risk", per_page=3)).results]
    assert len(names) == 3 and set(names) <= titled  # the title matches (the tier) still lead


@pytest.mark.parametrize("query", [SearchQuery(q='"risk memo"'), SearchQuery(q="risk", industry="gaming", tags=("n1",))])
def test_phrases_and_fewer_expected_matches_are_not_sampled(sampled, query):
    small, full, share = sampled
    found = small.search(query)
    small.sample_from = 10**9  # never sampled
    assert found == small.search(query)


def test_filters_alone_are_sampled_too_and_other_sorts_stay_exact_pages(sampled):
    small, full, share = sampled
    query = SearchQuery(tags=("risk",), sort="stars", per_page=5)
    found = small.search(query)
    assert found.total_is_estimate and found.total == 8 * len(share & {d.id for d in WIDE})
    assert [h.name for h in found.results] == [h.name for h in full.search(query).results]
    assert not small.search(SearchQuery(q="-memo", tags=("risk",))).total_is_estimate  # an exclusion: not sampled


def test_far_fewer_matches_than_expected_are_searched_again_without_the_sample(sampled):
    small, full, share = sampled
    query = SearchQuery(q="risk", industry="gaming", tags=("n1",))  # none in the sampled eighth
    exact = small.search(query)
    small.sample_from = 0  # the planner's expectation always says: sample
    assert small.search(query) == exact and len(exact.results) == 4



def test_rows_from_before_0012_have_no_excerpt_until_reindexed(tmp_path):
    """An install upgraded to 0012 keeps its rows, their excerpt '' (the prompt is not in
    search_docs to fill it from), until the template is indexed again or `registry reindex`.
    The rows are made at head, then the column is taken away (0012's downgrade) and added again."""
    from alembic import command
    from sqlalchemy import text

    from registry.container import Container
    from registry.git.policy import RefUpdate
    from registry.git.write import commit_files
    from registry.meta.db import HEAD, engine_of
    from registry.services import checks, gallery, push, templates, users
    from tests.migration_checks import config, upgrade_to
    from tests.unit.usecases import manifest_files

    want = "You are a careful credit risk analyst. Summarise the risk of {{ portfolio }} for {{ quarter }}."
    with pg_database(migrated=True) as url:
        c = Container.build(Settings(data_dir=tmp_path / "data", database_url=url))
        try:
            users.add_user(c, "alice")
            alice = users.authenticate(c, users.create_token(c, "alice", "write"))
            for name in ("risk", "later"):
                t = templates.create(c, alice, name)
                with c.open_repo(t) as repo:
                    old = repo.ref_value("refs/heads/main")
                    sha = commit_files(repo, manifest_files(), "edit\n", "T <t@example.com>", "main")
                push.landed(c, t, [RefUpdate("refs/heads/main", old, sha)])
                checks.run(c, "index", t.id, sha)

            def excerpts() -> dict[str, str]:
                return {h.name: h.excerpt for h in gallery.search(c, alice, owner="alice").results}

            assert excerpts() == {"risk": want, "later": want}
            with engine_of(c.meta).connect() as conn:
                command.downgrade(config(conn), "0011")
                conn.commit()
                upgrade_to(conn, HEAD)
                assert conn.execute(text("SELECT count(*) FROM search_docs WHERE excerpt = ''")).scalar_one() == 2
            assert excerpts() == {"risk": "", "later": ""}  # still found, without an excerpt
            gallery.star(c, alice, "alice", "later", True)  # indexed again (as by a push, a rating, its settings)
            assert excerpts() == {"risk": "", "later": want}
            assert gallery.reindex(c) == 2  # registry reindex
            assert excerpts() == {"risk": want, "later": want}
        finally:
            c.close()
