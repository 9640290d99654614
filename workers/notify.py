"""Events committed, announced to every node: with REGISTRY_REDIS_URL each process publishes the
newest event's id on one Redis channel after the transaction that recorded it, and each API
node's live feed (api/graphql/live.py) wakes on it to read the events record at once. A lost
message costs only latency: the feeds also read the record every few seconds, and the record,
not the message, is what they deliver."""
from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
CHANNEL = "registry:events"


class RedisBell:
    def __init__(self, url: str) -> None:
        self.redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def __call__(self, newest_id: int) -> None:
        try:
            self.redis.publish(CHANNEL, str(newest_id))
        except RedisError as exc:  # the feeds find the event on their next read of the record
            log.warning("could not announce event %s: %s", newest_id, exc)
