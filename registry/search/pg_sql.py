"""The statement that answers one search on PostgreSQL (pg_index): its page, total and facets, in
one round trip. Exact up to CAP matches; past the cap, approximate, as most search engines are.

Ranking and counting every match costs as much as the matches are many: at 200,000 templates a
common word matches 90,000 rows, and each costs a heap page visit and its rank (~2-5 us), 170 ms
in all. So the matches are read in table order until CAP + 1 pass the filters (`m`). Within the
cap `m` is every match: the page, the total and the facets are exact. Past it, `m` is a sample of
the matches, from the first part of the table:
- the total is estimated from it: CAP + 1 matches in that many of the table's pages, scaled to all
  of them (`estimate`), and flagged (SearchResults.total_is_estimate);
- the facets are its counts, scaled the same way (they add up to the estimate, as they add up to
  the total when exact); all from rows the reader may see, as every count is;
- sort=relevance ranks, exactly, the sample and up to CAP templates holding a query word in their
  title or name (`TIER`, under its own index: migration 0007), where the highest ranks are; its
  pages end where those candidates do. (Without them, the first page of a common word shared a
  tenth of its templates with the exact ranking's, with them half.)
- the other sorts read their page from all the matches by their sort's index: exact.

Where the planner expects at least the cap's worth of matches (pg_index._sampled), `m` is read
instead from the eighth of the templates (a hash of the id: SHARE) that the sample index holds
(migration 0008), SAMPLE of them at most, and scaled up by eight as well. A GIN index hands over
all its matches as one bitmap: for two common words at 200,000 templates that bitmap alone cost
14 ms (88,000 rows), of which 2,001 were read; and a filter alone read 2,001 rows just to count
them. Measured on the bench's queries against exact counts and ranking: the pages are the same
(relevance pages come from the tier), the totals' mean error 2.0% -> 2.3%, the facets' 7% -> 10%.
Where the eighth holds far fewer matches than expected (under CAP / 8: the planner takes the
filters as independent), the statement runs again on all of them: a sample of a few would leave
most matches off the pages.

CAP: measured at 200,000 templates, p95 of the bench's queries (bench_search_pg) straight on the
index, 2,000: ~60 ms; 10,000: ~160 ms (the sample and the candidates each cost a row's read and rank).
"""
from __future__ import annotations

CAP = 2_000  # matches ranked and counted exactly; past it, estimated
# The templates of the sample index (migration 0008, whose predicate this is word for word), and
# how many of all they are: where many more than the cap match, the sample `m` is read from them.
SHARE, SHARE_OF = "hashtext(id) & 7 = 0", 8
SAMPLE = 1_000  # matches read from SHARE: 2,000 gave the same pages and barely better estimates

# What the filters, the rank and the facets read of a match (not the document).
FOUND = ("id, owner, name, title, name_words, industry, use_case, tags, stars, rating, updated_at, "
         "readers, listing, writers, rank_vector, ctid AS tid")
# What a hit shows, read for the page's rows only (d: search_docs).
PAGE = ", ".join(f"'{c}', d.{c}" for c in ("owner", "name", "title", "description", "industry", "use_case",
                                          "display_tags", "stars", "rating", "updated_at", "listing", "excerpt"))
# Cover density of the rank vector, divided by itself + 1 (normalization 32): below 1, so it orders
# matches of as many words, never ranks a match of fewer above them.
DENSITY = "ts_rank_cd(rank_vector, to_tsquery('english', :ranked), 33)"
# A title lower-cases to the query only if as long (case mapping keeps the character count, but
# for U+0130, never to ASCII): the length is tested before lower() copies the title.
EXACT = ("CASE WHEN name = :exact OR name_words = :exact OR length(title) = :exact_length AND lower(title) = :exact "
         "THEN 100 ELSE 0 END")
# Relevance candidates past the cap: a query word in the title or name (weight A of the rank vector).
TIER = "ts_filter(rank_vector, '{a}') @@ to_tsquery('english', :ranked)"
# The page when the rank in {m} is whole numbers (_rank): density < 1 cannot lift a row past one
# ranked higher there, so only rows ranked at least as high as the page's last row can be on it;
# those are fully ranked from the rank vector {m} kept of them. (Reading them again by tuple id
# cost more: most of two common words' candidates tie at one word, 2,000 rows read twice, 12 ms.)
POOLED = """SELECT id FROM {m} WHERE rank >= coalesce((SELECT rank FROM {m} ORDER BY rank DESC LIMIT 1 OFFSET :last), 0)
  ORDER BY rank + """ + DENSITY + """ DESC, updated_at DESC, id LIMIT :limit OFFSET :offset"""
TRENDING = "array_position(CAST(:trending AS text[]), id) NULLS LAST, updated_at DESC, id"
# sort=trending past the cap: the matching templates of the trending list in its order, then the
# other matches newest first (by the index), the page taken across the two.
TRENDING_PAGE = """(ARRAY(SELECT id FROM tr ORDER BY n LIMIT :limit OFFSET :offset) ||
  ARRAY(SELECT id FROM search_docs WHERE {matching} AND {where} AND id <> ALL(CAST(:trending AS text[]))
        ORDER BY updated_at DESC, id LIMIT :limit OFFSET greatest(0, :offset - (SELECT count(*) FROM tr))))[1:(:limit)]"""


def statement(matching: str, fenced: bool, where: str, rank: str, pooled: bool, order: str, sort: str,
              tier: str | None, sampled: str | None = None) -> str:
    """`matching`: what finds the matches by index (the text and the exact filters), `fenced` to
    read them by that alone (pg_index._search says why); `where`: the reader's filters; `rank`
    and `pooled`: pg_index._rank, `rank` "0" unless sort=relevance with text; `order`: the SQL
    order of the exact page; `tier`: what else marks relevance candidates past the cap;
    `sampled`: the matches among the SHARE templates, to read the sample from (then the caller
    passes a cap of -1: the sample is never all the matches)."""
    found = f"{sampled} AND {SHARE}" if sampled else matching
    source = f"(SELECT {FOUND} FROM search_docs WHERE {found}{' OFFSET 0' if fenced else ''}) found"
    kept = ", rank_vector" if pooled else ""  # what POOLED ranks by
    ctes = f"m AS MATERIALIZED (SELECT id, industry, tags, stars, rating, updated_at, {rank} AS rank, tid{kept} " \
           f"FROM {source} WHERE {where} LIMIT :sample)"
    exact = POOLED.format(m="m") if pooled else f"SELECT id FROM m ORDER BY {order} LIMIT :limit OFFSET :offset"
    if rank != "0":  # relevance: the sample and the tier, ranked (UNION ALL: a UNION compares rank vectors)
        ctes += f""",
c AS MATERIALIZED (SELECT id, updated_at, rank{kept} FROM m UNION ALL
  SELECT * FROM (SELECT id, updated_at, {rank} AS rank{kept} FROM (SELECT {FOUND} FROM search_docs WHERE {tier} OFFSET 0) t
   WHERE {where} LIMIT :tier) t WHERE id NOT IN (SELECT id FROM m))"""
        capped = POOLED.format(m="c") if pooled else \
            "SELECT id FROM c ORDER BY rank DESC, updated_at DESC, id LIMIT :limit OFFSET :offset"
        capped = f"ARRAY({capped})"
    elif sort == "trending":
        ctes += f""",
tr AS (SELECT id, n FROM unnest(CAST(:trending AS text[])) WITH ORDINALITY AS t(id, n) JOIN search_docs USING (id)
  WHERE {matching} AND {where})"""
        capped = TRENDING_PAGE.format(matching=matching, where=where)
    else:
        capped = f"ARRAY(SELECT id FROM search_docs WHERE {matching} AND {where} ORDER BY {order} " \
                 f"LIMIT :limit OFFSET :offset)"
    # The matches are found (and ranked) once; the page (with its rows), the count, how much of
    # the table they came from and both facets read them. Only the page's branch runs. (How much
    # of the table: the block of the largest tuple id, one tid-to-text conversion, not one a row.)
    return f"""
WITH {ctes}
SELECT (SELECT count(*) FROM m), (SELECT (max(tid)::text::point)[0] + 1 FROM m),
  pg_relation_size('search_docs') / current_setting('block_size')::int,
  (SELECT coalesce(json_agg(json_build_object({PAGE}) ORDER BY p.n), '[]') FROM search_docs d JOIN
     unnest(CASE WHEN (SELECT count(*) FROM m) <= :cap THEN ARRAY({exact}) ELSE {capped} END)
     WITH ORDINALITY AS p(id, n) USING (id)),
  (SELECT coalesce(json_object_agg(industry, n), '{{}}') FROM (SELECT industry, count(*) AS n FROM m GROUP BY industry) f),
  (SELECT coalesce(json_object_agg(tag, n), '{{}}') FROM
     (SELECT tag, count(*) AS n FROM (SELECT unnest(tags) AS tag FROM m) e GROUP BY tag) t)"""


def estimate(found: int, pages_read: int | None, pages: int, cap: int, share: int = 1) -> tuple[int, float]:
    """(the total, how much to scale the sample's facet counts by) of `found` matches read from
    the first `pages_read` of the table's `pages`, among one in `share` templates: exact within
    the cap of all templates, else scaled up (the bitmap and btree scans read the table in order)."""
    if share == 1 and found <= cap or not found:
        return found, 1.0
    read = max(pages, pages_read or 0) / pages_read if found > cap and pages_read else 1.0
    total = max(found, round(found * read * share))
    return total, total / found


def scaled(counts: dict[str, int], factor: float) -> dict[str, int]:
    return counts if factor == 1.0 else {key: max(1, round(n * factor)) for key, n in counts.items()}
