"""Enqueue checks on Redis with RQ, and the `registry worker` process.

Job ids are `{context}-{template_id}-{sha}` (the issue's `kind:repo:sha`, with dashes because
RQ 3 allows only letters, digits, `_` and `-` in ids) and enqueued with unique=True, so a
repeated push, a reconciler pass or a retry never runs a check twice at once.
"""
from __future__ import annotations

import logging
import threading

from redis import Redis
from rq import Queue, Retry, SimpleWorker
from rq.worker import WorkerStatus
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from registry import checks
from registry.settings import Settings

log = logging.getLogger(__name__)
QUEUES = ("checks", "sandbox")
TIMEOUTS = {"validate": 120, "index": 120, "sandbox": 900}


def connect(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)


def job_id(context: str, template_id: str, sha: str) -> str:
    return f"{context}-{template_id}-{sha}"


class RQDispatcher:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.queues = {name: Queue(name, connection=redis) for name in QUEUES}

    def enqueue(self, template_id: str, sha: str, contexts: list[str], registry=None) -> None:
        """Hand the owed checks of one commit to RQ (raises if Redis is unreachable).

        sandbox depends on validate: while validate is still owed it is not enqueued here;
        the validate job enqueues it when it ends (RQ refuses unique ids with depends_on)."""
        for context in sorted(contexts, key=checks.CONTEXTS.index):
            if context == "sandbox" and ("validate" in contexts or self._validate_pending(registry, template_id, sha)):
                continue
            jid = job_id(context, template_id, sha)
            existing = self._existing(jid)
            if existing is not None:
                if existing.get_status() not in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                    continue  # queued, running, or done: nothing to add
                if registry is not None:  # it died for good (its worker was killed every time)
                    checks.give_up(registry, context, template_id, sha, RuntimeError("the job failed in the queue"))
                existing.delete()
                continue
            queue = self.queues["sandbox" if context == "sandbox" else "checks"]
            try:
                # Retries requeue at once: a scheduler-based backoff would wait on the scheduler
                # lock of a worker that may be the one that died.
                queue.enqueue(f"workers.jobs.{context}", template_id, sha, job_id=jid, unique=True,
                              retry=Retry(max=3), job_timeout=TIMEOUTS[context],
                              result_ttl=3600, failure_ttl=7 * 86400)
            except DuplicateJobError:
                pass

    def enqueue_run(self, run_id: str) -> None:
        """A sandbox run asked for by hand (`POST .../runs`), on the sandbox queue."""
        try:
            self.queues["sandbox"].enqueue("workers.jobs.run", run_id, job_id=f"run-{run_id}", unique=True,
                                           retry=Retry(max=3), job_timeout=TIMEOUTS["sandbox"],
                                           result_ttl=3600, failure_ttl=7 * 86400)
        except DuplicateJobError:
            pass

    @staticmethod
    def _validate_pending(registry, template_id: str, sha: str) -> bool:
        if registry is None:
            return False
        states = {s.context: s.state for s in registry.meta.get_statuses(template_id, sha)}
        return states.get("validate") == "pending"

    def _existing(self, jid: str) -> Job | None:
        try:
            return Job.fetch(jid, connection=self.redis)
        except NoSuchJobError:
            return None


class RegistryWorker(SimpleWorker):
    """Runs checks in the worker process (no fork per job: 3x the throughput measured in
    `make bench`; the sandbox isolates its own runs in child processes), with a heartbeat
    thread while a job runs, so a dead worker's job is retried within two heartbeats while a
    long job of a live one is never mistaken for abandoned."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        execution = self.prepare_execution(job)
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.job_monitoring_interval):
                try:
                    self.maintain_heartbeats(job, execution)
                except Exception:  # a missed beat is retried; the job itself goes on
                    log.warning("heartbeat for %s failed", job.id, exc_info=True)

        heart = threading.Thread(target=beat, name=f"heartbeat-{job.id}", daemon=True)
        heart.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            stop.set()
            heart.join()
        self.set_state(WorkerStatus.IDLE)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return int(self.job_monitoring_interval + max(5, self.job_monitoring_interval))


def run_worker(settings: Settings, queues: list[str], burst: bool) -> None:
    if not settings.redis_url:
        from registry.errors import InvalidInput

        raise InvalidInput("registry worker needs REGISTRY_REDIS_URL")
    from .runtime import warm

    warm()  # the registry, job module and compiled schemas: every forked work-horse inherits them
    redis = Redis.from_url(settings.redis_url)  # RQ sizes the socket timeout to its blocking pops
    # RQ's idle worker blocks on the queues for worker_ttl - 15 s and runs maintenance (which
    # requeues jobs of dead workers) only between pops: tie that wait to the maintenance interval.
    maintenance = settings.worker_maintenance_seconds
    worker = RegistryWorker([Queue(q, connection=redis) for q in queues], connection=redis,
                            job_monitoring_interval=settings.job_heartbeat_seconds,
                            maintenance_interval=maintenance, worker_ttl=maintenance + 15)
    worker.work(burst=burst, logging_level="WARNING")
