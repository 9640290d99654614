"""The page the processes of `serve --workers N` share to have one another's usage counts added
before an analytics read (api/flushboard.py)."""
from __future__ import annotations

import threading
import time

from api import flushboard
from api.flushboard import FlushBoard


def test_a_request_is_answered_by_every_other_process_within_a_few_polls():
    board = FlushBoard(3)
    stop = threading.Event()
    flushed: list[float] = []
    others = [board.join(slot, lambda: flushed.append(time.monotonic()), stop) for slot in (1, 2)]
    mine = board.join(0, lambda: None, stop)
    try:
        time.sleep(0.1)
        flushed.clear()
        start = time.monotonic()
        mine.flush_others()
        took = time.monotonic() - start
        assert len([t for t in flushed if t >= start]) >= 2  # both others flushed after the request
        assert took < flushboard.PERIOD / 2, took  # not the periodic flush
        assert others[0].slot == 1
    finally:
        stop.set()


def test_a_slot_without_a_process_is_not_waited_for_and_a_stuck_one_only_until_the_bound(monkeypatch):
    board = FlushBoard(2)
    stop = threading.Event()
    mine = board.join(0, lambda: None, stop)
    start = time.monotonic()
    mine.flush_others()  # slot 1: no process
    assert time.monotonic() - start < 0.1
    monkeypatch.setattr(flushboard, "WAIT", 0.3)
    gate = threading.Event()
    board.join(1, gate.wait, stop)  # its flush never returns
    time.sleep(0.05)
    start = time.monotonic()
    mine.flush_others()
    assert 0.3 <= time.monotonic() - start < 1.0
    gate.set()
    stop.set()


def test_every_process_flushes_periodically_unasked():
    board = FlushBoard(1)
    stop = threading.Event()
    calls: list[float] = []
    board.join(0, lambda: calls.append(time.monotonic()), stop)
    time.sleep(flushboard.PERIOD * 2.5)
    stop.set()
    assert 2 <= len(calls) <= 3, calls
