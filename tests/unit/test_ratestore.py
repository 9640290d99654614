"""The processes of `registry serve --workers N` share their rate-limit counters without Redis
through a SQLite file (api/ratestore.py)."""
from __future__ import annotations

import threading

from limits import RateLimitItemPerMinute, storage, strategies

from api import ratestore


def test_the_file_counters_hold_one_limit_across_processes(tmp_path):
    uri = f"{ratestore.SCHEME}://{tmp_path / 'limits.sqlite'}"
    # two storages on one file stand for two processes; four threads each hit at once
    limiters = [strategies.SlidingWindowCounterRateLimiter(storage.storage_from_string(uri)) for _ in range(2)]
    item = RateLimitItemPerMinute(30)
    allowed: list[bool] = []
    lock = threading.Lock()

    def hit(limiter: strategies.SlidingWindowCounterRateLimiter) -> None:
        for _ in range(20):
            ok = limiter.hit(item, "ip:10.0.0.1")
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=hit, args=(limiters[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 30 and len(allowed) == 80
    stats = limiters[1].get_window_stats(item, "ip:10.0.0.1")
    assert stats.remaining == 0 and stats.reset_time > 0
    assert limiters[0].hit(item, "ip:10.0.0.2")  # another client has its own window
    assert limiters[0].test(item, "ip:10.0.0.2") and not limiters[1].test(item, "ip:10.0.0.1")
    limiters[0].clear(item, "ip:10.0.0.1")
    assert limiters[1].hit(item, "ip:10.0.0.1")
