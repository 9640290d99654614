"""Sandbox runs as use cases: the run a push owes (the `sandbox` check), runs asked for by hand,
and carrying one out — where (local or Fargate), its metrics, estimated cost and budget, the
run record and the `sandbox` commit status with a one-line summary."""
from __future__ import annotations

import base64
import json
import time
from typing import Any

from .. import telemetry
from ..access import Actor, Level
from ..container import Container
from ..errors import InvalidInput, StorageError, TemplateNotFound
from ..events import recording
from ..git import browse
from ..meta import Run, RunChanges, Status, Template
from ..sandbox import cost, prepare
from ..sandbox.base import Backend, Outcome
from ..settings import Settings
from ..storage import BlobNotFound
from . import budget, guard

INLINE_INPUT_LIMIT = 6000  # ECS overrides carry at most 8 KiB in all


def for_push(c: Container, template: Template, sha: str) -> Run:
    """The run of the sandbox check of `sha`: the one already started (adopted on a re-run), or a new one."""
    return c.meta.checks.find_run(template.id, sha, "push") or c.meta.checks.add_run(
        template.id, sha, None, "push", None, c.settings.sandbox)


def request(c: Container, actor: Actor, owner: str, name: str, ref: str) -> Run:
    """A run by hand of `ref` (branch, tag or sha), queued for the workers."""
    template = guard.template(c, actor, owner, name, Level.WRITE)
    budget.ensure(c, template.owner)
    with c.open_repo(template) as repo:
        sha = browse.resolve_commit(repo, ref).id.decode()
    run = c.meta.checks.add_run(template.id, sha, ref, "manual", actor.name, c.settings.sandbox)
    c.announce_run(run)
    return run


def backend_for(c: Container, run_id: str | None = None) -> Backend:
    """The configured backend; for a run, one that records its log lines as they come (the run
    page follows them: api/routes/live.py)."""
    settings = c.settings
    if settings.sandbox == "fargate":
        from ..sandbox.fargate import FargateBackend

        return FargateBackend(settings, lambda run, payload: _stage_input(c, run, payload))
    from ..sandbox.local import LocalBackend

    if run_id is None:
        return LocalBackend.from_settings(settings)

    def record_logs(text: str) -> None:
        try:
            c.meta.checks.update_run(run_id, logs=text)
        except StorageError:
            pass  # best effort: the whole log is recorded at the end

    return LocalBackend.from_settings(settings, record_logs)


def execute(c: Container, run_id: str, backend: Backend | None = None) -> Status:
    """Carry out a run to its end (or adopt its task) and record the outcome. Transient errors
    (storage, ECS) propagate with the run left `running`, so a retry adopts what was started."""
    with telemetry.span("sandbox run", {"registry.run": run_id, "registry.sandbox": c.settings.sandbox}):
        status = _execute(c, run_id, backend)
        telemetry.note(**{"registry.state": status.state})
        return status


def _execute(c: Container, run_id: str, backend: Backend | None = None) -> Status:
    meta, settings = c.meta, c.settings
    run = meta.checks.get_run(run_id)
    template = meta.templates.get_by_id(run.template_id)
    if run.final:
        return _status(settings, run)
    manifest, cases, problems = prepare.load_cases(c, template, run.sha)
    if problems:
        return _finish(c, run, "failure", problems[0]["message"], problems=problems)
    if not cases or manifest is None:
        return _finish(c, run, "success", "no test cases (tests/*.json)")
    limit = cost.budget(manifest)
    planned = cost.estimate(settings, manifest, len(cases), 0.0)
    if limit is not None and planned["total_usd"] > limit:
        return _finish(c, run, "failure", f"over budget before running: declared calls "
                       f"${planned['total_usd']:.4f} > budget ${limit:.4f}", price=planned)
    refused = budget.refusal(c, template.owner)
    if refused is not None:
        return _finish(c, run, "error", refused)
    run = meta.checks.update_run(run.id, state="running", summary="running", attempts=run.attempts + 1,
                          started_at=run.started_at or time.time())
    backend = backend or backend_for(c, run_id)
    def record_task(task: str) -> None:  # before waiting, so a retry adopts or stops the task
        meta.checks.update_run(run_id, task_arn=task)

    outcome = backend.execute(run, payload(settings, manifest, cases), record_task)
    price = cost.with_model(cost.estimate(settings, manifest, len(cases), outcome.duration_s), outcome.report)
    state, summary, bad = judge(outcome, price, limit)
    problems = [{"path": case["file"], "message": f"{case['name']}: {'; '.join(case['failures'])}"} for case in bad]
    return _finish(c, run, state, summary, outcome=outcome, price=price, problems=problems)


def payload(settings: Settings, manifest: dict[str, Any], cases: list[tuple[str, prepare.Case]],
            model: str | None = None) -> dict[str, Any]:
    """The runner's input: the resolved manifest, the cases, and the model's price: the configured
    model's, or `model`'s, which the runner then asks instead (an experiment's, on any backend)."""
    price = cost.model_price(settings, model=model) if settings.sandbox_provider_url else None
    return {"manifest": manifest, "cases": cases, "price": list(price) if price else None} | (
        {"model": model} if model else {})


def abandon(c: Container, run: Run, error: BaseException) -> None:
    """The run's retries are exhausted: record it as an error (its task, if any, stays recorded)."""
    if not c.meta.checks.get_run(run.id).final:
        _finish(c, run, "error", f"{type(error).__name__}: {error}"[:300])


def judge(outcome: Outcome, price: dict[str, float], limit: float | None) -> tuple[str, str, list[dict[str, Any]]]:
    """(state, one-line summary, failed cases) of a finished run: its error, its failed cases,
    or its estimated cost over the manifest's budget, in that order."""
    m = outcome.metrics
    figures = ", ".join(part for part in (
        f"{m['duration_s']:.2f} s", f"cpu {m['cpu_s']:.2f} s" if m["cpu_s"] is not None else "",
        f"peak {m['peak_memory_mb']:.0f} MB" if m["peak_memory_mb"] is not None else "",
        f"~${price['total_usd']:.4f}") if part)
    if outcome.error:
        return "error", f"{outcome.error} ({figures})", []
    report = outcome.report or {}
    bad = [c for c in report.get("cases", []) if c["outcome"] != "passed"]
    if bad:
        first = bad[0]
        return "failure", guard.with_more(f"case {first['name']!r} ({first['file']}) {first['outcome']}: "
                                          f"{first['failures'][0]}", len(bad)), bad
    if limit is not None and price["total_usd"] > limit:
        return "failure", f"over budget: estimated ${price['total_usd']:.4f} > budget ${limit:.4f} ({figures})", []
    return "success", f"{report.get('passed', 0)} cases passed ({figures})", []


def _finish(c: Container, run: Run, state: str, summary: str, outcome: Outcome | None = None,
            price: dict[str, float] | None = None, problems: list[dict[str, Any]] | None = None) -> Status:
    changes: RunChanges = {"state": state, "summary": summary[:500], "finished_at": time.time()}
    if outcome is not None:
        changes |= {"report": outcome.report, "logs": outcome.logs, "metrics": outcome.metrics}
    if price is not None:
        changes["cost"] = price
    try:
        template: Template | None = c.meta.templates.get_by_id(run.template_id)
    except TemplateNotFound:
        template = None  # deleted meanwhile: the run's record goes too
    with recording(c) as r:
        run = c.meta.checks.update_run(run.id, **changes)
        r.add(run.requested_by, "run.finished", template, {"run": {
            "id": run.id, "sha": run.sha, "ref": run.ref, "trigger": run.trigger, "state": run.state,
            "summary": run.summary, "metrics": run.metrics, "cost": run.cost}})
    if run.backend == "fargate":  # only Fargate runs stage an input blob (none when passed inline)
        discard_input(c, run)
    return _status(c.settings, run, problems)


def _status(settings: Settings, run: Run, problems: list[dict[str, Any]] | None = None) -> Status:
    base = (settings.base_url or "").rstrip("/")
    return Status(run.template_id, run.sha, "sandbox", run.state if run.final else "pending", run.summary[:500],
                  problems or [], f"{base}/api/v1/runs/{run.id}")


def discard_input(c: Container, run: Run) -> None:
    """The staged input of a Fargate run, once it ended (a leftover is harmless)."""
    try:
        c.blobs.delete(_input_key(run))
    except (BlobNotFound, StorageError):
        pass


def _input_key(run: Run) -> str:
    return f"sandbox-runs/{run.id}/input.json"


def _stage_input(c: Container, run: Run, payload: dict[str, Any]) -> dict[str, str]:
    """How the Fargate task gets its input: a presigned URL of a blob (S3), or inline if small."""
    data = json.dumps(payload).encode()
    url = c.blobs.download_url(_input_key(run), int(c.settings.sandbox_timeout_seconds) + 3600)
    if url is not None:  # signing asks nothing of the store: the blob may be written after
        c.blobs.put(_input_key(run), data)
        return {"SANDBOX_INPUT_URL": url}
    if len(data) <= INLINE_INPUT_LIMIT:
        return {"SANDBOX_INPUT_B64": base64.b64encode(data).decode()}
    raise InvalidInput(f"the run's input ({len(data)} bytes) is too large to pass to Fargate inline: "
                       "use REGISTRY_STORAGE=s3")

