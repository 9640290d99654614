"""The search contract on a small realistic corpus: relevance, filters, facets, sorting, privacy,
highlights. Run here on whoosh and, with another `make_index`, on PostgreSQL
(tests/integration/test_search_postgres.py)."""
from __future__ import annotations

import pytest

from registry.errors import InvalidInput
from registry.search import SearchDoc, SearchQuery, WhooshIndex

CORPUS = [
    SearchDoc("1", "acme", "risk-report", "Quarterly risk report writer", "Drafts a credit risk summary from a loan book.",
              industry="financial-services", use_case="risk-assessment", tags=("risk", "credit", "reporting"),
              stars=12, rating=4.5, updated_at=1000),
    SearchDoc("2", "studio", "drama-planner", "Short drama episode planner",
              "Plans a vertical short drama; flags production risk for the producer.",
              industry="media-entertainment", use_case="short-drama-production", tags=("short-drama", "video"),
              stars=40, rating=3.9, updated_at=3000),
    SearchDoc("3", "shop", "product-copy", "Product description generator", "Writes retail product descriptions.",
              readme="Generates SEO copy for catalogues.", industry="retail", use_case="copywriting",
              tags=("seo", "copy"), stars=3, rating=4.9, updated_at=2000),
    SearchDoc("4", "clinic", "discharge-summary", "Discharge summary assistant",
              "Summarises a hospital stay for patients.", prompt="You are a careful clinician. Avoid risky advice.",
              industry="healthcare-life-science", use_case="summarisation", tags=("summary", "risky"),
              stars=7, rating=4.1, updated_at=4000),
    SearchDoc("5", "acme", "fraud-triage", "Fraud alert triage", "Ranks card fraud alerts by risk.",
              industry="financial-services", use_case="risk-assessment", tags=("fraud", "risk"),
              stars=25, rating=4.7, updated_at=500),
    SearchDoc("6", "acme", "internal-risk", "Internal risk memo", "Private to acme.",
              industry="financial-services", tags=("risk",), readers=("acme", "carol")),
]


@pytest.fixture
def make_index(tmp_path):
    """A new, empty index of the backend under test."""
    return lambda: WhooshIndex(tmp_path / "ix")


@pytest.fixture
def index(make_index):
    ix = make_index()
    ix.upsert_many(CORPUS)
    return ix


def names(results):
    return [hit.name for hit in results.results]


def test_title_match_ranks_above_body_match(index):
    found = names(index.search(SearchQuery(q="risk")))
    assert found.index("risk-report") < found.index("drama-planner")
    assert found.index("fraud-triage") < found.index("drama-planner")  # "risk" in description only, twice less
    assert "internal-risk" not in found  # private


def test_stemming_phrase_and_prefix(index):
    assert "product-copy" in names(index.search(SearchQuery(q="generates descriptions")))
    assert names(index.search(SearchQuery(q='"credit risk summary"'))) == ["risk-report"]
    assert names(index.search(SearchQuery(q='"risk credit"'))) == []
    assert "discharge-summary" in names(index.search(SearchQuery(q="discha")))  # type-ahead
    assert "discharge-summary" in names(index.search(SearchQuery(q="clinician")))  # prompt text


def test_type_ahead_completes_the_end_of_the_last_word(index):
    """rules.typed_prefix, on both backends: the letters ending the last word, not after a phrase
    or in an exclusion."""
    from registry.search.rules import typed_prefix

    assert "discharge-summary" in names(index.search(SearchQuery(q="fraud-summ")))  # "summ": a title's "summary"
    assert [typed_prefix(q) for q in ("short-dra", "(Invo", "snake_ca", "x", '"credit risk"', "-disch", "")] == [
        "dra", "invo", "ca", None, None, None, None]


def test_filters_are_exact(index):
    assert sorted(names(index.search(SearchQuery(industry="financial-services")))) == ["fraud-triage", "risk-report"]
    assert sorted(names(index.search(SearchQuery(tags=("risk",))))) == ["fraud-triage", "risk-report"]  # not "risky"
    assert names(index.search(SearchQuery(tags=("risk", "credit")))) == ["risk-report"]  # all must match
    assert names(index.search(SearchQuery(q="risk", owner="studio"))) == ["drama-planner"]
    assert names(index.search(SearchQuery(use_case="copywriting"))) == ["product-copy"]
    assert index.search(SearchQuery(industry="financial")).total == 0


def test_facets_add_up(index):
    results = index.search(SearchQuery(q="risk"))
    assert sum(results.facets["industry"].values()) == results.total
    everything = index.search(SearchQuery(per_page=2))
    assert everything.total == 5 and len(everything.results) == 2
    assert everything.facets["industry"] == {"financial-services": 2, "healthcare-life-science": 1,
                                             "media-entertainment": 1, "retail": 1}
    assert everything.facets["tags"]["risk"] == 2 and everything.facets["tags"]["seo"] == 1


def test_sort_orders(index):
    assert names(index.search(SearchQuery(sort="stars"))) == [
        "drama-planner", "fraud-triage", "risk-report", "discharge-summary", "product-copy"]
    assert names(index.search(SearchQuery(sort="rating")))[:2] == ["product-copy", "fraud-triage"]
    assert names(index.search(SearchQuery(sort="updated")))[0] == "discharge-summary"
    page2 = index.search(SearchQuery(sort="stars", page=2, per_page=2))
    assert names(page2) == ["risk-report", "discharge-summary"] and page2.total == 5


def test_trending_orders_by_the_usage_scores_given_then_newest(index):
    found = index.search(SearchQuery(sort="trending", trending={"3": 5.0, "4": 20.0, "gone": 99.0}))
    assert names(found)[:2] == ["discharge-summary", "product-copy"] and found.total == 5
    assert names(found)[2:] == [n for n in names(index.search(SearchQuery(sort="updated")))
                                if n not in ("discharge-summary", "product-copy")]
    risky = index.search(SearchQuery(q="risk", sort="trending", trending={"5": 1.0}))
    assert names(risky)[0] == "fraud-triage"


def test_a_query_of_exclusions_only_excludes_from_everything(index):
    found = index.search(SearchQuery(q="-drama -fraud"))
    assert "drama-planner" not in names(found) and "fraud-triage" not in names(found)
    assert found.total == 3 and "risk-report" in names(found)


def test_private_templates_only_for_their_readers(index):
    assert "internal-risk" in names(index.search(SearchQuery(q="risk", reader="carol")))
    assert "internal-risk" not in names(index.search(SearchQuery(q="risk", reader="bob")))
    assert "internal-risk" in names(index.search(SearchQuery(q="memo", see_all=True)))


def test_highlights_are_escaped_with_marks(make_index):
    ix = make_index()
    ix.upsert(SearchDoc("x", "o", "n", "<script>alert(1)</script> risk", "a <b>risk</b> text"))
    hit = ix.search(SearchQuery(q="risk")).results[0]
    assert "<script" not in hit.highlights["title"] and "&lt;/script&gt;" in hit.highlights["title"]
    assert hit.highlights["description"] == 'a &lt;b&gt;<mark class="hl">risk</mark>&lt;/b&gt; text'
    ix.upsert(SearchDoc("y", "o", "m", "Reports", "reporting " + "filler " * 80 + "final report here"))
    assert ix.search(SearchQuery(q="report", owner="o")).results[0].highlights["title"] == '<mark class="hl">Reports</mark>'


def test_hits_carry_the_start_of_the_prompt_as_plain_text(make_index):
    """Stored at indexing (rules.excerpt), read back as it is: escaping is the page's (gallery.html)."""
    ix = make_index()
    ix.upsert_many([
        SearchDoc("e1", "ex", "plain", "Plain", prompt="You are\n\n  a careful   clinician.\tBe kind.\n {{ name }}"),
        SearchDoc("e2", "ex", "hostile", "Hostile \x00\ud800", "nul \x00 and lone surrogate \udfff",
                  readme="\x00" * 10, prompt="<b>bold</b>\x00 \u202egnp.exe\ud800 " + "x" * 100_000 + " tail"),
        SearchDoc("e3", "ex", "none", "No prompt", readme="a readme is not a prompt"),
    ])
    hits = {hit.name: hit.excerpt for hit in ix.search(SearchQuery(owner="ex")).results}
    assert hits["plain"] == "You are a careful clinician. Be kind. {{ name }}"
    # NUL, the override and the lone surrogate dropped (PostgreSQL's text takes neither of the first and last)
    assert hits["hostile"] == "<b>bold</b> gnp.exe " + "x" * (200 - 20) + "…"
    assert hits["none"] == ""
    ix.upsert(SearchDoc("e1", "ex", "plain", "Plain", prompt="Changed."))
    assert [hit.excerpt for hit in ix.search(SearchQuery(q="plain", owner="ex")).results] == ["Changed."]


@pytest.mark.parametrize("kwargs", [dict(q='"unbalanced'), dict(q="x" * 10_000), dict(sort="price"),
                                    dict(page=10 ** 9), dict(per_page=0), dict(tags=tuple("abcdefghijklmnopqrstu")),
                                    dict(q="a\x00b"), dict(industry="\x00"), dict(use_case="x\x00"), dict(owner="\x00"),
                                    dict(tags=("ok", "\x00"))])
def test_bad_queries_are_invalid_input(kwargs):
    with pytest.raises(InvalidInput):
        SearchQuery(**kwargs)


def test_update_and_remove(make_index):
    ix = make_index()
    ix.upsert(CORPUS[0])
    ix.upsert(SearchDoc("1", "acme", "risk-report", "Renamed", "nothing here"))
    assert ix.count() == 1 and ix.search(SearchQuery(q="renamed")).total == 1
    ix.remove("1")
    assert ix.count() == 0


def test_an_empty_index_answers_with_nothing(make_index):
    found = make_index().search(SearchQuery(q="risk", industry="retail"))
    assert found.total == 0 and found.results == [] and found.facets["industry"] == {}


LIFECYCLE = [
    SearchDoc("p", "acme", "live", "Live risk memo", "published and valid"),
    SearchDoc("i", "acme", "broken", "Broken risk memo", "fails validate", valid=False),
    SearchDoc("d", "acme", "wip", "Draft risk memo", "work in progress", status="draft"),
    SearchDoc("d2", "other", "their-wip", "Their draft risk memo", "someone else's", status="draft",
              writers=("other", "carol")),
    SearchDoc("a", "acme", "old", "Archived risk memo", "kept for reference", status="archived"),
]


def test_lifecycle_published_and_valid_by_default_others_when_asked(make_index):
    ix = make_index()
    ix.upsert_many(LIFECYCLE)
    assert names(ix.search(SearchQuery(q="memo"))) == ["live"]
    assert sorted(names(ix.search(SearchQuery(q="memo", status="any")))) == ["broken", "live", "old"]
    assert sorted(names(ix.search(SearchQuery(q="memo", status="any", reader="acme")))) == [
        "broken", "live", "old", "wip"]  # drafts only of one's own
    assert names(ix.search(SearchQuery(q="memo", status="draft", reader="acme"))) == ["wip"]
    assert names(ix.search(SearchQuery(q="memo", status="draft"))) == []
    assert names(ix.search(SearchQuery(q="memo", status="draft", reader="carol"))) == ["their-wip"]  # a writer
    assert names(ix.search(SearchQuery(q="memo", status="archived"))) == ["old"]
    own = ix.search(SearchQuery(owner="acme", reader="acme"))  # the owner's view marks, never hides
    assert sorted(names(own)) == ["broken", "live", "old", "wip"]
    marks = {hit.name: (hit.status, hit.valid) for hit in own.results}
    assert marks["broken"] == ("published", False) and marks["wip"] == ("draft", True)
    assert names(ix.search(SearchQuery(q="memo", status="draft", see_all=True))) != []


def test_relevance_on_a_realistic_collection(make_index):
    """Recall@5 over 40 plain-language queries (tests/relevance.py); `make bench` prints it with MRR."""
    from tests.relevance import corpus, evaluate

    ix = make_index()
    ix.upsert_many(corpus())
    scores = evaluate(ix)
    assert scores.recall_at_5 >= 0.9, "\n".join(scores.misses)


def test_words_are_optional_and_more_of_them_rank_higher(index):
    found = names(index.search(SearchQuery(q="risk producer")))
    assert found[0] == "drama-planner"  # the only one with both words
    assert {"risk-report", "fraud-triage"} <= set(found)  # "risk" alone still finds them
    assert names(index.search(SearchQuery(q="the risk of a")))[:2] == names(index.search(SearchQuery(q="risk")))[:2]
    assert names(index.search(SearchQuery(q='"credit risk" -fraud'))) == ["risk-report"]
    assert "fraud-triage" not in names(index.search(SearchQuery(q="risk -fraud")))


def test_exact_name_and_title_first(index):
    assert names(index.search(SearchQuery(q="fraud-triage")))[0] == "fraud-triage"
    assert names(index.search(SearchQuery(q="product description generator")))[0] == "product-copy"


def test_british_and_american_spelling_meet(index):
    assert "discharge-summary" in names(index.search(SearchQuery(q="summarize hospital")))  # text says "Summarises"
    assert "discharge-summary" in names(index.search(SearchQuery(q="summarise hospital")))
    assert "product-copy" in names(index.search(SearchQuery(q="catalog")))  # the README says "catalogues"


def test_one_typo_in_a_longer_word_and_did_you_mean(index):
    assert names(index.search(SearchQuery(q="clinican")))[0] == "discharge-summary"  # one letter missing
    assert "discharge-summary" in names(index.search(SearchQuery(q="dsicharge")))  # two letters swapped
    nothing = index.search(SearchQuery(q="dyscharje"))  # two edits: no match, a suggestion
    assert nothing.total == 0 and nothing.suggestion == "discharge"
    assert index.search(SearchQuery(q="risk")).suggestion is None
    # nothing matches, but only because of the filter: a known word is not "corrected" ("risky")
    assert index.search(SearchQuery(q="risk", industry="retail")).suggestion is None
