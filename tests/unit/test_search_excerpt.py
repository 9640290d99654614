"""The prompt excerpt a gallery card shows (rules.excerpt, stored by both search backends; their
contract test is tests/unit/test_search.py): what it keeps of a prompt, where it cuts, and that a
hostile prompt costs no more than its first words."""
from __future__ import annotations

import time

import pytest

from registry.search.rules import EXCERPT_LIMIT, excerpt


def test_whitespace_collapsed_and_a_short_prompt_kept_whole():
    assert excerpt("# IDENTITY\n\nYou are   a {{ role }}.\r\n\t- Be brief.  ") == "# IDENTITY You are a {{ role }}. - Be brief."
    assert excerpt("") == "" and excerpt(" \n\t\u00a0\u2028 ") == ""


def test_cut_at_a_word_with_an_ellipsis():
    words = " ".join(f"w{i:03}" for i in range(100))  # 5 characters a word with its space
    cut = excerpt(words)
    assert cut.endswith("…") and len(cut) <= EXCERPT_LIMIT + 1
    assert cut[:-1] == words[:len(cut) - 1] and words[len(cut) - 1] == " "  # ends where a word did
    exact = "a" * EXCERPT_LIMIT
    assert excerpt(exact) == exact and excerpt(exact + " b") == exact + "…"


def test_a_word_longer_than_the_limit_is_cut_inside():
    assert excerpt("start " + "y" * 10_000) == "start " + "y" * (EXCERPT_LIMIT - 6) + "…"
    assert excerpt("z" * 10_000) == "z" * EXCERPT_LIMIT + "…"


@pytest.mark.parametrize("hidden", ["\x00", "\x1b", "\x7f", "\x9b", "\u200b", "\u200e", "\u202e", "\u2066", "\ufeff",
                                    "\ud800"])
def test_characters_that_hide_or_reorder_text_are_dropped(hidden):
    assert excerpt(f"pay{hidden}ment {hidden}due") == "payment due"


def test_markup_is_kept_as_text_the_page_escapes_it():
    assert excerpt("<script>alert(1)</script> &amp;") == "<script>alert(1)</script> &amp;"


def test_a_huge_prompt_is_read_only_as_far_as_the_excerpt():
    huge = "word " * 2_000_000  # 10 MB
    started = time.perf_counter()
    assert len(excerpt(huge)) <= EXCERPT_LIMIT + 1
    assert len(excerpt("q" * 10_000_000)) == EXCERPT_LIMIT + 1
    assert time.perf_counter() - started < 0.1  # splitting the 10 MB alone takes ~0.13 s here
