"""What a sandbox run does: render the prompts for each test case (Jinja2, sandboxed) and check
its assertions. Also the entry point of the isolated child process (`python -m
registry.sandbox.runner`, JSON in on stdin, the report out on stdout) and of a container.

Without a configured model provider, assertions apply to the rendered prompt; those that
target the model's output are reported as failures saying no provider is configured.
"""
from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def estimate_tokens(text: str) -> int:
    """About four characters a token: the usual estimate for English with BPE tokenizers."""
    return math.ceil(len(text) / 4)


def _check(assertion: dict[str, Any], text: str) -> str | None:
    kind, value = assertion["type"], assertion.get("value")
    if assertion.get("target") == "output":
        return f"{kind}: targets the model output, but no model provider is configured"
    if kind == "contains" and str(value) not in text:
        return f"contains {value!r}: not found"
    if kind == "not-contains" and str(value) in text:
        return f"not-contains {value!r}: found"
    if kind == "regex" and not re.search(str(value), text):
        return f"regex {value!r}: no match"
    if kind == "max-tokens" and estimate_tokens(text) > int(value):
        return f"max-tokens {value}: about {estimate_tokens(text)} tokens"
    if kind == "json":
        try:
            json.loads(text)
        except ValueError as exc:
            return f"json: not valid JSON ({exc})"
    return None


def run_case(manifest: dict[str, Any], case: dict[str, Any], file: str) -> dict[str, Any]:
    config = manifest.get("promptConfig") or {}
    params = {p["name"]: p["default"] for p in config.get("parameters", []) if "default" in p}
    params.update(case.get("parameters") or {})
    result: dict[str, Any] = {"name": case.get("name", "?"), "file": file, "failures": []}
    try:
        system = ENV.from_string(str(config.get("systemPrompt", ""))).render(params)
        user = ENV.from_string(str(config.get("userPromptTemplate", ""))).render(params)
    except (TemplateError, RecursionError, ValueError, TypeError) as exc:
        result.update(outcome="error", failures=[f"render failed: {type(exc).__name__}: {exc}"])
        return result
    result["prompt_tokens"] = estimate_tokens(system) + estimate_tokens(user)
    for assertion in case.get("assert", []):
        target = user if assertion.get("type") == "json" else f"{system}\n\n{user}"
        problem = _check(assertion, target)
        if problem:
            result["failures"].append(problem)
    result["outcome"] = "failed" if result["failures"] else "passed"
    return result


def run(manifest: dict[str, Any], cases: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    results = [run_case(manifest, case, file) for file, case in cases]
    count = {k: sum(1 for r in results if r["outcome"] == k) for k in ("passed", "failed", "error")}
    return {"cases": results, "passed": count["passed"], "failed": count["failed"], "errors": count["error"]}


def confine(memory_mb: int, cpu_seconds: int) -> None:
    """Address-space and CPU limits on this process, set before any template is rendered."""
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="registry.sandbox.runner")
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--cpu-seconds", type=int, default=20)
    args = parser.parse_args()
    confine(args.memory_mb, args.cpu_seconds)
    payload = json.load(sys.stdin)
    json.dump(run(payload["manifest"], [tuple(c) for c in payload["cases"]]), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
