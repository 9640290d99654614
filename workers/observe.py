"""A queue job's span and its one log line (logger `registry.jobs`), whichever queue runs it:
kind, ids, outcome (ok, retry, error), duration, and the trace it belongs to. The job's span is
a child of the work that queued it when the job carried a trace context (the dispatchers carry
it: in RQ's job meta, in the embedded queue's closures)."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from registry import logs, telemetry
from registry.services import checks

log = logging.getLogger(logs.JOBS)
Job = Callable[[Callable[[], bool]], None]


@contextmanager
def job(kind: str, **fields: str | None) -> Iterator[dict[str, str | None]]:
    """Around one job: yields a dict the job may add fields to (a check's final state)."""
    started = time.perf_counter()
    found: dict[str, str | None] = dict(fields)
    outcome = "ok"
    with telemetry.span(f"job {kind}", {f"registry.{k}": v for k, v in fields.items() if v is not None}):
        try:
            yield found
        except checks.TRANSIENT:
            outcome = "retry"
            raise
        except BaseException:
            outcome = "error"
            raise
        finally:
            telemetry.note(**{"registry.outcome": outcome, **{f"registry.{k}": v for k, v in found.items()}})
            took = round((time.perf_counter() - started) * 1000, 1)
            log.info("%s %s", kind, outcome, extra={"fields": {"job": kind, "outcome": outcome, **found,
                                                               "duration_ms": took}})


def carried(work: Job) -> Job:
    """`work`, to run later in the trace context current now (no trace: `work` itself)."""
    headers = telemetry.carrier()
    if not headers:
        return work

    def run(may_retry: Callable[[], bool]) -> None:
        with telemetry.restored(headers):
            work(may_retry)
    return run
