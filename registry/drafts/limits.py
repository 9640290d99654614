"""Bounds on one connection: the largest message, and messages and bytes per second (a token
bucket each, holding `BURST_SECONDS` of the rate, so a paste or a reconnect's catch-up passes and
a flood does not)."""
from __future__ import annotations

import time
from dataclasses import dataclass

BURST_SECONDS = 10.0


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 256 * 1024
    messages_per_second: float = 60.0
    bytes_per_second: float = 256 * 1024
    max_text_bytes: int = 1024 * 1024  # a file's text in a draft (UTF-8)


class Bucket:
    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else rate * BURST_SECONDS
        self.tokens = self.capacity
        self.at = time.monotonic()

    def take(self, amount: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < amount:
            return False
        self.tokens -= amount
        return True


class Allowance:
    """One connection's two buckets."""

    def __init__(self, limits: Limits) -> None:
        self.messages = Bucket(limits.messages_per_second)
        self.bytes = Bucket(limits.bytes_per_second, max(limits.bytes_per_second * BURST_SECONDS,
                                                        limits.max_message_bytes))

    def take(self, size: int) -> bool:
        return self.messages.take() and self.bytes.take(size)
