"""`registry serve`: the API, git smart HTTP and pages in one process, or in N processes on one
port (`--workers N`, uvicorn's supervisor). Each process has its own Container and pipeline
(embedded queue or RQ dispatcher, reconciler); what they share is safe across processes: the
metadata database (SQLite WAL with immediate transactions, or PostgreSQL), blobs, the pack cache
(immutable files written by rename), whoosh's writer lock, and webhook deliveries (claimed).
"""
from __future__ import annotations

import os
import sys
import time

import uvicorn
from fastapi import FastAPI

from registry.container import Container
from registry.services import gallery
from registry.settings import get_settings
from workers.pipeline import Pipeline, build

from .app import create_app

ADDRESS = "REGISTRY_SERVE_ADDRESS"  # host:port, handed from the supervisor to its processes


def prepare(container: Container, host: str, port: int, first: bool) -> tuple[FastAPI, Pipeline]:
    """The app and its running pipeline. `first`: the only process, or the supervisor's one-time
    start (a new search schema rebuilt; with the embedded queue, everything pending is owed now)."""
    settings = container.settings
    pipeline = build(container)
    if first:
        _ensure_index(container)
    # One process: nothing else runs checks, so whatever is pending is owed now. With Redis, or
    # beside other processes, only what has waited past the requeue delay.
    pipeline.reconcile(full=True, older_than=time.time() + 1 if first and not settings.redis_url else None)
    pipeline.start()
    return create_app(container, settings.public_base_url(host, port)), pipeline


def _ensure_index(container: Container) -> None:
    if (count := gallery.ensure_index(container)) is not None:
        print(f"search index rebuilt for a new schema: {count} templates", flush=True)


def factory() -> FastAPI:
    """One of the N processes of `--workers N` (uvicorn imports and calls this)."""
    host, _, port = os.environ[ADDRESS].rpartition(":")
    app, _ = prepare(Container.build(get_settings()), host, int(port), first=False)
    return app


def run(container: Container, host: str, port: int, workers: int) -> None:
    settings = container.settings
    queue = f"redis ({settings.redis_url})" if settings.redis_url else "embedded"
    banner = (f"registry listening on {settings.public_base_url(host, port)} (storage: {settings.storage}, "
              f"queue: {queue}, data: {settings.data_dir}, processes: {workers})")
    if workers == 1:
        app, pipeline = prepare(container, host, port, first=True)
        print(banner, flush=True)
        print("create a user and a token: registry user add NAME && registry token create NAME", flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        pipeline.stop()  # stopped (SIGTERM): the reads counted since the last pass are kept
        return
    _ensure_index(container)  # once, before the processes start
    os.environ[ADDRESS] = f"{host}:{port}"
    os.environ["REGISTRY_SERVE_PROCESSES"] = str(workers)  # shared rate-limit counters (api/ratestore.py)
    print(banner, flush=True)
    # The supervisor serves nothing: it becomes a bare uvicorn (this process, its modules and
    # container dropped), so N processes cost N apps in memory, not N + 1.
    os.execv(sys.executable, [sys.executable, "-m", "uvicorn", "api.serve:factory", "--factory", "--host", host,
                              "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                              "--no-access-log"])
