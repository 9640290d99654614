"""SearchIndex on PostgreSQL full-text search (REGISTRY_SEARCH=postgres): the same behaviour as
the whoosh index, checked by the same contract suite, with nothing kept on a node.

One narrow row per template in `search_docs` (migrations 0002, 0005): a weighted tsvector (title
and name A, description B, tag words without positions, README and prompt C, which are not kept
but for the prompt's start, `excerpt`: 0012) that matches, a smaller one of the short fields that
ranks, under GIN indexes, as are the tags; all text in American spelling. `search_words` is the
vocabulary under a trigram index.

Queries mean what `query.py` says: optional words (OR, ranked by cover density, an exact name or
title first), required "phrases", -excluded words, one-typo neighbours from the vocabulary, and
"did you mean" when nothing matches; the last word also counts as a prefix of a title word
(type-ahead). Privacy by readers in the WHERE clause: no count or facet holds what the reader may
not see.

One statement per search after the typo lookups (pg_sql): the text matches and the exact filters
come from the GIN indexes alone; the reader's filters, the rank, the page, the total and the facets
read those rows once. Two common words match a third of all templates, so each step per matching
row counts (see `_rank`), and past pg_sql.CAP matches the total and facets are estimated: where
the planner expects many matches, from a hashed eighth of the templates (`_sampled`)."""
from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Engine, text

from . import query as meaning
from . import rules
from .base import SearchDoc, SearchHit, SearchQuery, SearchResults
from .highlight import query_terms
from .pg_sql import CAP, DENSITY, EXACT, SAMPLE, SHARE_OF, TIER, TRENDING, estimate, scaled, statement
from .spelling import americanize

TRENDING_MAX = 1000  # templates ordered by usage for sort=trending; the rest follow, newest first

UPSERT = text("""
INSERT INTO search_docs (id, owner, name, title, name_words, description, industry, use_case, tags, display_tags,
                         stars, rating, updated_at, readers, listing, writers, excerpt, document, rank_vector)
VALUES (:id, :owner, :name, :title, :name_words, :description, :industry, :use_case, :tags, :display_tags,
        :stars, :rating, :updated_at, :readers, :listing, :writers, :excerpt,
        setweight(to_tsvector('english', :title_us || ' ' || :name_words), 'A') ||
        strip(to_tsvector('english', :tag_words)) ||  -- no positions: no phrase spans two tags
        setweight(to_tsvector('english', :description_us || ' ' || :use_case_words), 'B') ||
        setweight(to_tsvector('english', :readme || ' ' || :prompt), 'C'),
        setweight(to_tsvector('english', :title_us || ' ' || :name_words), 'A') ||
        strip(to_tsvector('english', :tag_words)) || setweight(to_tsvector('english', :description_us), 'B'))
ON CONFLICT (id) DO UPDATE SET owner=excluded.owner, name=excluded.name, title=excluded.title,
  name_words=excluded.name_words, description=excluded.description, industry=excluded.industry,
  use_case=excluded.use_case, tags=excluded.tags, display_tags=excluded.display_tags, stars=excluded.stars,
  rating=excluded.rating, updated_at=excluded.updated_at, readers=excluded.readers, listing=excluded.listing,
  writers=excluded.writers, excerpt=excluded.excerpt, document=excluded.document, rank_vector=excluded.rank_vector
""")
# For this search's transaction only, in one round trip:
# - the planner prices `document @@ query` as cheap and picks a sequential scan for common words;
#   reading each row's large tsvector makes that 10-25x slower than the GIN index (measured at
#   20,000 templates: 58 ms against 2.4 ms);
# - psycopg prepares a statement run 5 times, and after 5 more PostgreSQL may switch to a generic
#   plan, blind to how common the words and tags are: 350-700 ms instead of 20 for a word and a tag;
# - the trigram similarity that finds typo neighbours (`_near`);
# and which of the query's longer words the vocabulary has (query.with_typos), by a range, not
# `word = ANY(...)`: the trigram index serves equality too, and the planner took it, reading the
# long trigram lists of every word (9 ms for two words at 20,000 templates, against 0.1 ms in the
# primary key). One statement, the first of each search: a round trip was ~0.1 ms of 5.
PRELUDE = text("SELECT set_config('enable_seqscan', 'off', true), "
               "set_config('plan_cache_mode', 'force_custom_plan', true), "
               "set_config('pg_trgm.similarity_threshold', '0.2', true), "
               "ARRAY(SELECT w FROM unnest(CAST(:w AS text[])) AS w WHERE EXISTS "
               "(SELECT FROM search_words WHERE word >= w AND word <= w))")
WORDS = text("INSERT INTO search_words SELECT unnest(CAST(:words AS text[])) ON CONFLICT DO NOTHING")


class PostgresIndex:
    def __init__(self, engine: Engine, cap: int = CAP) -> None:
        self.engine = engine
        self.cap = cap  # matches ranked and counted exactly (pg_sql)
        self.tier = cap  # relevance candidates past the cap besides the sample
        self.sample = SAMPLE  # matches read from the sample index (migration 0008), past
        self.sample_from = cap  # this many matches expected (past it they are estimated anyway)
        self.needs_rebuild = False  # the migrations change its tables with their rows: never

    # -- writing ------------------------------------------------------------------------
    def upsert(self, doc: SearchDoc) -> None:
        self.upsert_many([doc])

    def upsert_many(self, docs: list[SearchDoc], replace_all: bool = False) -> None:
        """All in one transaction: readers see the old documents or the new, never half."""
        with self.engine.begin() as conn:
            if replace_all:
                conn.execute(text("DELETE FROM search_docs"))
                conn.execute(text("DELETE FROM search_words"))
            if docs:
                rows = [_row(doc) for doc in docs]
                conn.execute(UPSERT, rows)
                # Sorted: concurrent writers take the words' index entries in one order (no deadlock).
                conn.execute(WORDS, {"words": sorted({w for doc in docs for w in meaning.words_of(doc.vocabulary_text)})})

    def remove(self, template_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM search_docs WHERE id = :id"), {"id": template_id})

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM search_docs")).scalar_one())

    # -- reading ------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResults:
        """One transaction, one connection: the typo lookups, the search and the suggestion."""
        with self.engine.begin() as conn:
            return self._search(conn, query)

    def _search(self, conn: Any, query: SearchQuery) -> SearchResults:
        params = dict[str, Any]()
        where = _filters(query, params)
        exact = _exact(query, params)
        rank, pooled, tier = "0", False, None
        parsed, excluded = rules.understood(query.q)
        q = query.q.strip() if parsed is not None else ""
        if excluded:
            exact.append("NOT document @@ to_tsquery('english', :excluded)")
            params["excluded"] = " | ".join(excluded)
        known = set(conn.execute(PRELUDE, {"w": meaning.checked(parsed) if parsed else []}).one()[-1])
        near = cache(lambda word: _near(conn, word))  # the typo neighbours, then "did you mean": one lookup
        matching, fenced = " AND ".join(exact) or "TRUE", False
        if parsed is not None:
            parsed = meaning.with_typos(parsed, lambda words: known, lambda word, n: near(word))
            # The text matches with the exact filters, from the GIN indexes, then the reader's
            # filters on them (OFFSET 0 keeps those out): given one on a listing, nearly every
            # row, the planner would scan by it and read each candidate's large, out-of-line document.
            matching, fenced = _match(q, parsed, params, exact), True
            if query.sort == "relevance":
                rank, pooled = _rank(parsed, params)
                # A title word implies a match unless phrases or exclusions decide.
                tier = " AND ".join([TIER, *exact, *([matching] if parsed.phrases or parsed.excluded else [])])
        order = "rank DESC, updated_at DESC, id" if q and query.sort == "relevance" else \
            f"{rules.sort_column(query.sort)} DESC, id"
        if query.sort == "trending":  # the most used first, by their place in a list sorted by score
            params["trending"] = sorted(query.trending, key=lambda t: -query.trending[t])[:TRENDING_MAX]
            order = TRENDING
        params |= {"limit": query.per_page, "offset": (query.page - 1) * query.per_page, "tier": self.tier}
        params["last"] = params["offset"] + query.per_page - 1  # the page's last row, from 0
        sampled = self._sampled(conn, parsed, exact, where, params)
        while True:
            sample = self.sample if sampled else self.cap
            params |= {"cap": -1 if sampled else self.cap, "sample": sample + 1}
            sql = statement(matching, fenced, " AND ".join(where), rank, pooled, order, query.sort, tier, sampled)
            found, pages_read, pages, page, industries, tags = conn.execute(text(sql), params).one()
            if not sampled or found * SHARE_OF >= self.cap:
                break
            # Far fewer than the planner expected (it takes filters as independent): the sample
            # would leave most of them out of the page; all the matches are few enough to read.
            sampled = None
        total, factor = estimate(found, pages_read, pages, sample, SHARE_OF if sampled else 1)
        terms = query_terms(q) if q else set()
        hits = [_hit(row, terms) for row in page]
        hint = rules.suggestion(q, parsed, total, lambda word, n: near(word))
        facets = rules.facets(scaled(industries, factor), scaled(tags, factor))
        return SearchResults(total, hits, facets, hint, total_is_estimate=found > self.cap or sampled is not None)

    def _sampled(self, conn: Any, parsed: meaning.Parsed | None, exact: list[str], where: list[str],
                 params: dict[str, Any]) -> str | None:
        """The text match and the exact filters (or the filters alone), to read the sample from the
        templates of the sample index (migration 0008), if the planner expects `sample_from` matches
        or more (the cap's worth: their total is an estimate either way); else None. Plain words
        only: the type-ahead prefix is left out of a sample (its matches that hold no query word rank
        last), and the statistics cannot estimate phrases. Filters alone are sampled only if they
        can use the index (not an exclusion, not nothing at all)."""
        if parsed is None and (not exact or "excluded" in params) or parsed is not None and parsed.phrases:
            return None
        full = " AND ".join([*(["document @@ to_tsquery('english', :tsq)"] if parsed else []), *exact])
        plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) SELECT FROM search_docs WHERE {full} AND "
                                 f"{' AND '.join(where)}"), params).scalar_one()
        return full if plan[0]["Plan"]["Plan Rows"] >= self.sample_from else None


def _filters(query: SearchQuery, params: dict[str, Any]) -> list[str]:
    """Who may see what: readers, listing and writers."""
    where = ["TRUE"]
    if not query.see_all:
        where.append("readers && :readers")
        params["readers"] = ["*", query.reader] if query.reader else ["*"]
    shared, own = query.listings()
    params["shared"], params["own"], params["me"] = sorted(shared), sorted(own), query.reader or ""
    mine = "listing = ANY(:own)" + ("" if query.see_all else " AND :me = ANY(writers)")
    where.append(f"(listing = ANY(:shared) OR ({mine}))")
    return where


def _exact(query: SearchQuery, params: dict[str, Any]) -> list[str]:
    """The exact filters: columns of the matching index (migration 0007)."""
    exact = []
    for column, value in rules.exact_filters(query):
        exact.append(f"{column} = :{column}")
        params[column] = value
    if query.tags:
        exact.append("tags @> :tags")
        params["tags"] = rules.tag_keys(query.tags)
    return exact


def _rank(parsed: meaning.Parsed, params: dict[str, Any]) -> tuple[str, bool]:
    """The rank: how many of the words match (read from the small rank vector), then cover density
    (below 1), an exact name or title above all; and whether the page is POOLED.

    One word: both are 0 where the rank vector lacks it (most matches of a common word are in
    READMEs and prompts), so one test spares those the rest. Two words or more: the rank here is
    the whole-number part; cover density is added for the rows POOLED can still bring to the page."""
    cover = " + ".join(f"(rank_vector @@ to_tsquery('english', :w{i}))::int" for i in range(len(parsed.words))) or "0"
    params |= {f"w{i}": _group(w, parsed) for i, w in enumerate(parsed.words)}
    if len(parsed.words) >= 2:
        return f"{cover} + {EXACT}", True
    if parsed.words and not parsed.phrases:
        cover = "1"  # the one word is all the test looks for
    return f"CASE WHEN rank_vector @@ to_tsquery('english', :ranked) THEN {cover} + {DENSITY} ELSE 0 END + {EXACT}", False


def _match(q: str, parsed: meaning.Parsed, params: dict[str, Any], exact: list[str]) -> str:
    """The parsed query as a tsquery over the weighted document; or all but the last word so, and
    the last as the prefix of a title word (type-ahead). With the `exact` filters in each index
    scan (migration 0007): else the planner scans by a filter and reads each row's document."""
    params["tsq"] = _tsquery(parsed) or "''"
    params["ranked"] = " | ".join(_group(w, parsed) for w in parsed.every_word()) or "''"
    params["exact"], params["exact_length"] = parsed.exact, len(parsed.exact)
    full = " AND ".join(["document @@ to_tsquery('english', :tsq)", *exact])
    prefix = rules.typed_prefix(q)  # letters and digits only: no tsquery syntax
    if prefix is None:
        return full
    params["prefix"] = prefix + ":*"
    typed = " AND ".join(["title_words @@ to_tsquery('simple', :prefix)", *exact])
    words = q.split()
    head = meaning.parse(" ".join(words[:-1])) if len(words) > 1 else None
    if head is None or head.empty:
        return f"({full} OR {typed})"  # two GIN index scans OR-ed: no document is read
    if _implies(head, parsed):
        return full  # what the prefix adds also holds one of the other words: it matches anyway
    params["tsq_head"] = _tsquery(head) or "''"
    typed += " AND document @@ to_tsquery('english', :tsq_head)"
    # A UNION, not an OR: each side is a GIN index scan (an OR tests each row's document again).
    return f"id IN (SELECT id FROM search_docs WHERE {full} UNION SELECT id FROM search_docs WHERE {typed})"


def _implies(head: meaning.Parsed, parsed: meaning.Parsed) -> bool:
    """Whether a document matching `head` (the query but its last word) matches `parsed` too:
    plain words only, `head`'s among `parsed`'s, and no more exclusions than `head` has."""
    return (not head.phrases and not parsed.phrases and set(head.words) <= set(parsed.words)
            and set(parsed.excluded) <= set(head.excluded))


def _group(word: str, parsed: meaning.Parsed) -> str:
    """A word and its typo neighbours, as tsquery alternatives (words are [a-z0-9]+: no syntax)."""
    return "(" + " | ".join([word, *parsed.alternatives.get(word, ())]) + ")"


def _tsquery(parsed: meaning.Parsed) -> str:
    """Required phrases AND-ed; else the optional words OR-ed; minus the excluded words."""
    if parsed.phrases:
        found = " & ".join("(" + " <-> ".join(p) + ")" for p in parsed.phrases)
    else:
        found = " | ".join(_group(w, parsed) for w in parsed.words)
    if found and parsed.excluded:
        found = f"({found}) & " + " & ".join(f"!{w}" for w in parsed.excluded)
    return found


def _near(conn: Any, word: str) -> list[str]:
    """Vocabulary words that share trigrams with `word`, closest first (query.py checks the distance)."""
    return list(conn.execute(text("SELECT word FROM search_words WHERE word % :w AND left(word, 1) = left(:w, 1) "
                                  "ORDER BY word <-> :w LIMIT 20"), {"w": word}).scalars())


def _row(doc: SearchDoc) -> dict[str, Any]:
    readme, prompt = rules.long_text(doc)
    row = {"id": doc.id, "owner": doc.owner, "name": doc.name, "title": rules.shown_title(doc),
            "name_words": doc.name_words, "title_us": americanize(rules.shown_title(doc)),
            "description": doc.description, "description_us": americanize(doc.description),
            "tag_words": americanize(" ".join(t.replace("-", " ") for t in doc.tags)),
            "use_case_words": americanize(doc.use_case.replace("-", " ")),
            "readme": americanize(readme), "prompt": americanize(prompt),
            "industry": doc.industry or "", "use_case": doc.use_case or "", "tags": rules.tag_keys(doc.tags),
            "display_tags": list(doc.tags), "stars": int(doc.stars), "rating": float(doc.rating),
            "updated_at": float(doc.updated_at), "readers": list(doc.readers), "listing": doc.listing,
            "writers": list(rules.draft_writers(doc)), "excerpt": rules.excerpt(doc.prompt)}
    return {key: _text(value) if isinstance(value, str) else [_text(v) for v in value] if isinstance(value, list)
            else value for key, value in row.items()}


def _text(value: str) -> str:
    """What PostgreSQL's text takes: no NUL, no lone surrogate (a JSON string of a manifest may
    hold either, a README NULs; psycopg would refuse the whole upsert)."""
    value = value.replace("\x00", " ")
    try:
        value.encode()
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode()
    return value


def _hit(row: dict[str, Any], terms: set[str]) -> SearchHit:
    return rules.hit(owner=row["owner"], name=row["name"], title=row["title"], description=row["description"],
                     industry=row["industry"], use_case=row["use_case"], tags=list(row["display_tags"] or []),
                     stars=int(row["stars"]), rating=float(row["rating"]), updated_at=float(row["updated_at"]),
                     listing=row["listing"], terms=terms, excerpt=row["excerpt"])
