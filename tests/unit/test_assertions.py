"""Each assertion type on its own (registry/sandbox/assertions.py), and through the runner against
the tests' model server: results per assertion, malformed assertions failing their case with the
reason (never crashing the run), tokens, latency and cost per case."""
from __future__ import annotations

import json

import pytest

from registry.sandbox import assertions, provider
from registry.sandbox.provider import Completion
from registry.sandbox.runner import run
from tests.unit.test_sandbox_runner import MINIMAL, case, with_prompt


def seen(output=None, latency=10.0, cost=0.001, grader=None, user="Summarise Q3 for SME loans"):
    done = Completion(output, 7, 3, latency) if output is not None else None
    return assertions.Seen("You are an analyst.", user, output, done, cost, "m", grader)


def verdict(kind, value=None, target="output", **kw):
    return assertions.check({"type": kind, "value": value, "target": target}, seen(**kw))


@pytest.mark.parametrize(("kind", "value", "output", "passed"), [
    ("equals", "Paris", "  Paris\n", True),
    ("equals", "Paris", "Paris, France", False),
    ("equals", {"a": [1, 2]}, '{"a": [1, 2]}', True),
    ("equals", {"a": 1}, "not json", False),
    ("starts-with", "Dear", "Dear customer,", True),
    ("starts-with", "Dear", "Hello", False),
    ("json-schema", {"type": "object", "required": ["q"], "properties": {"q": {"type": "string"}}}, '{"q": "Q3"}', True),
    ("json-schema", {"type": "object", "required": ["q"]}, '{"x": 1}', False),
    ("json-schema", {"type": "object"}, "plain words", False),
    ("latency-ms", 50, "x", True),
    ("latency-ms", 5, "x", False),
    ("cost", 0.01, "x", True),
    ("cost", 0.0001, "x", False),
    ("max-tokens", 3, "one two three", True),
    ("max-tokens", 2, "one two three", False),
])
def test_each_type(kind, value, output, passed):
    result = verdict(kind, value, output=output)
    assert result["passed"] is passed, result
    assert result["type"] == kind and result["target"] == "output" and result["reason"]


@pytest.mark.parametrize(("assertion", "reason"), [
    ({"type": "regex", "value": "(unclosed"}, "regex '(unclosed': invalid pattern: missing ), unterminated subpattern"),
    ({"type": "max-tokens", "value": "many"}, 'max-tokens: needs a number, got "many"'),
    ({"type": "max-tokens"}, "max-tokens: needs a number, got null"),
    ({"type": "json-schema", "value": {"type": "nonsense"}}, "json-schema: the schema is invalid"),
    ({"type": "contains", "value": 3}, "contains: needs a text value, got 3"),
    ({"type": "latency-ms", "value": "fast"}, 'latency-ms: needs a number, got "fast"'),
])
def test_malformed_assertions_fail_with_their_reason(assertion, reason):
    result = assertions.check({**assertion, "target": "output"}, seen("some answer"))
    assert result["passed"] is False and result["reason"].startswith(reason), result


def test_cost_without_a_price_and_model_types_without_a_model():
    assert verdict("cost", 1, output="x", cost=None)["reason"] == "cost: no price for model 'm' in the price table"
    no_model = assertions.check({"type": "latency-ms", "value": 10}, seen())
    assert no_model["target"] == "output" and "no model provider" in no_model["reason"]


def test_rubric_verdicts_and_a_grader_that_answers_nonsense():
    def grader(answer):
        return lambda system, user: Completion(answer, 5, 5, 1.0)
    ok = verdict("llm-rubric", "is polite", output="x", grader=grader('{"pass": true, "reason": "polite"}'))
    bad = verdict("llm-rubric", "is polite", output="x", grader=grader('Sure! {"pass": false, "reason": "rude"}'))
    odd = verdict("llm-rubric", "is polite", output="x", grader=grader("I think so"))
    assert ok["passed"] and not bad["passed"] and bad["reason"] == "llm-rubric: rude"
    assert not odd["passed"] and odd["reason"].startswith("llm-rubric: the grader's answer is no verdict")


def test_an_invalid_regex_fails_its_case_and_the_run_goes_on():
    report = run(MINIMAL, [("a.json", case({"type": "regex", "value": "[z-a]"}, name="broken")),
                           ("b.json", case({"type": "contains", "value": "Q3"}, name="fine"))])
    broken, fine = report["cases"]
    assert (report["failed"], report["passed"]) == (1, 1) and fine["outcome"] == "passed"
    assert broken["failures"] == ["regex '[z-a]': invalid pattern: bad character range z-a at position 1"]
    assert broken["assertions"][0] == {"type": "regex", "value": "[z-a]", "target": "prompt", "passed": False,
                                      "reason": broken["failures"][0]}


def test_through_the_runner_against_the_model_server(model_server):
    model = provider.from_env(model_server.env())
    manifest = with_prompt('Give the quarter.\nreply: {"quarter": "Q3"}')
    schema = {"type": "object", "required": ["quarter"], "properties": {"quarter": {"enum": ["Q3"]}}}
    report = run(manifest, [("t.json", case({"type": "json-schema", "value": schema, "target": "output"},
                                            {"type": "starts-with", "value": '{"quarter"', "target": "output"},
                                            {"type": "llm-rubric", "value": "names the quarter 'Q3'"},
                                            {"type": "llm-rubric", "value": "mentions 'Q4'"},
                                            {"type": "cost", "value": 0.01},
                                            {"type": "latency-ms", "value": 5000}))],
                 model, price=(1000.0, 2000.0))
    result = report["cases"][0]
    assert [a["passed"] for a in result["assertions"]] == [True, True, True, False, False, True], result["assertions"]
    assert result["assertions"][3]["reason"] == "llm-rubric: missing 'Q4'"
    prompt_words = len(result["prompt"].split())
    assert result["tokens"] == {"input": prompt_words, "output": 2}
    calls = model_server.model_calls()
    assert len(calls) == 3 and result["latency_ms"] > 0  # the answer, then one grading per rubric
    assert [json.loads(c["body"]["messages"][1]["content"].partition("ANSWER: ")[2]) for c in calls[1:]] == [{"quarter": "Q3"}] * 2
    expected = 0.0  # words in at $1000 per 1M, words out at $2000 per 1M, as the server counts them
    for call in calls:
        system, user = (m["content"] for m in call["body"]["messages"])
        expected += (len(system.split()) + len(user.split())) * 1000e-6 + len(model_server.answer(system, user).split()) * 2000e-6
    assert result["cost_usd"] == pytest.approx(expected, rel=1e-6) and report["model_usd"] == result["cost_usd"]
