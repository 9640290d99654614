"""A test case's assertions, each checked on its own: a result `{type, value, target, passed,
reason}` whatever the assertion holds. A malformed one (an invalid `regex`, a `max-tokens` without
a number, a `json-schema` that is no schema) fails with its reason; nothing here raises.

Targets: `prompt` (the rendered prompts; the default) or `output` (the model's answer).
`latency-ms`, `cost` and `llm-rubric` are about the model's answer whatever their target says.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .provider import Completion, ProviderError, estimate_tokens

MODEL_TYPES = frozenset({"latency-ms", "cost", "llm-rubric"})  # need an answer, whatever their target
VALUE_SHOWN = 500  # characters of a value kept in a result
GRADER_SYSTEM = ("You grade an answer against a rubric. Reply with JSON only: "
                 '{"pass": true or false, "score": a number from 0 to 1, "reason": "one sentence"}.')

Grader = Callable[[str, str], Completion]


@dataclass
class Seen:
    """What a case's assertions look at."""
    system: str
    user: str
    output: str | None = None
    completion: Completion | None = None
    cost_usd: float | None = None  # of the answer, when the model has a price
    model: str = ""
    grader: Grader | None = None  # asks the configured model (llm-rubric)
    graded: list[Completion] = field(default_factory=list)  # the grader's calls: the case's tokens and cost


def targets_output(assertion: dict[str, Any]) -> bool:
    return assertion.get("target") == "output" or assertion.get("type") in MODEL_TYPES


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > VALUE_SHOWN:
        return value[:VALUE_SHOWN] + "…"
    if isinstance(value, (dict, list)) and len(json.dumps(value)) > VALUE_SHOWN:
        return json.dumps(value)[:VALUE_SHOWN] + "…"
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def check(assertion: dict[str, Any], seen: Seen) -> dict[str, Any]:
    kind = str(assertion.get("type"))
    value = assertion.get("value")
    target = "output" if targets_output(assertion) else "prompt"
    result = {"type": kind, "value": _shown(value), "target": target, "passed": False, "reason": ""}
    if target == "output" and seen.output is None:
        result["reason"] = f"{kind}: targets the model output, but no model provider is configured"
        return result
    try:
        problem = _problem(kind, value, seen, target)
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:  # never a crash of the run
        problem = f"{kind}: {type(exc).__name__}: {exc}"[:300]
    result["passed"], result["reason"] = problem is None, problem or "ok"
    return result


def _text(kind: str, seen: Seen, target: str) -> str:
    if target == "output":
        return seen.output or ""
    # Whole-text comparisons look at the user prompt (what is sent as the question); searches at both.
    return seen.user if kind in ("json", "json-schema", "equals", "starts-with") else f"{seen.system}\n\n{seen.user}"


def _problem(kind: str, value: Any, seen: Seen, target: str) -> str | None:
    text = _text(kind, seen, target)
    if kind in ("contains", "not-contains", "starts-with", "regex") and not isinstance(value, str):
        return f"{kind}: needs a text value, got {json.dumps(value)[:80]}"
    if kind == "contains":
        return None if value in text else f"contains {value!r}: not found"
    if kind == "not-contains":
        return f"not-contains {value!r}: found" if value in text else None
    if kind == "starts-with":
        return None if text.lstrip().startswith(value) else f"starts-with {value!r}: begins {text.lstrip()[:40]!r}"
    if kind == "regex":
        try:
            pattern = re.compile(value)
        except re.error as exc:
            return f"regex {value!r}: invalid pattern: {exc}"
        return None if pattern.search(text) else f"regex {value!r}: no match"
    if kind == "equals":
        return _equals(value, text)
    if kind == "max-tokens":
        limit = _number(value)
        if limit is None:
            return f"max-tokens: needs a number, got {json.dumps(value)[:80]}"
        if target == "output" and seen.completion is not None:
            used, about = seen.completion.output_tokens, ""
        else:
            used, about = estimate_tokens(text), "about "
        return None if used <= limit else f"max-tokens {value}: {about}{used} tokens"
    if kind == "json":
        try:
            json.loads(text)
        except ValueError as exc:
            return f"json: not valid JSON ({exc})"
        return None
    if kind == "json-schema":
        return _json_schema(value, text)
    if kind == "latency-ms":
        limit = _number(value)
        if limit is None:
            return f"latency-ms: needs a number, got {json.dumps(value)[:80]}"
        took = seen.completion.latency_ms if seen.completion else 0.0
        return None if took <= limit else f"latency-ms {value}: took {took:.0f} ms"
    if kind == "cost":
        limit = _number(value)
        if limit is None:
            return f"cost: needs a number (USD), got {json.dumps(value)[:80]}"
        if seen.cost_usd is None:
            return f"cost: no price for model {seen.model!r} in the price table"
        return None if seen.cost_usd <= limit else f"cost {value}: ${seen.cost_usd:.6f}"
    if kind == "llm-rubric":
        return _rubric(value, seen)
    return f"{kind}: unknown assertion type"


def _equals(value: Any, text: str) -> str | None:
    if isinstance(value, str):
        return None if text.strip() == value.strip() else f"equals {_shown(value)!r}: got {text.strip()[:80]!r}"
    try:
        parsed = json.loads(text)
    except ValueError:
        return f"equals {json.dumps(value)[:80]}: the text is not JSON"
    return None if parsed == value else f"equals {json.dumps(value)[:80]}: got {json.dumps(parsed)[:80]}"


def _json_schema(schema: Any, text: str) -> str | None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, (dict, bool)):
        return "json-schema: the value must be a JSON Schema (an object)"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"json-schema: the schema is invalid: {exc.message}"[:300]
    try:
        document = json.loads(text)
    except ValueError as exc:
        return f"json-schema: not valid JSON ({exc})"
    error = next(iter(Draft202012Validator(schema).iter_errors(document)), None)
    return None if error is None else f"json-schema: {error.json_path}: {error.message}"[:300]


def _rubric(rubric: Any, seen: Seen) -> str | None:
    if not isinstance(rubric, str) or not rubric.strip():
        return "llm-rubric: needs the rubric as text"
    if seen.grader is None:
        return "llm-rubric: no model provider is configured to grade"
    try:
        graded = seen.grader(GRADER_SYSTEM, f"RUBRIC: {rubric}\nANSWER: {seen.output}")
    except ProviderError as exc:
        return f"llm-rubric: the grader failed: {exc}"[:300]
    seen.graded.append(graded)
    start, end = graded.text.find("{"), graded.text.rfind("}")
    try:
        verdict = json.loads(graded.text[start:end + 1]) if 0 <= start < end else None
    except ValueError:
        verdict = None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("pass"), bool):
        return f"llm-rubric: the grader's answer is no verdict: {graded.text[:120]!r}"
    reason = str(verdict.get("reason", ""))[:200]
    return None if verdict["pass"] else f"llm-rubric: {reason or 'failed the rubric'}"
