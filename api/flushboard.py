"""How the N processes of `registry serve --workers N` ask one another to add their usage counts
now: a page of memory the supervisor maps before it forks, shared by all of them.

Each process counts reads in memory (registry.usage) and adds them to the database in batches.
An analytics read must see every read made before it, whichever process served them, so it
writes "flush what you counted before T" (T on the machine-wide monotonic clock) and waits for
every other process to report a flush begun after T. Each process looks at the page every
POLL seconds, and flushes at least every PERIOD seconds in any case. The words are 8 bytes,
aligned, each written by one process only (the request word by any: a lost race leaves a
slightly older T, which the periodic flush still answers within the wait).
"""
from __future__ import annotations

import logging
import mmap
import struct
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
POLL = 0.02
PERIOD = 0.5  # how often a process adds its counts unasked
WAIT = 2.0  # an analytics read waits at most this long for the others (one may be stuck or gone)
ABSENT = 2**63 - 1  # a slot with no process: nothing to wait for
_WORD = struct.Struct("q")


def _now() -> int:
    return time.monotonic_ns()


class FlushBoard:
    """Word 0: the newest request; word 1 + i: when process i last began a flush."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._page = mmap.mmap(-1, _WORD.size * (processes + 1))  # anonymous, shared with the children
        for slot in range(processes):
            self.leave(slot)

    def _get(self, word: int) -> int:
        return int(_WORD.unpack_from(self._page, word * _WORD.size)[0])

    def _set(self, word: int, value: int) -> None:
        _WORD.pack_into(self._page, word * _WORD.size, value)

    def leave(self, slot: int) -> None:
        """The process in `slot` ended (the supervisor says so): no one waits for it."""
        self._set(1 + slot, ABSENT)

    def peers(self, slot: int) -> Peers:
        """What the analytics reads of process `slot` call to have the others' counts added (given
        to its container when it is built, before it joins)."""
        return Peers(self, slot)

    def join(self, slot: int, flush: Callable[[], object], stop: threading.Event) -> Peers:
        """In process `slot`: answer requests (a thread calling `flush`, until `stop`); returns
        its peers."""
        self._set(1 + slot, _now())  # counted nothing yet
        threading.Thread(target=self._serve, args=(slot, flush, stop), name="usage-flush", daemon=True).start()
        return self.peers(slot)

    def _serve(self, slot: int, flush: Callable[[], object], stop: threading.Event) -> None:
        last = self._get(1 + slot)
        while not stop.wait(POLL):
            if self._get(0) <= last and _now() - last < PERIOD * 1e9:
                continue
            began = _now()
            try:
                flush()
            except Exception as exc:  # the database is away: usage.flush keeps the counts for the next pass
                log.warning("could not add usage counts: %s", exc)
                continue
            last = began
            self._set(1 + slot, began)


class Peers:
    """The other processes of one server, as seen by one of them (registry.usage.Peers)."""

    def __init__(self, board: FlushBoard, slot: int) -> None:
        self.board, self.slot = board, slot

    def flush_others(self) -> None:
        asked = _now()
        self.board._set(0, max(asked, self.board._get(0)))
        others = [1 + s for s in range(self.board.processes) if s != self.slot]
        deadline = time.monotonic() + WAIT
        while any(self.board._get(w) < asked for w in others) and time.monotonic() < deadline:
            time.sleep(POLL / 2)
