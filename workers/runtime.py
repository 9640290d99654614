"""One Registry per worker (built before RQ forks its work-horses, which inherit it: the
metadata store reopens its connection in a new process), and a check run with the retry policy."""
from __future__ import annotations

import logging
from typing import Callable

from registry import checks
from registry.services import Registry
from registry.settings import get_settings

log = logging.getLogger(__name__)
_cached: Registry | None = None


def registry() -> Registry:
    global _cached
    if _cached is None:
        _cached = Registry.from_settings(get_settings())
    return _cached


def _retrying(label: str, work: Callable[[], None], give_up: Callable[[BaseException], None],
              may_retry: Callable[[], bool]) -> None:
    """Transient errors propagate while a retry remains; anything else, or the last transient
    one, goes to `give_up` (so nothing stays pending because its job died quietly)."""
    try:
        work()
    except checks.TRANSIENT as exc:
        if may_retry():
            log.warning("%s: %s; will retry", label, exc)
            raise
        give_up(exc)
    except Exception as exc:
        log.exception("%s failed", label)
        give_up(exc)


def run_check(context: str, template_id: str, sha: str, may_retry: Callable[[], bool]) -> None:
    """Run a check; a final failure becomes an `error` status."""
    reg = registry()
    _retrying(f"{context} {template_id}@{sha[:12]}", lambda: checks.run(reg, context, template_id, sha),
              lambda exc: checks.give_up(reg, context, template_id, sha, exc), may_retry)


def run_manual(run_id: str, may_retry: Callable[[], bool]) -> None:
    """Carry out a sandbox run asked for by hand, and give its commit the run's status."""
    from registry.meta.sqlite_runs import RunNotFound
    from registry.sandbox import runs

    reg = registry()
    try:
        run = reg.meta.get_run(run_id)
    except RunNotFound:
        return  # its template was deleted
    _retrying(f"run {run_id}", lambda: reg.meta.set_status(runs.execute(reg, run_id)),
              lambda exc: runs.abandon(reg, run, exc), may_retry)


def warm() -> None:
    """Do once in the worker what every forked work-horse would otherwise redo per job."""
    from registry import schemas

    from . import jobs  # noqa: F401  (RQ resolves "workers.jobs.*" by name in the horse)

    registry()
    schemas.validator("template.schema.json")
    schemas.secret_fields()
