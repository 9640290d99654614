"""The embedded queue: checks run in a background thread of `registry serve` (no Redis)."""
from __future__ import annotations

import logging
import operator
import queue
import threading
import time
from collections.abc import Callable
from functools import partial

from registry.container import Container
from registry.services import checks

from .observe import carried
from .runtime import run_check, run_delivery, run_manual, run_repack, run_unit

log = logging.getLogger(__name__)
ATTEMPTS = 3
HOOK_THREADS = 4  # webhook attempts at once (each bounded by REGISTRY_WEBHOOK_TIMEOUT_SECONDS)
# The queue shares the server's interpreter (one GIL): a job starts a moment after it was queued,
# so the request that queued it answers first. Measured: a 2,000-commit push answered 70-150 ms
# later when its checks started at once; a clone right after a branch deletion raced the repack.
SETTLE = 0.2  # seconds: checks and runs
REPACK_SETTLE = 3.0  # seconds: a repack (clones of the repo often follow the push that queued it)


Job = Callable[[Callable[[], bool]], None]  # takes `may_retry`
Item = tuple[float, list[Job]]  # (monotonic time to start at, the jobs)


class EmbeddedDispatcher:
    def __init__(self, container: Container) -> None:
        self.container = container
        self._queue: queue.Queue[Item] = queue.Queue()  # each item: jobs run in order, not before a time
        self._settling = 0  # items taken off the queue: waiting for their time, or running (counted as queued)
        self._thread = threading.Thread(target=self._loop, name="embedded-checks", daemon=True)
        self._thread.start()
        # Webhooks wait on receivers: their own threads, so a slow receiver never delays a check.
        self._hooks: queue.Queue[Item] = queue.Queue()
        self._queued: set[str] = set()  # deliveries waiting in _hooks: a resubmit adds nothing
        self._queued_lock = threading.Lock()
        for i in range(HOOK_THREADS):
            threading.Thread(target=self._loop, args=(self._hooks,), name=f"embedded-hooks-{i}", daemon=True).start()
        # Experiments' units: threads of their own (each waits on a sandbox child and the model),
        # as many as one experiment may have running.
        self._units: queue.Queue[Item] = queue.Queue()
        for i in range(container.settings.experiment_concurrency):
            threading.Thread(target=self._loop, args=(self._units,), name=f"embedded-units-{i}", daemon=True).start()

    def enqueue(self, template_id: str, sha: str, contexts: list[str]) -> None:
        self._queue.put((time.monotonic() + SETTLE, [carried(partial(run_check, self.container, context, template_id, sha))
                                                     for context in sorted(contexts, key=checks.ORDER.index)]))

    def enqueue_run(self, run_id: str) -> None:
        self._queue.put((time.monotonic() + SETTLE, [carried(partial(run_manual, self.container, run_id))]))

    def enqueue_unit(self, experiment_id: str, seq: int) -> None:
        self._units.put((time.monotonic() + SETTLE, [carried(partial(self._unit, experiment_id, seq))]))

    def _unit(self, experiment_id: str, seq: int, may_retry: Callable[[], bool]) -> None:
        for following in run_unit(self.container, experiment_id, seq, may_retry):
            self.enqueue_unit(experiment_id, following)

    def enqueue_delivery(self, delivery_id: str, attempt: int) -> None:
        with self._queued_lock:
            if delivery_id in self._queued:
                return
            self._queued.add(delivery_id)
        self._hooks.put((0.0, [carried(partial(self._deliver, delivery_id))]))

    def _deliver(self, delivery_id: str, may_retry: Callable[[], bool]) -> None:
        with self._queued_lock:
            self._queued.discard(delivery_id)
        run_delivery(self.container, delivery_id)

    def enqueue_repack(self, template_id: str) -> None:
        self._queue.put((time.monotonic() + REPACK_SETTLE, [carried(partial(run_repack, self.container, template_id))]))

    def depths(self) -> dict[str, int]:
        return {"checks": self._queue.qsize() + self._settling, "hooks": self._hooks.qsize(),
                "experiments": self._units.qsize()}

    def recover(self) -> bool:
        return False  # the queue is this process's: what it holds, it has not lost

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until the queue is drained (tests, `registry checks requeue`)."""
        deadline = time.monotonic() + timeout
        def busy() -> int:
            return self._queue.unfinished_tasks or self._hooks.unfinished_tasks or self._units.unfinished_tasks

        while busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        return not busy()

    def _loop(self, jobs_queue: queue.Queue[Item] | None = None) -> None:
        source = jobs_queue or self._queue
        while True:
            not_before, jobs = source.get()
            try:
                self._settling += source is self._queue
                if (wait := not_before - time.monotonic()) > 0:
                    time.sleep(wait)
                for job in jobs:
                    self._run(job)
            finally:
                self._settling -= source is self._queue
                source.task_done()

    @staticmethod
    def _run(job: Job) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                job(partial(operator.lt, attempt, ATTEMPTS))
                return
            except checks.TRANSIENT:
                time.sleep(0.5 * 2 ** attempt)
