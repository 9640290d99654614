"""RQ job functions: ids in, one core call, no logic of their own."""
from __future__ import annotations

from rq import get_current_job

from .runtime import run_check, run_manual


def _may_retry() -> bool:
    job = get_current_job()
    return bool(job and job.retries_left)


def validate(template_id: str, sha: str) -> None:
    run_check("validate", template_id, sha, _may_retry)
    # sandbox depends on validate: it is queued once validate has a final state.
    from .rq_queue import RQDispatcher
    from .runtime import registry

    RQDispatcher(get_current_job().connection).enqueue(template_id, sha, ["sandbox"], registry=registry())


def index(template_id: str, sha: str) -> None:
    run_check("index", template_id, sha, _may_retry)


def sandbox(template_id: str, sha: str) -> None:
    run_check("sandbox", template_id, sha, _may_retry)


def run(run_id: str) -> None:
    run_manual(run_id, _may_retry)
