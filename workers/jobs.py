"""RQ job functions: the worker's system (passed by workers.worker.RegistryJob) and ids in, one
core call on its container, no logic of their own. They are queued with the ids only."""
from __future__ import annotations

from rq import get_current_job

from .bootstrap import System
from .rq_queue import RQDispatcher
from .runtime import run_check, run_delivery, run_manual, run_repack, run_unit


def _may_retry() -> bool:
    job = get_current_job()
    return bool(job and job.retries_left)


def validate(system: System, template_id: str, sha: str) -> None:
    run_check(system.container, "validate", template_id, sha, _may_retry)
    # sandbox depends on validate: it is queued once validate has a final state.
    job = get_current_job()
    assert job is not None
    RQDispatcher(job.connection, system.container).enqueue(template_id, sha, ["sandbox"])


def index(system: System, template_id: str, sha: str) -> None:
    run_check(system.container, "index", template_id, sha, _may_retry)


def semver(system: System, template_id: str, sha: str) -> None:
    run_check(system.container, "semver", template_id, sha, _may_retry)


def sandbox(system: System, template_id: str, sha: str) -> None:
    run_check(system.container, "sandbox", template_id, sha, _may_retry)


def eval(system: System, template_id: str, sha: str) -> None:  # noqa: A001 (the job's name is its context's)
    run_check(system.container, "eval", template_id, sha, _may_retry)


def run(system: System, run_id: str) -> None:
    run_manual(system.container, run_id, _may_retry)


def deliver(system: System, delivery_id: str) -> None:
    run_delivery(system.container, delivery_id)


def repack(system: System, template_id: str) -> None:
    run_repack(system.container, template_id)


def unit(system: System, experiment_id: str, seq: int) -> None:
    following = run_unit(system.container, experiment_id, seq, _may_retry)
    job = get_current_job()
    assert job is not None
    dispatcher = RQDispatcher(job.connection, system.container)
    for next_seq in following:
        dispatcher.enqueue_unit(experiment_id, next_seq)
