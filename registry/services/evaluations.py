"""Evaluation of a pull request, computed: every test case of the base (the merge base of the base
branch and the head) and of the head, rendered and, where a provider is configured, answered and
checked, on the sandbox backend of runs. Results are kept per (commit, case, parameters, provider,
model) in meta.evals; a case whose rendered input (prompts, constraints, assertions, price) was
evaluated at another commit reuses that result, so unchanged cases are never asked of the model
again (a first sandbox run only renders, to know which are unchanged).

The `eval` check of a head commit is owed when a pull request opens, is reopened or its head moves
(`owe`); it fails when a case passes on the base and fails on the head (a regression), so branch
protection can require it. What the API and the page show is in evaluation_view.py.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from dulwich.graph import find_merge_base
from dulwich.objects import ObjectID

from ..container import Container
from ..git.refsdoc import ZERO_SHA
from ..meta import EvalResult, Pull, Run, Template
from ..sandbox import prepare
from ..sandbox.base import Outcome
from . import budget, runs

CONTEXT = "eval"
MAX_CASES = 500  # per commit: more are not evaluated (the check says so)
BATCH = 20  # cases per sandbox run that asks the model: each run stays within the sandbox's time limit
Key = tuple[str, str, str]  # file, case name, digest of its parameters


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def case_key(file: str, case: dict[str, Any]) -> Key:
    return file, str(case.get("name", "?")), _digest(case.get("parameters") or {})


def provider_of(c: Container) -> tuple[str, str]:
    """(kind, model) of the configured provider, or ("", "") without one: part of every result's key."""
    s = c.settings
    return (s.sandbox_provider_kind, s.sandbox_provider_model) if s.sandbox_provider_url else ("", "")


def owe(c: Container, base: Template, sha: str) -> None:
    """A pull request of `base` has `sha` as its head now: its `eval` check is owed (once per commit)."""
    if c.meta.checks.add_pending_statuses(base.id, sha, (CONTEXT,)):
        c.announce_checks(base.id, sha, [CONTEXT])


def commits(c: Container, base: Template, pull: Pull) -> tuple[str | None, str]:
    """(base commit, head commit) compared: the merge base of the base branch and the head (what
    the files changed are shown against), or the base branch tip when they share no history."""
    with c.open_repo(base) as repo:
        tip = repo.doc.refs.get(f"refs/heads/{pull.base_branch}", ZERO_SHA)
        if tip == ZERO_SHA:
            return None, pull.head_sha
        found = find_merge_base(repo, [ObjectID(tip.encode()), ObjectID(pull.head_sha.encode())])
    return (found[0].decode() if found else tip), pull.head_sha


@dataclass
class Loaded:
    """A commit's test cases, in order, one per key; `problems` when they could not be read."""
    sha: str
    manifest: dict[str, Any] | None
    cases: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load(c: Container, template: Template, sha: str | None) -> Loaded:
    if sha is None:
        return Loaded("", None)
    manifest, cases, problems = prepare.load_cases(c, template, sha)
    seen: set[Key] = set()
    unique = []
    for file, case in cases:
        key = case_key(file, case)
        if key not in seen:
            seen.add(key)
            unique.append((file, case))
    loaded = Loaded(sha, manifest, unique, [p["message"] for p in problems])
    if len(unique) > MAX_CASES:
        loaded.cases = unique[:MAX_CASES]
        loaded.problems.append(f"{len(unique)} test cases: only the first {MAX_CASES} are evaluated")
    return loaded


def results(c: Container, template: Template, loaded: Loaded) -> dict[Key, dict[str, Any]]:
    if not loaded.sha:
        return {}
    kind, model = provider_of(c)
    return {r.key: r.result for r in c.meta.evals.results(template.id, loaded.sha, kind, model)}


def evaluate(c: Container, template: Template, loaded: Loaded) -> list[str]:
    """Make sure every case of the commit has a result: render the missing ones first (a sandbox
    run without the model), reuse results of the same rendered input, then run the rest. Returns
    what went wrong (a case whose model call failed is not kept: the next evaluation asks again).
    Raises OverBudget before asking a model past the owner's budget."""
    if loaded.manifest is None or not loaded.cases:
        return []
    kind, model = provider_of(c)
    have = results(c, template, loaded)
    wanted = [(file, case) for file, case in loaded.cases if case_key(file, case) not in have]
    if not wanted:
        return []
    price = runs.payload(c.settings, loaded.manifest, [])["price"]
    digests: dict[Key, str] = {}
    done: list[EvalResult] = []
    # Without a provider a run costs nothing: no rendering first, the run itself tells the digests.
    rendered = run_cases(c, template, loaded.sha, loaded.manifest, wanted, render_only=True) if kind else None
    if rendered is not None and rendered.report is None:
        return [f"the run of {loaded.sha[:10]} failed: {rendered.error}"]
    for (file, case), result in zip(wanted, rendered.report["cases"] if rendered and rendered.report else [],
                                    strict=False):
        key = case_key(file, case)
        digests[key] = _digest({"input": result.get("input_digest"), "price": price})
        if result["outcome"] == "error":  # it did not render: that is its result, whatever the model
            done.append(EvalResult(template.id, loaded.sha, *key, kind, model, digests[key], result, 0.0, time.time()))
    reusable = c.meta.evals.by_digest(template.id, list(digests.values()), kind, model)
    settled = {r.key for r in done}
    for key, d in digests.items():
        if d in reusable and key not in settled:
            reused = {**reusable[d].result, "name": key[1], "file": key[0]}
            done.append(EvalResult(template.id, loaded.sha, *key, kind, model, d, reused, 0.0, time.time()))
    c.meta.evals.add(done)
    settled |= {r.key for r in done}
    left = [(f, k) for f, k in wanted if case_key(f, k) not in settled]
    if not left:
        return []
    budget.ensure(c, template.owner)
    failed: list[str] = []
    for i in range(0, len(left), BATCH):  # each batch kept as it ends: a retry goes on from there
        batch = left[i:i + BATCH]
        outcome = run_cases(c, template, loaded.sha, loaded.manifest, batch)
        if outcome.report is None:
            return failed + [f"the run of {loaded.sha[:10]} failed: {outcome.error}"]
        fresh = []
        for (file, case), result in zip(batch, outcome.report["cases"], strict=False):
            if result["outcome"] == "error" and result["failures"][0].startswith("model call failed"):
                failed.append(f"{result['name']!r} ({file}) at {loaded.sha[:10]}: {result['failures'][0]}"[:300])
                continue
            key = case_key(file, case)
            digest = digests.get(key) or _digest({"input": result.get("input_digest"), "price": price})
            fresh.append(EvalResult(template.id, loaded.sha, *key, kind, model, digest, result,
                                    float(result.get("cost_usd") or 0.0), time.time()))
        c.meta.evals.add(fresh)
        if i + BATCH < len(left):  # spent meanwhile: the next batch is not asked
            budget.ensure(c, template.owner)
    return failed


def run_cases(c: Container, template: Template, sha: str, manifest: dict[str, Any],
              cases: list[tuple[str, dict[str, Any]]], render_only: bool = False, trigger: str = "eval") -> Outcome:
    """One sandbox run of `cases` (of `manifest`, resolved at `sha`) on the runs' backend, with the
    configured provider and its price, recorded nowhere: the caller keeps what it needs of the
    report (evaluations keep results, experiments their samples)."""
    backend = runs.backend_for(c)
    run = Run(f"{trigger}-{secrets.token_hex(6)}", template.id, sha, None, trigger, None, "running", backend.name,
              created_at=time.time())
    try:
        payload = runs.payload(c.settings, manifest, cases)
        return backend.execute(run, {**payload, "render_only": render_only}, lambda task: None)
    finally:
        if backend.name == "fargate":
            runs.discard_input(c, run)
