"""What the site-wide figures read from the metadata (meta.stats): plain records, no logic."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserCounts:
    total: int
    admins: int
    disabled: int
    joined: int  # since the window's start


@dataclass(frozen=True)
class TemplateCounts:
    total: int
    private: int
    forks: int
    created: int  # since the window's start


@dataclass(frozen=True)
class CheckOutcome:
    """A check that ended (success, failure or error): how long from push to its final state."""

    template: str
    sha: str
    context: str
    state: str
    description: str
    seconds: float
    at: float


@dataclass(frozen=True)
class DeliveryFailure:
    template: str
    url: str
    event: str
    status: str  # failed | refused
    attempts: int
    response_code: int | None
    error: str | None
    at: float


@dataclass(frozen=True)
class TemplateUsage:
    template: str
    counts: dict[str, int]  # usage kinds summed over the window
