"""Drafts follow their branches: a push (or merge, or web commit) that moved a branch with open
drafts has them merged onto the new tip (registry.services.drafts_rebase), in a thread of this
process, never in the request that pushed. A merge lost with its process is done when the draft
is next looked at (services.drafts.get_draft), so nothing is owed here."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from registry.container import Container
from registry.git.policy import RefUpdate
from registry.meta import Template
from registry.services import drafts_rebase

log = logging.getLogger(__name__)


class DraftFollower:
    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None

    def on_push(self, c: Container, template: Template, updates: list[RefUpdate]) -> None:
        if not any(u.ref.startswith("refs/heads/") for u in updates):
            return
        if self._executor is None:  # made on first use: nothing runs in a process about to fork
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drafts")
        self._executor.submit(self._follow, c, template, updates)

    @staticmethod
    def _follow(c: Container, template: Template, updates: list[RefUpdate]) -> None:
        try:
            drafts_rebase.follow_push(c, template, updates)
        except Exception:
            log.exception("drafts of %s could not follow a push", template.full_name)

    def join(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
