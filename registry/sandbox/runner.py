"""What a sandbox run does: render the prompts of each test case (Jinja2, sandboxed), ask the
model when a provider is configured, and check the case's assertions. Also the entry point of
the isolated child process and of the Fargate container:

    python -m registry.sandbox.runner [--input FILE|-] [--memory-mb N] [--cpu-seconds N] [--timeout S]

The input (the resolved manifest and the cases, see `prepare.py`) comes from FILE, stdin, or
the environment (SANDBOX_INPUT_URL, a presigned URL; SANDBOX_INPUT_B64). Logs go to stdout as
they happen; the last line is `SANDBOX-REPORT {json}`, valid against sandbox-report.schema.json.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import sys
import time
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from . import assertions as checks
from . import provider as providers
from .provider import estimate_tokens

ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
REPORT_PREFIX = "SANDBOX-REPORT "


PROMPT_KEPT = 8000  # characters of the rendered prompts kept in a case's result
OUTPUT_KEPT = 2000
Price = tuple[float, float]  # USD per 1M input tokens, per 1M output tokens


def input_digest(system: str, user: str, constraints: dict[str, Any], wanted: list[Any]) -> str:
    """What a case's result depends on besides the model: its rendered prompts, the constraints
    sent with them and its assertions (a result with the same digest and model can be reused)."""
    text = json.dumps([system, user, constraints, wanted], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def case_cost(price: Price | None, calls: list[providers.Completion]) -> float | None:
    """What the model calls of a case cost at `price` (None: the model has no price)."""
    if price is None:
        return None if calls else 0.0
    return round(sum(c.input_tokens * price[0] + c.output_tokens * price[1] for c in calls) / 1e6, 8)


class _Steps:
    """Each step of a case timed from the case's start (the run page draws them on a time axis)."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.began = time.perf_counter()
        self.steps: list[dict[str, Any]] = result.setdefault("steps", [])
        self.started: float | None = None

    def start(self) -> None:
        self.started = time.perf_counter()

    def end(self, name: str) -> None:
        assert self.started is not None
        now = time.perf_counter()
        self.steps.append({"name": name, "start_ms": round((self.started - self.began) * 1000, 3),
                           "duration_ms": round((now - self.started) * 1000, 3)})
        self.started = None


def run_case(manifest: dict[str, Any], case: dict[str, Any], file: str, model: providers.Provider | None,
             price: Price | None = None, render_only: bool = False) -> dict[str, Any]:
    config = manifest.get("promptConfig") or {}
    params = {p["name"]: p["default"] for p in config.get("parameters", []) if "default" in p}
    params.update(case.get("parameters") or {})
    result: dict[str, Any] = {"name": case.get("name", "?"), "file": file, "failures": [], "assertions": [],
                              "tokens": {"input": 0, "output": 0}, "latency_ms": None, "cost_usd": 0.0}
    timer = _Steps(result)
    try:
        return _run_case(config, params, case, model, price, result, timer, render_only)
    finally:
        if timer.started is not None:  # the step that failed ends where the case does
            timer.end(("render", "model call", "assertions")[len(timer.steps)])


def _run_case(config: dict[str, Any], params: dict[str, Any], case: dict[str, Any], model: providers.Provider | None,
              price: Price | None, result: dict[str, Any], timer: _Steps, render_only: bool) -> dict[str, Any]:
    timer.start()
    try:
        if config.get("format") == "text":  # literal text: parameters are not substituted
            system, user = str(config.get("systemPrompt", "")), str(config.get("userPromptTemplate", ""))
        else:
            system = ENV.from_string(str(config.get("systemPrompt", ""))).render(params)
            user = ENV.from_string(str(config.get("userPromptTemplate", ""))).render(params)
    except (TemplateError, RecursionError, ValueError, TypeError, ArithmeticError) as exc:
        result.update(outcome="error", failures=[f"render failed: {type(exc).__name__}: {exc}"])
        return result
    result["prompt_tokens"] = estimate_tokens(system) + estimate_tokens(user)
    result["prompt"] = f"{system}\n\n{user}"[:PROMPT_KEPT] if system else user[:PROMPT_KEPT]
    result["tokens"]["input"] = result["prompt_tokens"]
    result["input_digest"] = input_digest(system, user, config.get("constraints") or {}, case.get("assert") or [])
    timer.end("render")
    if render_only:
        result["outcome"] = "passed"
        return result
    seen = checks.Seen(system, user, model=model.model if model else "",
                       grader=(lambda s, u: model.call(s, u, {})) if model else None)
    wanted = case.get("assert") or []
    if model is not None and any(checks.targets_output(a) for a in wanted):
        timer.start()
        try:
            done = model.call(system, user, config.get("constraints") or {})
        except providers.ProviderError as exc:
            result.update(outcome="error", failures=[f"model call failed: {exc}"])
            return result
        seen.output, seen.completion, seen.cost_usd = done.text, done, case_cost(price, [done])
        result.update(output=done.text[:OUTPUT_KEPT], latency_ms=done.latency_ms,
                      tokens={"input": done.input_tokens, "output": done.output_tokens})
        timer.end("model call")
    timer.start()
    for assertion in wanted:
        checked = checks.check(assertion, seen)
        result["assertions"].append(checked)
        if not checked["passed"]:
            result["failures"].append(checked["reason"])
    timer.end("assertions")
    calls = ([seen.completion] if seen.completion else []) + seen.graded
    result["cost_usd"] = case_cost(price, calls)
    result["outcome"] = "failed" if result["failures"] else "passed"
    return result


def run(manifest: dict[str, Any], cases: list[tuple[str, dict[str, Any]]],
        model: providers.Provider | None = None, price: Price | None = None, render_only: bool = False) -> dict[str, Any]:
    """Every case in order; `render_only`: rendered prompts and input digests, no model, no assertions."""
    results = []
    began = time.perf_counter()
    for file, case in cases:
        start_ms = round((time.perf_counter() - began) * 1000, 3)
        results.append({**run_case(manifest, case, file, model, price, render_only), "start_ms": start_ms})
        print(f"case {results[-1]['name']!r} ({file}): {results[-1]['outcome']}", flush=True)
    count = {k: sum(1 for r in results if r["outcome"] == k) for k in ("passed", "failed", "error")}
    known = [r["cost_usd"] for r in results if r["cost_usd"] is not None]
    return {"cases": results, "passed": count["passed"], "failed": count["failed"], "errors": count["error"],
            "provider": model.name if model else None, "model_usd": round(sum(known), 8)}


def confine(memory_mb: int, cpu_seconds: int, timeout_s: int) -> None:
    """Address-space, CPU and wall-clock limits on this process, set before anything is rendered
    (the wall clock too, so a child orphaned by a killed worker still ends)."""
    import resource
    import signal

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(max(1, timeout_s))


def self_metrics() -> dict[str, float]:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": round(usage.ru_utime + usage.ru_stime, 3), "peak_memory_mb": round(usage.ru_maxrss / 1024, 1)}


def read_input(source: str | None) -> dict[str, Any]:
    payload: dict[str, Any]
    if source == "-":
        payload = json.load(sys.stdin)
    elif source:
        with open(source, encoding="utf-8") as fh:
            payload = json.load(fh)
    elif os.environ.get("SANDBOX_INPUT_URL"):
        import httpx

        response = httpx.get(os.environ["SANDBOX_INPUT_URL"], timeout=60)
        response.raise_for_status()
        payload = response.json()
    elif os.environ.get("SANDBOX_INPUT_B64"):
        payload = json.loads(base64.b64decode(os.environ["SANDBOX_INPUT_B64"]))
    else:
        raise SystemExit("no input: pass --input FILE, or set SANDBOX_INPUT_URL or SANDBOX_INPUT_B64")
    return payload


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="registry.sandbox.runner")
    parser.add_argument("--input", help="a JSON file, or - for stdin (default: the environment)")
    parser.add_argument("--memory-mb", type=int, default=int(os.environ.get("SANDBOX_MEMORY_MB", 1024)))
    parser.add_argument("--cpu-seconds", type=int, default=int(os.environ.get("SANDBOX_CPU_SECONDS", 60)))
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("SANDBOX_TIMEOUT_SECONDS", 120)))
    args = parser.parse_args(argv)
    payload = read_input(args.input)  # before the limits: fetching may need more than rendering
    confine(args.memory_mb, args.cpu_seconds, args.timeout)
    price = payload.get("price")
    model = providers.from_env()
    if model is not None and payload.get("model"):  # the model asked for (an experiment's), at the configured endpoint
        model = dataclasses.replace(model, model=str(payload["model"]))
    report = run(payload["manifest"], [tuple(c) for c in payload["cases"]], model,
                 (float(price[0]), float(price[1])) if price else None, bool(payload.get("render_only")))
    report["metrics"] = self_metrics()
    print(REPORT_PREFIX + json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
