"""`registry serve` without --workers: one process per core when Redis holds the shared rate
limits, else one (issue 14)."""
from __future__ import annotations

import os

from api.serve import default_workers
from registry.settings import Settings


def test_one_process_per_core_with_redis(tmp_path):
    settings = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0")
    assert default_workers(settings) == len(os.sched_getaffinity(0))


def test_one_process_without_redis(tmp_path):
    assert default_workers(Settings(data_dir=tmp_path)) == 1
