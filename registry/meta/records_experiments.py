"""The records of A/B experiments (meta.experiments): an experiment over a template's variants,
and its units, the pieces the worker pool carries out (one variant, one repetition, every case)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXPERIMENT_FINAL = ("finished", "cancelled", "failed")
UNIT_FINAL = ("done", "error", "cancelled")


@dataclass(frozen=True)
class Experiment:
    id: str
    template_id: str
    requested_by: str | None
    variants: tuple[tuple[str, str], ...]  # (ref as asked, the commit it resolved to)
    cases: tuple[str, ...] | None  # names of the cases asked for; None: every case
    repetitions: int
    provider: str | None  # the model asked for (None: the configured one)
    state: str  # queued | running | finished | cancelled | failed
    units: int  # variants x repetitions
    done: int = 0  # units with a final state
    summary: str = ""
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def final(self) -> bool:
        return self.state in EXPERIMENT_FINAL


@dataclass(frozen=True)
class Unit:
    """One variant's cases, once: `trials` is one entry per case ({case, file, passed, latency_ms,
    cost, tokens, error}) once done. `state`: pending (not handed to the queue yet), queued,
    running, done, error, cancelled."""
    experiment_id: str
    seq: int
    variant: int
    repetition: int
    state: str
    attempts: int = 0
    trials: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    queued_at: float | None = None
    finished_at: float | None = None

    @property
    def final(self) -> bool:
        return self.state in UNIT_FINAL
