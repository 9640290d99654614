"""RQ job functions: ids in, one core call on the worker's container, no logic of their own."""
from __future__ import annotations

from rq import get_current_job

from .rq_queue import RQDispatcher
from .runtime import container, run_check, run_delivery, run_manual, run_repack


def _may_retry() -> bool:
    job = get_current_job()
    return bool(job and job.retries_left)


def validate(template_id: str, sha: str) -> None:
    run_check(container(), "validate", template_id, sha, _may_retry)
    # sandbox depends on validate: it is queued once validate has a final state.
    job = get_current_job()
    assert job is not None
    RQDispatcher(job.connection, container()).enqueue(template_id, sha, ["sandbox"])


def index(template_id: str, sha: str) -> None:
    run_check(container(), "index", template_id, sha, _may_retry)


def sandbox(template_id: str, sha: str) -> None:
    run_check(container(), "sandbox", template_id, sha, _may_retry)


def run(run_id: str) -> None:
    run_manual(container(), run_id, _may_retry)


def deliver(delivery_id: str) -> None:
    run_delivery(container(), delivery_id)


def repack(template_id: str) -> None:
    run_repack(container(), template_id)
