"""The relevance set: 70 prompt templates written like a real public collection (READMEs with
HTML clutter, British and American spelling, key words only in the prompt) and 40 queries typed
the way people type them, each with the templates that answer it (tests/fixtures/relevance/).

A query is found when an answering template is in the top 5: recall@5 is the share of queries
found; MRR averages 1/rank of the first answering template (0 when none is in the top 10)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from registry.guess import first_paragraph, purpose
from registry.search import SearchDoc, SearchQuery

HERE = Path(__file__).parent / "fixtures" / "relevance"


def corpus() -> list[SearchDoc]:
    docs = []
    for i, t in enumerate(json.loads((HERE / "collection.json").read_text())):
        docs.append(SearchDoc(
            id=f"r{i}", owner="gallery", name=t["name"], title=t["title"],
            description=first_paragraph(t["readme"]) or purpose(t["system"]), readme=t["readme"], prompt=t["system"],
            industry=t["industry"], use_case=t["use_case"], tags=tuple(t["tags"]), updated_at=float(i)))
    return docs


def queries() -> list[dict]:
    return json.loads((HERE / "queries.json").read_text())


@dataclass
class Scores:
    recall_at_5: float
    mrr: float
    misses: list[str]


def evaluate(index) -> Scores:
    found = 0
    reciprocal = 0.0
    misses = []
    qs = queries()
    for query in qs:
        names = [hit.name for hit in index.search(SearchQuery(q=query["q"], per_page=10)).results]
        ranks = [names.index(n) + 1 for n in query["relevant"] if n in names]
        first = min(ranks) if ranks else None
        if first is not None and first <= 5:
            found += 1
        else:
            misses.append(f"{query['q']!r}: wanted {query['relevant']}, got {names[:5]}")
        reciprocal += 1 / first if first else 0.0
    return Scores(found / len(qs), reciprocal / len(qs), misses)
