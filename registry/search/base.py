"""What the gallery searches: one document per template, built from its default branch."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import InvalidInput

SORTS = ("relevance", "stars", "updated", "rating", "trending")
STATUSES = ("published", "draft", "archived", "any")  # SPEC: status=published|draft|archived|any
MAX_QUERY = 500
MAX_PAGE = 500


@dataclass(frozen=True)
class SearchDoc:
    id: str
    owner: str
    name: str
    title: str
    description: str = ""
    readme: str = ""
    prompt: str = ""  # the system prompt, then the user prompt (indexing.build_doc)
    industry: str = ""
    use_case: str = ""
    tags: tuple[str, ...] = ()
    stars: int = 0
    rating: float = 0.0
    updated_at: float = 0.0
    # Who may find it: ("*",) for public templates, else the user names that may read it.
    readers: tuple[str, ...] = ("*",)
    # The manifest's lifecycle status (draft | published | archived) and whether the default
    # branch head passes `validate`: the gallery lists published, valid templates by default.
    status: str = "published"
    valid: bool = True
    # Who may see it as a draft: its owner and collaborators who may write to it.
    writers: tuple[str, ...] = ()

    @property
    def name_words(self) -> str:
        """The name as words: `extract_wisdom` -> "extract wisdom"."""
        return self.name.replace("-", " ").replace("_", " ").replace(".", " ")

    @property
    def vocabulary_text(self) -> str:
        """What the typo vocabulary takes its words from: the short fields and the start of the
        README and prompt (both backends)."""
        return (f"{self.title} {self.name_words} {' '.join(self.tags)} {self.description} "
                f"{self.readme[:5_000]} {self.prompt[:5_000]}")

    @property
    def listing(self) -> str:
        """published (and valid) | invalid (published, failing validate) | draft | archived."""
        if self.status in ("draft", "archived"):
            return self.status
        return "published" if self.valid else "invalid"


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    industry: str | None = None
    use_case: str | None = None
    tags: tuple[str, ...] = ()
    owner: str | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    reader: str | None = None  # the caller's user name; None is anonymous
    see_all: bool = False  # admins
    # None: published, valid templates, and all of the reader's own when owner == reader.
    status: str | None = None
    # sort=trending: template id -> recent usage score (services.audit.trending_scores); others 0
    trending: Mapping[str, float] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.q) > MAX_QUERY:
            raise InvalidInput(f"q is longer than {MAX_QUERY} characters")
        if self.q.count('"') % 2:
            raise InvalidInput("q has an unbalanced quote")
        if self.sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
        if not 1 <= self.page <= MAX_PAGE:
            raise InvalidInput(f"page must be between 1 and {MAX_PAGE}")
        if not 1 <= self.per_page <= 100:
            raise InvalidInput("per_page must be between 1 and 100")
        if len(self.tags) > 20:
            raise InvalidInput("at most 20 tags")
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
        # A NUL matches nothing anywhere, and PostgreSQL's text refuses it (the search would fail).
        for name, value in (("q", self.q), ("industry", self.industry), ("use_case", self.use_case),
                            ("owner", self.owner), *(("tags", t) for t in self.tags)):
            if value and "\x00" in value:
                raise InvalidInput(f"{name} must not contain a NUL character")

    def listings(self) -> tuple[set[str], set[str]]:
        """(listings shown to everyone, listings shown only where the reader may write)."""
        if self.status is None:
            return {"published"}, ({"published", "invalid", "draft", "archived"} if self.owner and
                                   self.owner == self.reader else set())
        if self.status == "any":
            return {"published", "invalid", "archived"}, {"draft"}
        if self.status == "published":
            return {"published", "invalid"} if self.owner and self.owner == self.reader else {"published"}, set()
        if self.status == "draft":
            return set(), {"draft"}
        return {self.status}, set()


@dataclass(frozen=True)
class SearchHit:
    owner: str
    name: str
    title: str
    description: str
    industry: str
    use_case: str
    tags: list[str]
    stars: int
    rating: float
    updated_at: float
    highlights: dict[str, str] = field(default_factory=dict)  # HTML-escaped, matches in <mark>
    status: str = "published"
    valid: bool = True
    # The start of the prompt as plain text (rules.excerpt), NOT escaped: a page escapes it.
    excerpt: str = ""


@dataclass(frozen=True)
class SearchResults:
    total: int
    results: list[SearchHit]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None  # "did you mean": set when a text query matched nothing
    # Past a backend's cap of matches counted (pg_sql.CAP), `total` and the facets are estimates
    # and relevance pages end with the candidates ranked; whoosh counts every match: never set.
    total_is_estimate: bool = False


class SearchIndex(Protocol):
    @property
    def needs_rebuild(self) -> bool:
        """Whether the index was made anew, empty (whoosh, after a schema change): the caller
        reindexes every template (`registry serve` does at start). A full rebuild
        (`upsert_many(..., replace_all=True)`) clears it. PostgreSQL: never (migrations keep it)."""
        ...

    def upsert(self, doc: SearchDoc) -> None: ...
    def upsert_many(self, docs: list[SearchDoc], replace_all: bool = False) -> None: ...
    def remove(self, template_id: str) -> None: ...
    def search(self, query: SearchQuery) -> SearchResults: ...
    def count(self) -> int: ...
