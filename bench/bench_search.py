"""Gallery search at 20,000 templates: indexing rate, and p50/p95 of 200 mixed queries through
the HTTP API against the same queries on a plain whoosh searcher (no facets, no highlights).

    make bench   (or: python -m bench.bench_search [--docs 20000] [--queries 200])
"""
from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.stats import pct
from registry.search import SearchDoc, WhooshIndex
from tests.services import registry_server

INDUSTRIES = ["media-entertainment", "healthcare-life-science", "retail", "manufacturing", "automotive",
              "financial-services", "gaming", "other"]
DOMAIN = ["risk", "report", "summary", "drama", "episode", "planner", "product", "copy", "clinical", "discharge", "fraud", "alert", "triage", "invoice", "contract", "legal", "review", "video", "teaser", "story", "outline", "recipe", "support", "ticket", "email", "reply", "translation", "tutor", "lesson", "quiz", "code", "bug", "marketing", "campaign", "slogan", "scene", "script"]
SYLLABLES = ["ka", "lo", "mi", "ren", "tor", "pa", "vel", "si", "qua", "dor", "en", "ul", "mar", "tis", "ob", "fen", "gra", "lu", "ne", "zo"]
# A Zipf-shaped vocabulary of ~8,000 words, as real descriptions have: a few very common
# words, a long tail of rare ones. (A 45-word vocabulary would make every query match every doc.)
FILLER = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES})[:8000]
VOCAB = FILLER[:300] + DOMAIN + FILLER[300:]  # domain words are mid-frequency, as in real text
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCAB))]
# The same draws as weights=WEIGHTS (random.choices accumulates them first), without summing
# 8,000 weights per call: generating the 200,000-template corpus took 5 minutes doing that.
CUM_WEIGHTS = list(itertools.accumulate(WEIGHTS))
WORDS = DOMAIN
TAGS = ["risk", "video", "seo", "summary", "fraud", "legal", "email", "code", "tutor", "marketing",
        "translation", "support", "short-drama", "finance", "health", "retail", "games", "cars", "ops", "hr"]


def make_doc(i: int, rnd: random.Random) -> SearchDoc:
    def text(k: int) -> str:
        return " ".join(rnd.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=k))

    title = " ".join([rnd.choice(DOMAIN), *rnd.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=2)]).capitalize()
    return SearchDoc(
        id=f"t{i}", owner=f"user{i % 500}", name=f"template-{i}", title=title,
        description=text(20), readme=text(120), prompt=text(60), industry=rnd.choice(INDUSTRIES),
        use_case=rnd.choice(DOMAIN),
        tags=tuple(rnd.sample(TAGS, 3)), stars=rnd.randint(0, 500), rating=round(rnd.uniform(1, 5), 1),
        updated_at=1_700_000_000 + i * 60)


def mixed_queries(n: int, rnd: random.Random) -> list[dict]:
    out = []
    for i in range(n):
        q: dict = {"per_page": 20}
        kind = i % 5
        if kind in (0, 1, 2):
            q["q"] = " ".join(rnd.sample(WORDS, rnd.choice([1, 2])))
        if kind == 1:
            q["industry"] = rnd.choice(INDUSTRIES)
        if kind == 2:
            q["tags"] = rnd.choice(TAGS)
        if kind == 3:
            q["q"] = rnd.choice(WORDS)[:3]  # type-ahead prefix
        if kind == 4:
            q["sort"] = rnd.choice(["stars", "updated", "rating"])
            q["industry"] = rnd.choice(INDUSTRIES)
        out.append(q)
    return out


def through_api(data: Path, env: dict[str, str], queries: list[dict], index: Any,
                probe: str) -> tuple[float, float, float]:
    """(p50 ms, p95 ms) of `queries` through a `registry serve` on `data`, and how many ms a
    one-template update written to `index` takes to be found through the API."""
    with registry_server(data, {"REGISTRY_RATE_LIMIT_ANONYMOUS": "0"} | env) as server, \
            httpx.Client(base_url=server.url + "/api/v1") as api:
        api.get("/search", params={"q": "warm"})
        times = []
        for params in queries:
            t0 = time.perf_counter()
            api.get("/search", params=params).raise_for_status()
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        index.upsert(SearchDoc(id="t1", owner="user1", name="template-1", title=f"{probe} orchestra"))
        while not api.get("/search", params={"q": probe}).json()["total"]:
            time.sleep(0.005)
        visible = time.perf_counter() - t0
    return statistics.median(times) * 1000, pct(times, 0.95) * 1000, visible * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rnd = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp_s:
        data = Path(tmp_s) / "data"
        index = WhooshIndex(data / "search")
        docs = [make_doc(i, rnd) for i in range(args.docs)]
        start = time.perf_counter()
        for chunk in range(0, len(docs), 2000):
            index.upsert_many(docs[chunk:chunk + 2000])
        rate = len(docs) / (time.perf_counter() - start)
        print(f"indexing: {args.docs} docs at {rate:.0f} docs/s (batches of 2000)")
        queries = mixed_queries(args.queries, rnd)

        # Baseline: the same text queries on a plain whoosh searcher, page 1 of 20, nothing else.
        from whoosh.qparser import MultifieldParser
        from whoosh.query import Every

        plain = index.ix.searcher()
        qp = MultifieldParser(["title", "body"], index.ix.schema)
        base_times = []
        for params in queries:
            t0 = time.perf_counter()
            plain.search_page(qp.parse(params["q"]) if params.get("q") else Every(), 1, pagelen=20)
            base_times.append(time.perf_counter() - t0)

        p50, p95, visible = through_api(data, {}, queries, index, "xylophone")
        b50, b95 = statistics.median(base_times) * 1000, pct(base_times, 0.95) * 1000
        print(f"queries via HTTP API ({args.queries} mixed, facets + highlights): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        print(f"plain whoosh baseline (same queries, in-process, no facets): p50 {b50:.1f} ms, p95 {b95:.1f} ms "
              f"-> API/baseline p95 ratio {p95 / b95:.1f}x")
        print(f"one-template update visible through the API after {visible:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
