"""One Registry per process (rebuilt after fork), and a check run with the retry policy."""
from __future__ import annotations

import logging
import os
from typing import Callable

from registry import checks
from registry.services import Registry
from registry.settings import get_settings

log = logging.getLogger(__name__)
_cached: tuple[int, Registry] | None = None


def registry() -> Registry:
    global _cached
    if _cached is None or _cached[0] != os.getpid():
        _cached = (os.getpid(), Registry.from_settings(get_settings()))
    return _cached[1]


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
