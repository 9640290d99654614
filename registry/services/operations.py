"""What operators' metrics read: queue depths, check latency from push, webhook outcomes."""
from __future__ import annotations

from ..container import Container

LATENCY_BOUNDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


def queue_depths(c: Container) -> dict[str, int]:
    """Jobs waiting per queue; empty when the queue cannot be asked (Redis down, no queue)."""
    if c.queue_depths is None:
        return {}
    try:
        return c.queue_depths()
    except Exception:  # Redis unreachable: the scrape goes on without these
        return {}


def check_latencies(c: Container) -> dict[str, tuple[list[int], float, int]]:
    return c.meta.checks.latencies(LATENCY_BOUNDS)


def delivery_counts(c: Container) -> dict[str, int]:
    return c.meta.events.delivery_counts()
