"""The records of A/B experiments (meta.experiments): an experiment over a template's variants,
and its units, the pieces the worker pool carries out (one variant, one repetition, one part of
the cases: at most `part_size` of them, so a unit stays well within the sandbox's timeout)."""
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
    cases: tuple[str, ...]  # names of the cases run (every case the variants share, when none were asked)
    repetitions: int
    provider: str | None  # the model asked for (None: the configured one)
    state: str  # queued | running | finished | cancelled | failed
    units: int  # variants x repetitions x parts
    done: int = 0  # units with a final state
    summary: str = ""
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    part_size: int = 0  # cases per unit (0: every case in one)

    @property
    def final(self) -> bool:
        return self.state in EXPERIMENT_FINAL

    def part(self, index: int) -> tuple[str, ...]:
        """The names of the cases of part `index` (in the order of `cases`)."""
        if self.part_size <= 0:
            return self.cases
        return self.cases[index * self.part_size:(index + 1) * self.part_size]


@dataclass(frozen=True)
class Unit:
    """One variant's cases (one part of them), once: `trials` is one entry per case ({case, file, passed, latency_ms,
    cost, tokens, error}) once done. `state`: pending (not handed to the queue yet), queued,
    running, done, error, cancelled."""
    experiment_id: str
    seq: int
    variant: int
    repetition: int
    state: str
    attempts: int = 0
    part: int = 0
    trials: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    queued_at: float | None = None
    finished_at: float | None = None

    @property
    def final(self) -> bool:
        return self.state in UNIT_FINAL
