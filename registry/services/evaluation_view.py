"""A pull request's evaluation as read (`GET .../pulls/{n}/evaluation` and the review page's
Evaluation tab): per test case the base's and the head's result side by side and what changed,
with a summary per side; and the `eval` check of a head commit, which computes it first
(evaluations.py) and fails on a regression (a case that passes on the base and fails on the head).
Reading never asks a model: a case not evaluated yet has no side, and its summary says `pending`."""
from __future__ import annotations

from typing import Any

from .. import worddiff
from ..access import Actor
from ..container import Container
from ..errors import InvalidInput, OverBudget
from ..meta import Pull, Status, Template
from . import evaluations as ev
from . import guard, pulls

CHANGES = ("same", "changed", "regression", "fixed")
FILTERS = ("all", "changed", "failing", "regressions")


def side_of(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """One side of a case, as SPEC names it: a case that could not run shows why as its one assertion."""
    if result is None:
        return None
    checked = list(result.get("assertions") or [])
    if result["outcome"] == "error":
        checked = [{"type": "error", "value": None, "target": "prompt", "passed": False,
                    "reason": (result.get("failures") or ["the case could not run"])[0]}]
    tokens = result.get("tokens") or {"input": int(result.get("prompt_tokens") or 0), "output": 0}
    return {"prompt": result.get("prompt", ""), "output": result.get("output"), "passed": result["outcome"] == "passed",
            "assertions": checked, "tokens": tokens, "latency_ms": result.get("latency_ms"), "cost": result.get("cost_usd")}


def change_of(base: dict[str, Any] | None, head: dict[str, Any] | None) -> str:
    if base is None or head is None:
        return "changed" if base is not None or head is not None else "same"
    if base["passed"] and not head["passed"]:
        return "regression"
    if head["passed"] and not base["passed"]:
        return "fixed"
    verdicts = [[(a["type"], a["passed"], a["reason"]) for a in side["assertions"]] for side in (base, head)]
    same = base["prompt"] == head["prompt"] and base["output"] == head["output"] and verdicts[0] == verdicts[1]
    return "same" if same else "changed"


def _summary(loaded: ev.Loaded, found: dict[ev.Key, dict[str, Any]]) -> dict[str, Any]:
    sides = [side_of(found.get(ev.case_key(f, k))) for f, k in loaded.cases]
    done = [s for s in sides if s is not None]
    passed = sum(1 for s in done if s["passed"])
    latencies = [s["latency_ms"] for s in done if s["latency_ms"] is not None]
    costs = [s["cost"] for s in done if s["cost"] is not None]
    state = "error" if loaded.problems else "pending" if len(done) < len(sides) else "done"
    return {"sha": loaded.sha or None, "state": state, "cases": len(sides), "evaluated": len(done), "passed": passed,
            "failed": len(done) - passed, "pass_rate": round(passed / len(done), 4) if done else None,
            "cost": round(sum(costs), 8), "latency_ms": round(sum(latencies) / len(latencies), 3) if latencies else None,
            "tokens": {"input": sum(s["tokens"]["input"] for s in done), "output": sum(s["tokens"]["output"] for s in done)},
            "problems": loaded.problems}


def compare(c: Container, template: Template, pull: Pull) -> dict[str, Any]:
    """The evaluation as the API answers it, from the results kept (no model is asked)."""
    base_sha, head_sha = ev.commits(c, template, pull)
    return _compared(c, template, ev.load(c, template, base_sha), ev.load(c, template, head_sha), head_sha)


def _compared(c: Container, template: Template, base: ev.Loaded, head: ev.Loaded, head_sha: str) -> dict[str, Any]:
    """`compare` of the base and head commits as loaded."""
    found = {"base": ev.results(c, template, base), "head": ev.results(c, template, head)}
    keys: dict[ev.Key, str] = {}
    for file, case in head.cases + base.cases:
        keys.setdefault(ev.case_key(file, case), file)
    cases = []
    for key, file in keys.items():
        b, h = side_of(found["base"].get(key)), side_of(found["head"].get(key))
        cases.append({"name": key[1], "file": file, "base": b, "head": h, "change": change_of(b, h)})
    summary = {"base": _summary(base, found["base"]), "head": _summary(head, found["head"])}
    status = next((s for s in c.meta.checks.get_statuses(template.id, head_sha) if s.context == ev.CONTEXT), None)
    summary["head"]["check"] = {"state": status.state, "description": status.description} if status else None
    return {"summary": summary, "cases": cases}


def evaluation(c: Container, actor: Actor, owner: str, name: str, number: int) -> dict[str, Any]:
    template, pull = pulls.get_pull(c, actor, owner, name, number)
    return compare(c, template, pull)


def shown(cases: list[dict[str, Any]], which: str) -> list[dict[str, Any]]:
    """The cases a filter keeps: all, changed (anything but same), failing (on the head), regressions."""
    if which == "changed":
        return [k for k in cases if k["change"] != "same"]
    if which == "failing":
        return [k for k in cases if k["head"] is not None and not k["head"]["passed"]]
    if which == "regressions":
        return [k for k in cases if k["change"] == "regression"]
    return cases


def tab(c: Container, actor: Actor, owner: str, name: str, number: int, show: str) -> dict[str, Any]:
    """What the Evaluation tab shows: the pull request, the summary, the count under each filter,
    and the cases `show` keeps, each with word diffs of its prompt and answer per side."""
    if show not in FILTERS:
        raise InvalidInput(f"show must be one of {', '.join(FILTERS)}")
    template, pull = pulls.get_pull(c, actor, owner, name, number)
    found = compare(c, template, pull)
    cases = []
    for case in shown(found["cases"], show):
        base, head = case["base"] or {}, case["head"] or {}
        diffs: dict[str, dict[str, list[worddiff.Segment]]] = {"base": {}, "head": {}}
        for what in ("prompt", "output"):  # a side alone: all of it is new, or gone
            diffs["base"][what], diffs["head"][what] = worddiff.diff(base.get(what) or "", head.get(what) or "")
        cases.append({**case, "diff": diffs})
    return {"pull": pull, "summary": found["summary"], "cases": cases,
            "counts": {which: len(shown(found["cases"], which)) for which in FILTERS}}


def check(c: Container, template: Template, sha: str) -> Status:
    """The `eval` check of `sha`: every open pull request of `template` whose head it is, evaluated."""
    url = (c.settings.base_url or "").rstrip("/")
    heads = [p for p in c.meta.pulls.page(template.id, "open", 0, 1000)[0] if p.head_sha == sha]
    if not heads:
        return Status(template.id, sha, ev.CONTEXT, "success", "no open pull request has this head")
    target = f"{url}/{template.owner}/{template.name}/pulls/{heads[0].number}/evaluation"
    errors, regressions, lines = [], [], []
    for pull in heads:
        base_sha, head_sha = ev.commits(c, template, pull)
        base, head = ev.load(c, template, base_sha), ev.load(c, template, head_sha)
        try:
            errors += ev.evaluate(c, template, base) + ev.evaluate(c, template, head)
        except OverBudget as exc:
            return Status(template.id, sha, ev.CONTEXT, "error", exc.message[:500], [], target)
        if head.problems:
            return Status(template.id, sha, ev.CONTEXT, "failure", f"the head's test cases: {head.problems[0]}"[:500],
                          [], target)
        compared = _compared(c, template, base, head, head_sha)  # as loaded above
        regressions += [k for k in compared["cases"] if k["change"] == "regression"]
        s = compared["summary"]
        lines.append(f"#{pull.number}: pass rate {_rate(s['base'])} -> {_rate(s['head'])}, "
                     f"cost ${s['base']['cost']:.4f} -> ${s['head']['cost']:.4f}")
    problems = [{"path": k["file"], "message": f"{k['name']}: passes on the base, fails on the head: "
                 f"{_first_failure(k['head'])}"[:300]} for k in regressions]
    if errors:
        return Status(template.id, sha, ev.CONTEXT, "error", guard.with_more(errors[0], len(errors))[:500], problems, target)
    if regressions:
        first = regressions[0]
        summary = guard.with_more(f"regression: {first['name']!r} ({first['file']}) passes on the base, fails on the "
                                  f"head: {_first_failure(first['head'])}", len(regressions))
        return Status(template.id, sha, ev.CONTEXT, "failure", summary[:500], problems, target)
    return Status(template.id, sha, ev.CONTEXT, "success", "; ".join(lines)[:500], [], target)


def _rate(side: dict[str, Any]) -> str:
    return "n/a" if side["pass_rate"] is None else f"{side['pass_rate'] * 100:.0f}%"


def _first_failure(side: dict[str, Any] | None) -> str:
    failed = [a["reason"] for a in (side or {}).get("assertions", []) if not a["passed"]]
    return failed[0] if failed else "failed"
