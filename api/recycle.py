"""Keeping each process of `registry serve --workers N` small: a process whose private memory
has grown past `REGISTRY_SERVE_RECYCLE_MB` stops taking connections, finishes what it serves,
and ends; the supervisor forks a fresh one (api/supervisor.py), which starts sharing the app's
modules again. What grows is mostly heap that Python and malloc keep after a large push or clone
(100 pushes of 20 commits: +30 MB, of which live Python objects ~10 MB), so it is not given back
any other way. With the embedded queue, a process is only recycled while its queue is idle, and
runs what its last requests queued before it ends (Pipeline.drain). The socket stays open
meanwhile: new connections go to the other processes, or wait in its backlog for the fresh one.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn

from registry.container import Container
from registry.services import operations

log = logging.getLogger(__name__)
CHECK_SECONDS = 2.0
RECYCLED = 3  # the exit status of a process that ended to be replaced, not for a fault


ACCEPTED_GRACE_SECONDS = 0.5


class Server(uvicorn.Server):
    """uvicorn's server, which on its way out first stops accepting and then gives the connections
    it has just accepted a moment to send their request. uvicorn closes a connection that has
    sent no request yet at once, so a client that connected just before a recycle (or a SIGTERM)
    was cut off unanswered; once its request is read, shutdown waits for its answer."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if not self.force_exit:
            for server in self.servers:
                server.close()
            await asyncio.sleep(ACCEPTED_GRACE_SECONDS)
        await super().shutdown(sockets=sockets)


def private_mb() -> float:
    """Memory of this process that no other process maps: written heap and copied-on-write pages."""
    total = 0
    with open("/proc/self/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith(("Private_Dirty:", "Private_Clean:")):
                total += int(line.split()[1])
    return total / 1024


def watch(server: uvicorn.Server, container: Container, limit_mb: int, stop: threading.Event) -> threading.Event:
    """Start the watch; the event returned is set once the process has been told to end for its memory."""
    recycled = threading.Event()

    def loop() -> None:
        embedded = not container.settings.redis_url  # RQ's depths are every node's: not this process's
        while not stop.wait(CHECK_SECONDS):
            try:
                used = private_mb()
            except OSError:
                return  # no /proc/self/smaps_rollup (Linux before 4.14): no recycling
            if used > limit_mb and not (embedded and any(operations.queue_depths(container).values())):
                log.warning("server process: %.0f MB private memory, past %d MB: replaced by a fresh one",
                            used, limit_mb)
                recycled.set()
                server.should_exit = True
                return

    if limit_mb:
        threading.Thread(target=loop, name="recycle", daemon=True).start()
    return recycled
