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


def run_check(context: str, template_id: str, sha: str, may_retry: Callable[[], bool]) -> None:
    """Run a check; transient errors propagate while a retry remains, anything else becomes
    an `error` status (so a check never stays pending because its job died quietly)."""
    reg = registry()
    try:
        checks.run(reg, context, template_id, sha)
    except checks.TRANSIENT as exc:
        if may_retry():
            log.warning("%s %s@%s: %s; will retry", context, template_id, sha[:12], exc)
            raise
        checks.give_up(reg, context, template_id, sha, exc)
    except Exception as exc:
        log.exception("%s %s@%s failed", context, template_id, sha[:12])
        checks.give_up(reg, context, template_id, sha, exc)


def run_manual(run_id: str, may_retry: Callable[[], bool]) -> None:
    """Carry out a sandbox run asked for by hand, and give its commit the run's status."""
    from registry.meta.sqlite_runs import RunNotFound
    from registry.sandbox import runs

    reg = registry()
    try:
        run = reg.meta.get_run(run_id)
    except RunNotFound:
        return  # its template was deleted
    try:
        reg.meta.set_status(runs.execute(reg, run_id))
    except checks.TRANSIENT as exc:
        if may_retry():
            log.warning("run %s: %s; will retry", run_id, exc)
            raise
        runs.abandon(reg, run, exc)
    except Exception as exc:
        log.exception("run %s failed", run_id)
        runs.abandon(reg, run, exc)


def warm() -> None:
    """Do once in the worker what every forked work-horse would otherwise redo per job."""
    from registry import schemas

    from . import jobs  # noqa: F401  (RQ resolves "workers.jobs.*" by name in the horse)

    registry()
    schemas.validator("template.schema.json")
    schemas.secret_fields()
