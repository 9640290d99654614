"""Enqueue checks on Redis with RQ (the worker process is in workers/worker.py).

Job ids are `{context}-{template_id}-{sha}` (the issue's `kind:repo:sha`, with dashes because
RQ 3 allows only letters, digits, `_` and `-` in ids) and enqueued with unique=True, so a
repeated push, a reconciler pass or a retry never runs a check twice at once.
"""
from __future__ import annotations

import logging

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import clean_registries

from registry import telemetry
from registry.container import Container
from registry.services import checks

log = logging.getLogger(__name__)
QUEUES = ("checks", "sandbox", "hooks")
TIMEOUTS = {"validate": 120, "index": 120, "semver": 300, "sandbox": 900, "eval": 1800, "hook": 120, "repack": 900}


def connect(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)


def _traced() -> dict[str, dict[str, str]]:
    """A job's meta: the trace context it was queued in (the worker restores it: workers.worker)."""
    headers = telemetry.carrier()
    return {"trace": headers} if headers else {}


def job_id(context: str, template_id: str, sha: str) -> str:
    return f"{context}-{template_id}-{sha}"


class RQDispatcher:
    def __init__(self, redis: Redis, container: Container) -> None:
        self.redis = redis
        self.container = container
        self.queues = {name: Queue(name, connection=redis) for name in QUEUES}

    def enqueue(self, template_id: str, sha: str, contexts: list[str]) -> None:
        """Hand the owed checks of one commit to RQ (raises if Redis is unreachable).

        sandbox depends on validate: while validate is still owed it is not enqueued here;
        the validate job enqueues it when it ends (RQ refuses unique ids with depends_on)."""
        for context in sorted(contexts, key=checks.ORDER.index):
            if context == "sandbox" and ("validate" in contexts or self._validate_pending(template_id, sha)):
                continue
            jid = job_id(context, template_id, sha)
            existing = self._existing(jid)
            if existing is not None:
                if existing.get_status() not in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                    continue  # queued, running, or done: nothing to add
                # it died for good (its worker was killed every time)
                checks.give_up(self.container, context, template_id, sha, RuntimeError("the job failed in the queue"))
                existing.delete()
                continue
            queue = self.queues["sandbox" if context in ("sandbox", "eval") else "checks"]
            try:
                # Retries requeue at once: a scheduler-based backoff would wait on the scheduler
                # lock of a worker that may be the one that died.
                queue.enqueue(f"workers.jobs.{context}", template_id, sha, job_id=jid, unique=True,
                              retry=Retry(max=3), job_timeout=TIMEOUTS[context],
                              result_ttl=3600, failure_ttl=7 * 86400, meta=_traced())
            except DuplicateJobError:
                pass

    def join(self, timeout: float = 30.0) -> bool:
        """Nothing to wait for here: the jobs live in Redis, for the workers."""
        return True

    def recover(self) -> bool:
        """Read the queue's own state for lost work: jobs whose worker stopped heart-beating
        (killed) are retried or failed by RQ's registry cleanup; the caller then re-submits
        every pending check, and `enqueue` re-creates the jobs Redis no longer has (a restart
        without persistence) while leaving queued and running ones alone."""
        for queue in self.queues.values():
            clean_registries(queue)
        return True

    def enqueue_run(self, run_id: str) -> None:
        """A sandbox run asked for by hand (`POST .../runs`), on the sandbox queue."""
        try:
            self.queues["sandbox"].enqueue("workers.jobs.run", run_id, job_id=f"run-{run_id}", unique=True,
                                           retry=Retry(max=3), job_timeout=TIMEOUTS["sandbox"],
                                           result_ttl=3600, failure_ttl=7 * 86400, meta=_traced())
        except DuplicateJobError:
            pass

    def enqueue_unit(self, experiment_id: str, seq: int) -> None:
        """A unit of an experiment, on the sandbox queue; the unit's own state (a compare-and-swap
        when it starts) keeps a repeated job from running it twice."""
        jid = f"unit-{experiment_id}-{seq}"
        existing = self._existing(jid)
        if existing is not None and existing.get_status() in (JobStatus.FINISHED, JobStatus.FAILED,
                                                              JobStatus.STOPPED, JobStatus.CANCELED):
            existing.delete()  # ended without finishing the unit (its worker was killed): again
        try:
            self.queues["sandbox"].enqueue("workers.jobs.unit", experiment_id, seq, job_id=jid, unique=True,
                                           retry=Retry(max=2), job_timeout=TIMEOUTS["sandbox"],
                                           result_ttl=600, failure_ttl=86400, meta=_traced())
        except DuplicateJobError:
            pass

    def enqueue_delivery(self, delivery_id: str, attempt: int) -> None:
        """A webhook delivery, once per attempt: the id names the attempt, so the resubmit of an
        attempt whose worker died is a new job while repeats of one attempt stay one job."""
        jid = f"hook-{delivery_id}-{attempt}"
        existing = self._existing(jid)
        if existing is not None and existing.get_status() in (JobStatus.FINISHED, JobStatus.FAILED,
                                                              JobStatus.STOPPED, JobStatus.CANCELED):
            existing.delete()  # it ended without taking the delivery (killed before its claim): again
        try:
            self.queues["hooks"].enqueue("workers.jobs.deliver", delivery_id, job_id=jid, unique=True,
                                         job_timeout=TIMEOUTS["hook"], result_ttl=600, failure_ttl=86400,
                                         meta=_traced())
        except DuplicateJobError:
            pass

    def enqueue_repack(self, template_id: str) -> None:
        """One repack per template at a time; a burst of pushes while one waits adds nothing
        (finished jobs are not kept, so the next push after it can ask again)."""
        try:
            self.queues["checks"].enqueue("workers.jobs.repack", template_id, job_id=f"repack-{template_id}",
                                          unique=True, job_timeout=TIMEOUTS["repack"], result_ttl=0, failure_ttl=60,
                                          meta=_traced())
        except DuplicateJobError:
            pass

    def depths(self) -> dict[str, int]:
        return {name: queue.count for name, queue in self.queues.items()}

    def _validate_pending(self, template_id: str, sha: str) -> bool:
        states = {s.context: s.state for s in self.container.meta.checks.get_statuses(template_id, sha)}
        return states.get("validate") == "pending"

    def _existing(self, jid: str) -> Job | None:
        try:
            return Job.fetch(jid, connection=self.redis)
        except NoSuchJobError:
            return None
