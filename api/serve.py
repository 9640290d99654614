"""`registry serve`: the API, git smart HTTP and pages in one process, or in N processes on one
port (`--workers N`, forked by api.supervisor). Each process bootstraps its own Container and
pipeline (embedded queue or RQ dispatcher, reconciler) from the settings the supervisor read;
what they share is safe across processes: the
metadata database (SQLite WAL with immediate transactions, or PostgreSQL), blobs, the pack cache
(immutable files written by rename), whoosh's writer lock, and webhook deliveries (claimed).
"""
from __future__ import annotations

import fcntl
import functools
import gc
import os
import signal
import socket
import threading
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from registry.container import Container
from registry.services import gallery, maintenance
from registry.settings import Settings
from workers.bootstrap import System, bootstrap

from . import recycle
from .app import create_app
from .flushboard import FlushBoard
from .startup import Deferred
from .supervisor import bind, supervise
from .web import session


def prepare(system: System, host: str, port: int, first: bool, migrate: bool) -> tuple[FastAPI, Deferred]:
    """The app, with the system's pipeline running. `first`: the only process, or the one of N
    that claimed the start (with the embedded queue, everything pending is owed now: no one else
    runs it). `migrate`: the schema is this process's to migrate (alone, or its supervisor could
    not: the database was down). Neither a database that is down nor one out of reach stops the
    process: it answers 503 until the schema is migrated (api/startup.py), and the pipeline's
    first reconcile is retried until it passes."""
    container = system.container

    startup = Deferred(functools.partial(_migrate, container) if migrate else lambda: None)
    startup.run()
    # The first process: whatever checks are pending are owed now (a restart loses the embedded
    # queue). With Redis, or the other processes, only what has waited past the requeue delay.
    system.queue.start(all_owed=first and not container.settings.redis_url)
    app = create_app(container, container.settings.public_base_url(host, port), system.processes, system.bus,
                     startup)
    warm_routes(app)
    settle_heap()
    return app, startup


def settle_heap() -> None:
    """Move what the process has built to start (its container, the app, its routes' schemas:
    the supervisor froze the modules before it forked, api/supervisor.py) out of the garbage
    collector's sight (gc.freeze). Else every full collection walks them all: a push allocates
    enough to trigger one now and then, a pause of 0.1 s and more that made some pushes slow and
    not others (issue 29)."""
    gc.collect()
    gc.freeze()


def warm_routes(app: FastAPI) -> int:
    """Build now what FastAPI builds on the first request that passes each included router: its
    routes' parameter models (pydantic schemas). Left lazy, a process's first push paid for every
    router before git's, ~0.2 s of CPU (over 1 s on a loaded machine), again in each process of
    `--workers N` and after every recycle (issue 29). Routers are found by the method FastAPI
    builds them with; where a version has none, nothing is done. Returns how many were built."""
    built, stack = 0, list(app.router.routes)
    while stack:
        route = stack.pop()
        for method in ("effective_candidates", "effective_low_priority_routes"):
            build = getattr(route, method, None)
            if callable(build):
                stack += [r for r in build() if hasattr(r, "effective_candidates")]
                built += 1
    return built


def ws_max_size(settings: Settings) -> int:
    """uvicorn's bound on a WebSocket message: twice a draft's, so the room refuses those between
    with a reason of its own, and uvicorn closes (1009) on anything larger before reading it."""
    return 2 * settings.draft_max_message_bytes


def _migrate(container: Container) -> None:
    """The schema to its newest revision, and a search index a schema change made anew rebuilt."""
    maintenance.migrate(container)
    _ensure_index(container)


def _ensure_index(container: Container) -> None:
    if (count := gallery.ensure_index(container)) is not None:
        print(f"search index rebuilt for a new schema: {count} templates", flush=True)


def _serve_process(settings: Settings, host: str, port: int, board: FlushBoard, migrate: bool,
                   sock: socket.socket, slot: int, replacement: bool) -> int:
    """Process `slot` of the N of `--workers N`, forked by the supervisor: its own container
    (database connections, search index writer) and pipeline, serving on the shared socket.
    `migrate`: the supervisor could not (the database was down), so each process does, once it
    can (PostgreSQL's advisory lock has one migrate). Returns recycle.RECYCLED when it ended to be
    replaced by a smaller one."""
    # one of several: rate-limit counters in a shared file
    system = bootstrap(settings, "serve", processes=board.processes, peers=board.peers(slot), migrate=False)
    container, pipeline = system.container, system.queue
    # A replacement is never first: the others are running, with their own queues.
    first = not replacement and _claim_start(settings.data_dir)
    app, startup = prepare(system, host, port, first=first, migrate=migrate)
    stop = threading.Event()
    board.join(slot, lambda: container.usage.flush(container.meta), stop)
    server = recycle.Server(uvicorn.Config(app, log_level="warning", access_log=False, log_config=None,
                                           ws_max_size=ws_max_size(settings)))
    recycled = recycle.watch(server, container, settings.serve_recycle_mb, stop)
    # uvicorn puts back the handlers it found and raises the signal again once it has stopped:
    # ignored, so the pipeline's stop below still runs
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    try:
        server.run(sockets=[sock])
        if recycled.is_set():
            pipeline.drain()
    finally:
        stop.set()
        startup.stop()
        pipeline.stop()  # stopped (SIGTERM): the reads counted since the last pass are kept
        if system.bus is not None:
            system.bus.close()  # the other processes stop sending it drafts' notes
    return recycle.RECYCLED if recycled.is_set() else 0


_held: list[int] = []  # the start lock's descriptor, open for the process's life


def _claim_start(data_dir: Path) -> bool:
    """Whether this is the first of the N processes to start: the one holding the data dir's start
    lock (released when it exits; of a restarted server, again only one holds it)."""
    data_dir.mkdir(parents=True, exist_ok=True)  # with PostgreSQL and a blob dir, nothing else may make it
    fd = os.open(data_dir / "serve.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _held.append(fd)
    return True


def run(settings: Settings, host: str, port: int, workers: int) -> int:
    queue = f"redis ({settings.redis_url})" if settings.redis_url else "embedded"
    banner = (f"registry listening on {settings.public_base_url(host, port)} (storage: {settings.storage}, "
              f"queue: {queue}, data: {settings.data_dir}, processes: {workers})")
    hint = "create a user and a token: registry user add NAME && registry token create NAME"
    if workers == 1:
        system = bootstrap(settings, "serve", migrate=False)  # migrated by prepare, or once the database is back
        app, startup = prepare(system, host, port, first=True, migrate=True)
        print(banner, hint, sep="\n", flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, log_config=None,
                    ws_max_size=ws_max_size(settings))
        startup.stop()
        system.queue.stop()  # stopped (SIGTERM): the reads counted since the last pass are kept
        if system.bus is not None:
            system.bus.close()
        return 0
    # The supervisor serves nothing: a container to migrate the schema and ensure the index, once,
    # before any process serves; the processes get the settings read here, not the environment.
    # A database that is down leaves that to the processes, which answer 503 until it is back.
    container = bootstrap(settings, "cli", migrate=False).container
    migrated = Deferred(functools.partial(_migrate, container))
    if not migrated.attempt():  # in this thread: the supervisor forks, so it runs none of its own
        print(f"{migrated.refusal.message}: each server process migrates the schema once it can, "
              "answering 503 until then", flush=True)
    session.secret_key(settings)  # made here when there is none, so all N read the same one
    sock = bind(host, port)
    container.close()  # no connection of the supervisor's is carried into the processes
    print(banner, hint, sep="\n", flush=True)
    board = FlushBoard(workers)
    child = functools.partial(_serve_process, settings, host, port, board, not migrated.ready.is_set())
    return supervise(sock, workers, child, ended=board.leave)
