"""From a sandbox report to an experiment's trials, and from its units to the verdict.

A trial is one case of one variant, once: {case, file, passed, latency_ms, cost, tokens, error}.
Latency is the model call's when there was one (else the whole case's); cost is what the runner
priced the case's model calls at (the price table's) plus the calls the manifest declares a price for.
A trial whose model call failed (after the provider's retries) tells nothing about the prompt: it
is kept with its error and left out of the pass rate, so an overloaded provider cannot pick a winner.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..meta import Experiment, Unit
from . import stats

PROVIDER_FAILED = "model call failed"


def from_report(report: dict[str, Any], declared_cost: float) -> list[dict[str, Any]]:
    trials = []
    for case in report.get("cases", []):
        steps = case.get("steps") or []
        latency = case.get("latency_ms")
        if not isinstance(latency, int | float):
            model = [s["duration_ms"] for s in steps if s.get("name") == "model call"]
            latency = sum(model) if model else sum(float(s.get("duration_ms", 0.0)) for s in steps)
        failures = [str(f) for f in case.get("failures") or []]
        priced = case.get("cost_usd")
        tokens = case.get("tokens")
        trials.append({
            "case": str(case.get("name", "?")), "file": str(case.get("file", "")),
            "passed": case.get("outcome") == "passed", "latency_ms": round(float(latency), 3),
            "cost": round((float(priced) if isinstance(priced, int | float) else 0.0) + declared_cost, 8),
            "tokens": tokens if isinstance(tokens, int | dict) else case.get("prompt_tokens"),
            "error": failures[0][:300] if failures else None,
            "counted": not (case.get("outcome") == "error" and failures and failures[0].startswith(PROVIDER_FAILED)),
        })
    return trials


def verdict(experiment: Experiment, units: Sequence[Unit]) -> stats.Verdict:
    """The statistics over the trials of every unit done so far (a running experiment's are partial)."""
    per_variant: list[list[dict[str, Any]]] = [[] for _ in experiment.variants]
    for unit in units:
        if unit.state == "done":
            per_variant[unit.variant].extend(t for t in unit.trials if t.get("counted", True))
    return stats.judge([stats.Trials(ref, [bool(t["passed"]) for t in ts], [float(t["latency_ms"]) for t in ts],
                                     [float(t["cost"]) for t in ts])
                        for (ref, _sha), ts in zip(experiment.variants, per_variant, strict=True)])


def progress(experiment: Experiment, units: Sequence[Unit]) -> dict[str, int]:
    """Counts a page shows while it runs: units by state, and trials done and left out."""
    counts = {state: 0 for state in ("pending", "queued", "running", "done", "error", "cancelled")}
    for unit in units:
        counts[unit.state] = counts.get(unit.state, 0) + 1
    trials = sum(len(u.trials) for u in units if u.state == "done")
    uncounted = sum(1 for u in units if u.state == "done" for t in u.trials if not t.get("counted", True))
    return {"units": experiment.units, **counts, "trials": trials, "uncounted": uncounted}
