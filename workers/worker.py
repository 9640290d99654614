"""The `registry worker` process: an RQ worker running the checks of workers.jobs.

RQ calls a job function by its import path with the arguments it was queued with (ids only);
`registry worker` bootstraps its system once (api.cli) and the worker hands it to every job it
runs as the first argument (RegistryJob): no module global holds it."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.worker import WorkerStatus

from registry import schemas, telemetry

from . import jobs
from .bootstrap import System

log = logging.getLogger(__name__)


class RegistryJob(Job):
    """A job whose function gets the worker's system before the ids it was queued with."""

    system: System | None = None  # given by the worker that runs it

    def _execute(self) -> Any:
        if self.system is None:
            raise RuntimeError(f"job {self.id} was given no system: jobs run inside `registry worker`")
        with telemetry.restored(self.meta.get("trace")):  # the push (or request) that queued it
            return self.func(self.system, *self.args, **self.kwargs)


class RegistryWorker(SimpleWorker):
    """Runs checks in the worker process (no fork per job: 3x the throughput measured in
    `make bench`; the sandbox isolates its own runs in child processes), with a heartbeat
    thread while a job runs, so a dead worker's job is retried within two heartbeats while a
    long job of a live one is never mistaken for abandoned. Each job gets `system`."""

    job_class = RegistryJob

    def __init__(self, *args: Any, system: System, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.system = system

    def execute_job(self, job: Job, queue: Queue) -> None:
        if not isinstance(job, RegistryJob):
            raise TypeError(f"job {job.id} is a {type(job).__name__}, not a RegistryJob")
        job.system = self.system
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

    stopping = False

    def request_stop(self, signum: int, frame: object) -> None:
        """SIGTERM: RQ's warm shutdown asks Redis for the worker's state; while Redis is down
        that raised a connection error into RQ's reconnect loop, which then never ended."""
        self.stopping = True
        try:
            super().request_stop(signum, frame)
        except (RedisConnectionError, RedisTimeoutError):
            raise StopRequested() from None

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return int(self.job_monitoring_interval + max(5, self.job_monitoring_interval))


def warm() -> None:
    """Do once in the worker what every job would otherwise redo."""
    assert callable(jobs.validate)  # imported here: RQ resolves "workers.jobs.*" by name
    schemas.validator("template.schema.json")
    schemas.secret_fields()


def run_worker(system: System, queues: list[str], burst: bool) -> None:
    """Work until stopped, riding out Redis outages: a lost connection (at start or mid-job) is
    retried with backoff and logged once per change of state, never a reason to exit. Every job
    runs on `system` (bootstrapped once, role "worker")."""
    settings = system.container.settings
    if not settings.redis_url:
        from registry.errors import InvalidInput

        raise InvalidInput("registry worker needs REGISTRY_REDIS_URL")
    warm()
    backoff, connected = 0.5, None
    while True:
        worker = None
        try:
            redis = Redis.from_url(settings.redis_url)  # RQ sizes the socket timeout to its blocking pops
            redis.ping()
            if connected is not True:
                log.warning("worker: connected to Redis at %s", settings.redis_url)
                connected, backoff = True, 0.5
            worker = _worker(redis, system, queues)
            worker.work(burst=burst, logging_level="WARNING")
            return  # stopped (SIGTERM) or, with --burst, out of work
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            if worker is not None and (worker.stopping or worker._stop_requested):
                return  # asked to stop; only its farewell to Redis failed
            if connected is not False:
                log.warning("worker: Redis unreachable (%s); retrying with backoff", exc)
                connected = False
            time.sleep(backoff)
            backoff = min(backoff * 2, 10.0)


def _worker(redis: Redis, system: System, queues: list[str]) -> RegistryWorker:
    # RQ's idle worker blocks on the queues for worker_ttl - 15 s and runs maintenance (which
    # requeues jobs of dead workers) only between pops: tie that wait to the maintenance interval.
    settings = system.container.settings
    maintenance = settings.worker_maintenance_seconds
    return RegistryWorker([Queue(q, connection=redis, job_class=RegistryJob) for q in queues], connection=redis,
                          job_monitoring_interval=settings.job_heartbeat_seconds,
                          maintenance_interval=maintenance, worker_ttl=maintenance + 15, system=system)
