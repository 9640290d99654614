"""The N processes of `registry serve --workers N`: forked from one that has imported the app, so
the modules they all run (FastAPI, SQLAlchemy, dulwich, the app's own: about 100 MB of an
interpreter) sit in memory once, shared copy-on-write, instead of once per process as with
uvicorn's own supervisor, which starts each process afresh (spawn).

The supervisor binds the port, forks the processes, serves nothing, and holds no thread,
connection or open database when it forks. A process that ends is started again: at once when
it ended because its memory grew (api/recycle.py); after a fault too, unless processes keep
ending (a broken configuration), which stops the server. SIGTERM or SIGINT
stops every process gracefully (each finishes its requests and stops its pipeline) and then the
supervisor.
"""
from __future__ import annotations

import ctypes
import gc
import os
import signal
import socket
import sys
import time
from collections.abc import Callable

from registry.errors import InvalidInput

from .recycle import RECYCLED

# Serves on the socket as process `slot` (0..N-1), started anew if `replacement`, until told to
# stop; returns its exit status, RECYCLED when it ended to be replaced (not a fault).
Child = Callable[[socket.socket, int, bool], int]
RESTARTS = 5  # more unexpected ends than this within WINDOW seconds: the server stops
WINDOW = 30.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
STOPS = {signal.SIGTERM, signal.SIGINT}


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise InvalidInput(f"cannot listen on {host}:{port}: {os.strerror(exc.errno) if exc.errno else exc}") from exc


def supervise(sock: socket.socket, processes: int, child: Child, ended: Callable[[int], None]) -> int:
    """Run `processes` forks of `child` until told to stop, telling `ended` of each slot whose
    process ended; the exit status for the command."""
    running: dict[int, int] = {}  # pid -> slot
    ends: list[float] = []
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(running):
            _signal(pid, signal.SIGTERM)

    gc.collect()
    gc.freeze()  # the imported objects are never scanned again, so their pages stay shared
    for sig in STOPS:
        signal.signal(sig, stop)
    for slot in range(processes):
        if not stopping:
            running[_fork(sock, child, slot, False)] = slot
    status = 0
    while running:
        pid, code = os.wait()
        if pid not in running:
            continue
        slot = running.pop(pid)
        ended(slot)
        if stopping:
            continue
        if os.WIFEXITED(code) and os.WEXITSTATUS(code) == RECYCLED:
            running[_fork(sock, child, slot, True)] = slot
            continue
        now = time.monotonic()
        ends = [t for t in ends if now - t < WINDOW] + [now]
        print(f"server process {pid} ended ({_describe(code)})", file=sys.stderr, flush=True)
        if len(ends) > RESTARTS:
            print(f"{len(ends)} server processes ended within {WINDOW:.0f} s: stopping", file=sys.stderr, flush=True)
            status = 1
            stop(signal.SIGTERM, None)
            continue
        running[_fork(sock, child, slot, True)] = slot
    return status


def _fork(sock: socket.socket, child: Child, slot: int, replacement: bool) -> int:
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)  # a stop during the fork reaches the parent after it
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
        return pid
    code = 0
    try:
        _end_with_parent()
        for sig in STOPS:  # told to stop before it serves: it just ends (the child sets its own)
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
        code = child(sock, slot, replacement)
    except BaseException as exc:  # the supervisor reports the end; a traceback helps the operator
        import traceback

        traceback.print_exception(exc)
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _end_with_parent() -> None:
    """SIGTERM this process when the supervisor ends, even by SIGKILL (Linux's PR_SET_PDEATHSIG):
    no orphan keeps serving the port."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # it ended before that took effect
        os._exit(0)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass  # it ended meanwhile: os.wait collects it


def _describe(code: int) -> str:
    if os.WIFSIGNALED(code):
        return f"signal {os.WTERMSIG(code)}"
    return f"exit {os.waitstatus_to_exitcode(code)}"
