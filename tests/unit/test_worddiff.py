"""The word diff of the Evaluation tab (registry/worddiff.py) and how a case's change is named
(registry/services/evaluation_view.py)."""
from __future__ import annotations

import pytest

from registry.services.evaluation_view import change_of, shown, side_of
from registry.worddiff import MAX_TOKENS, diff


def joined(segments):
    return "".join(text for _, text in segments)


@pytest.mark.parametrize(("old", "new"), [
    ("Summarise dogs.", "Summarise dogs politely."), ("a  b\nc", "a b\nd"), ("", "new text"), ("gone", ""),
    ("same words", "same words"), ("x, y; z!", "x; y, z?"), ("ünïcode wörds", "ünïcode wörter"),
])
def test_each_side_joins_back_to_its_text(old, new):
    left, right = diff(old, new)
    assert joined(left) == old and joined(right) == new
    assert {op for op, _ in left} <= {"same", "del"} and {op for op, _ in right} <= {"same", "ins"}


def test_words_and_punctuation_are_compared_apart():
    assert diff("Summarise dogs.", "Summarise dogs politely.") == (
        [("same", "Summarise dogs.")], [("same", "Summarise dogs "), ("ins", "politely"), ("same", ".")])
    assert diff("Q3 for SME", "Q4 for SME") == ([("del", "Q3 "), ("same", "for SME")],
                                                [("ins", "Q4 "), ("same", "for SME")])


def test_huge_texts_are_compared_whole():
    big = "word " * (MAX_TOKENS + 1)
    assert diff(big, big + "more") == ([("del", big)], [("ins", big + "more")])


def _result(outcome, output="x", reasons=()):
    return {"name": "c", "file": "f", "outcome": outcome, "failures": list(reasons), "prompt": "p", "output": output,
            "assertions": [{"type": "contains", "value": "x", "target": "output", "passed": outcome == "passed",
                            "reason": "ok" if outcome == "passed" else "contains 'x': not found"}],
            "tokens": {"input": 1, "output": 1}, "latency_ms": 1.0, "cost_usd": 0.0}


def test_changes_are_named_from_pass_and_fail_and_what_was_seen():
    passed, failed = side_of(_result("passed")), side_of(_result("failed"))
    assert change_of(passed, failed) == "regression" and change_of(failed, passed) == "fixed"
    assert change_of(passed, side_of(_result("passed"))) == "same"
    assert change_of(passed, side_of(_result("passed", output="y"))) == "changed"
    assert change_of(None, passed) == "changed" and change_of(passed, None) == "changed"
    errored = side_of(_result("error", reasons=["render failed: UndefinedError: 'topic' is undefined"]))
    assert errored["assertions"] == [{"type": "error", "value": None, "target": "prompt", "passed": False,
                                      "reason": "render failed: UndefinedError: 'topic' is undefined"}]
    cases = [{"change": "regression", "head": failed}, {"change": "same", "head": passed},
             {"change": "changed", "head": None}]
    assert [len(shown(cases, f)) for f in ("all", "changed", "failing", "regressions")] == [3, 2, 1, 1]
