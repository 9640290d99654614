"""Metadata for imported prompts, guessed from their text: a description from the first paragraph
of real prose (README, else the prompt's purpose section), a title from the folder's name, tags
and a use case from keywords, and an industry only when the text is clear about it.

Keywords, not a model: small, explainable, and the same on every machine. Each guess counts
keyword hits by stem (title and description weigh more than the prompt) and keeps what passes a bar.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from whoosh.lang.porter import stem

from .search.query import words_of

HTML_TAG = re.compile(r"<[^>]*>")
IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
CODE_FENCE = re.compile(r"```.*?```", re.S)
MARKS = re.compile(r"[*_`>|]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s")
PURPOSE = re.compile(r"^#+\s*(identity and purpose|purpose|goal|objective|task)\b.*$", re.I | re.M)

# tag -> the words that suggest it (American spelling; matched on whole words)
TAGS: dict[str, tuple[str, ...]] = {
    "code": ("code", "function", "programming", "developer", "refactor", "python", "javascript", "bug"),
    "git": ("git", "commit", "diff", "branch"),
    "testing": ("test", "tests", "unit", "pytest", "coverage"),
    "devops": ("docker", "dockerfile", "kubernetes", "deploy", "container", "bash", "shell"),
    "sql": ("sql", "query", "database", "table"),
    "writing": ("writing", "write", "essay", "prose", "grammar", "proofread", "tone", "rewrite"),
    "summary": ("summary", "summarize", "summaries", "tldr", "digest"),
    "email": ("email", "emails", "inbox"),
    "meeting": ("meeting", "meetings", "agenda", "minutes"),
    "marketing": ("marketing", "campaign", "brand", "seo", "audience", "social"),
    "sales": ("sales", "prospect", "deal", "pitch", "lead"),
    "legal": ("legal", "contract", "clause", "nda", "law", "privacy", "compliance"),
    "security": ("security", "phishing", "threat", "vulnerability", "attack", "malware"),
    "education": ("student", "students", "lesson", "quiz", "teacher", "learning", "flashcards"),
    "health": ("medical", "patient", "clinical", "symptom", "health", "doctor"),
    "finance": ("finance", "financial", "budget", "revenue", "earnings", "investor"),
    "hr": ("resume", "candidate", "interview", "hiring", "job", "recruiter"),
    "translation": ("translate", "translation", "spanish", "french", "german", "translator"),
    "media": ("video", "podcast", "youtube", "transcript", "lecture"),
    "data": ("data", "csv", "entities", "extract", "extraction", "json"),
    "support": ("support", "ticket", "customer", "complaint", "refund"),
    "planning": ("plan", "planning", "schedule", "itinerary", "week", "roadmap"),
}
USE_CASES: dict[str, tuple[str, ...]] = {
    "coding": ("code", "function", "programming", "refactor", "debug", "sql", "dockerfile", "regex", "script"),
    "summarization": ("summary", "summarize", "summaries", "tldr", "condense"),
    "extraction": ("extract", "extraction", "entities", "pull", "quotes", "insights"),
    "translation": ("translate", "translation", "translator"),
    "classification": ("classify", "triage", "categorize", "detect", "label", "rate", "grade"),
    "analysis": ("analyze", "analysis", "review", "evaluate", "assess", "audit"),
    "planning": ("plan", "planning", "schedule", "itinerary", "agenda"),
    "writing": ("write", "writing", "draft", "rewrite", "compose", "generate", "create"),
}
INDUSTRIES: dict[str, tuple[str, ...]] = {
    "healthcare-life-science": ("medical", "patient", "patients", "clinical", "clinician", "symptom", "diagnosis",
                                "hospital", "doctor"),
    "financial-services": ("finance", "financial", "earnings", "investor", "banking", "loan", "portfolio",
                           "accounting", "revenue"),
    "media-entertainment": ("video", "podcast", "film", "episode", "youtube", "screenplay", "music"),
    "retail": ("retail", "ecommerce", "shop", "product", "catalog", "merchandise"),
    "gaming": ("game", "gaming", "player", "quest", "npc"),
    "automotive": ("car", "vehicle", "automotive", "driver"),
    "manufacturing": ("manufacturing", "factory", "production", "assembly", "supplier"),
}


@dataclass(frozen=True)
class Guess:
    title: str
    description: str
    tags: tuple[str, ...]
    use_case: str
    industry: str

    def summary(self) -> str:
        """One line of what was guessed, for `registry import` to print."""
        short = self.description if len(self.description) <= 80 else self.description[:79] + "…"
        return (f'title "{self.title}", use case {self.use_case}, industry {self.industry}, '
                f'tags {", ".join(self.tags) or "none"}; description "{short}"')


def guess(name: str, readme: str, prompt: str) -> Guess:
    description = first_paragraph(readme) or purpose(prompt) or ""
    title = title_from_name(name)
    counts = _weighted_counts(f"{title} {name.replace('-', ' ').replace('_', ' ')}", description, prompt)
    tags = _best(TAGS, counts, limit=4, bar=3)
    use_case = next(iter(_best(USE_CASES, counts, limit=1, bar=3)), "general")
    industry = next(iter(_best(INDUSTRIES, counts, limit=1, bar=5)), "other")
    return Guess(title, description, tags, use_case, industry)


def title_from_name(name: str) -> str:
    """`extract_wisdom` -> "Extract wisdom"."""
    words = re.sub(r"[-_.]+", " ", name).strip()
    return (words[:1].upper() + words[1:])[:200] or name


def plain(markdown: str) -> str:
    """Markdown and HTML reduced to their prose: no tags, images, badges, code or headings."""
    text = CODE_FENCE.sub("\n\n", markdown)
    text = IMAGE.sub("", HTML_TAG.sub("", text))
    text = LINK.sub(r"\1", text)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return MARKS.sub("", "\n".join(lines))


def first_paragraph(markdown: str, limit: int = 300) -> str:
    """The first paragraph of real prose (three words or more), cut at a sentence end near `limit`."""
    for block in re.split(r"\n\s*\n", plain(markdown)):
        words = block.split()
        if len(words) >= 3:
            return _cut(" ".join(words), limit)
    return ""


def purpose(prompt: str, limit: int = 300) -> str:
    """A prompt's purpose section (IDENTITY and PURPOSE, GOAL...), else its first paragraph."""
    found = PURPOSE.search(prompt)
    return first_paragraph(prompt[found.end():] if found else prompt, limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    sentences = SENTENCE_END.split(text)
    kept = ""
    for sentence in sentences:
        if len(kept) + len(sentence) + 1 > limit:
            break
        kept = f"{kept} {sentence}".strip()
    return kept or text[:limit].rsplit(" ", 1)[0] + "…"


def _weighted_counts(title: str, description: str, prompt: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text, weight in ((title, 3), (description, 2), (prompt, 1)):
        for word in words_of(text):
            counts[stem(word)] += weight
    return counts


@lru_cache(maxsize=256)
def _stemmed(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(stem(w) for w in words)


def _best(table: dict[str, tuple[str, ...]], counts: Counter[str], limit: int, bar: int) -> tuple[str, ...]:
    scores = {label: sum(counts[s] for s in _stemmed(words)) for label, words in table.items()}
    ranked = sorted((label for label, score in scores.items() if score >= bar), key=lambda label: -scores[label])
    return tuple(ranked[:limit])
