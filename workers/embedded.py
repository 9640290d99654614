"""The embedded queue: checks run in a background thread of `registry serve` (no Redis)."""
from __future__ import annotations

import logging
import queue
import threading
import time

from registry import checks

from .runtime import run_check, run_manual

log = logging.getLogger(__name__)
ATTEMPTS = 3


class EmbeddedDispatcher:
    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, str, list[str]]] = queue.Queue()  # (template, sha|run, contexts)
        self._thread = threading.Thread(target=self._loop, name="embedded-checks", daemon=True)
        self._thread.start()

    def enqueue(self, template_id: str, sha: str, contexts: list[str], registry=None) -> None:
        self._queue.put((template_id, sha, sorted(contexts, key=checks.CONTEXTS.index)))

    def enqueue_run(self, run_id: str) -> None:
        self._queue.put(("", run_id, ["run"]))

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until the queue is drained (tests, `registry checks requeue`)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self._queue.unfinished_tasks

    def _loop(self) -> None:
        while True:
            template_id, sha, contexts = self._queue.get()
            try:
                for context in contexts:
                    self._run(context, template_id, sha)
            finally:
                self._queue.task_done()

    @staticmethod
    def _run(context: str, template_id: str, sha: str) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                if context == "run":  # a manual sandbox run: `sha` is the run id
                    run_manual(sha, may_retry=lambda: attempt < ATTEMPTS)
                else:
                    run_check(context, template_id, sha, may_retry=lambda: attempt < ATTEMPTS)
                return
            except checks.TRANSIENT:
                time.sleep(0.5 * 2 ** attempt)
