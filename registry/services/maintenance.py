"""Operators' use cases (the CLI; no route): garbage collection of packs."""
from __future__ import annotations

from collections.abc import Callable

from ..container import Container
from ..git.gc import GcReport, run_gc


def gc(c: Container, grace_seconds: float, progress: Callable[[str], None] = lambda msg: None) -> GcReport:
    """Repack every repo to exactly its reachable objects, then drop packs no refs document
    names that are older than `grace_seconds` (a push may be about to name a younger one)."""
    return run_gc(c.repos, grace_seconds, progress)
