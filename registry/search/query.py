"""What a search box query means, the same for every backend.

Plain words are optional: a template matching more of them ranks higher (each backend scores
them BM25-style). "Quoted phrases" must match; -words must not. Stop words and filler ("please",
"help me") are ignored while other words remain. Words are put in American spelling. A longer
word the index has never seen is read with its one-typo neighbours from the index's vocabulary;
when nothing matches at all, the closest vocabulary words make a "did you mean" suggestion.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .spelling import american


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)([^\s"]+)')
WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = _set("""
a about an and any are as at be been but by can could did do does for from had has have how i if in into is it
its me my no not of on or our should so some such than that the their them then there these they this to was we
were what when where which while who whom why will with would you your yours am an also just than too very
""")
# Words people type around what they want; dropped unless nothing else is left.
FILLER = _set("please need want something help helps helping looking look find thing things tool way "
                   "make let lets get using use like good best")
TYPO_MIN_LENGTH = 5  # words shorter than this are not corrected: too many neighbours
MAX_ALTERNATIVES = 4


@dataclass(frozen=True)
class Parsed:
    words: tuple[str, ...]  # optional words: lower case, American spelling, no stop words
    phrases: tuple[tuple[str, ...], ...] = ()  # required, each a sequence of words
    excluded: tuple[str, ...] = ()
    exact: str = ""  # the whole query as one lower-case string, for exact name and title matches
    alternatives: dict[str, tuple[str, ...]] = field(default_factory=dict)  # word -> its typo neighbours

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases)

    def every_word(self) -> list[str]:
        return [*self.words, *(w for p in self.phrases for w in p)]


def words_of(text: str) -> list[str]:
    return [american(w) for w in WORD.findall(text.lower())]


def parse(q: str) -> Parsed:
    words: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[str] = []
    for neg_phrase, phrase, neg_word, word in TOKEN.findall(q):
        found = words_of(phrase if phrase or neg_phrase else word)
        if not found:
            continue
        if neg_phrase or neg_word:
            excluded += found
        elif phrase or len(found) > 1 and not word.isalnum() and "-" not in word and "_" not in word:
            phrases.append(tuple(found))
        else:
            words += found
    meaningful = [w for w in words if w not in STOP_WORDS]
    focused = [w for w in meaningful if w not in FILLER]
    kept = focused or meaningful or ([] if phrases else words)
    exact = " ".join(WORD.findall(q.lower()))
    return Parsed(tuple(dict.fromkeys(kept)), tuple(phrases), tuple(dict.fromkeys(excluded)), exact)


def checked(parsed: Parsed) -> list[str]:
    """The words `with_typos` looks up in the vocabulary (a backend may look them up beforehand)."""
    return [w for w in parsed.every_word() if len(w) >= TYPO_MIN_LENGTH and not w.isdigit()]


def with_typos(parsed: Parsed, known: Callable[[list[str]], set[str]],
               near: Callable[[str, int], list[str]]) -> Parsed:
    """`parsed` with each longer word the vocabulary lacks paired with its one-typo neighbours.
    `known(words)` answers which words the vocabulary has; `near(word, n)` lists vocabulary words
    that may be within n edits, most frequent first (checked here)."""
    longer = checked(parsed)
    have = known(longer) if longer else set()  # one lookup for all of them
    alternatives = {}
    for word in (w for w in longer if w not in have):
        close = [c for c in near(word, 1) if c != word and distance(word, c, 1) <= 1][:MAX_ALTERNATIVES]
        if close:
            alternatives[word] = tuple(close)
    return replace(parsed, alternatives=alternatives)


def suggestion(q: str, parsed: Parsed, near: Callable[[str, int], list[str]]) -> str | None:
    """"Did you mean": the query with each word of 4+ letters the vocabulary lacks replaced by the
    closest vocabulary word within two edits, or None when there is nothing to offer."""
    replaced = {}
    for word in parsed.every_word():
        if len(word) < 4 or word.isdigit():
            continue
        found = near(word, 2)
        if not found or word in found:  # a word the vocabulary has needs no correcting
            continue
        steps, _, best = min((distance(word, c, 2), i, c) for i, c in enumerate(found))
        if steps <= 2:
            replaced[word] = best
    if not replaced:
        return None
    return " ".join(replaced.get(american(w.lower()), w) for w in q.split())


def distance(a: str, b: str, limit: int) -> int:
    """Edit distance with transpositions (optimal string alignment), stopping past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]

