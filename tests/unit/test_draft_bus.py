"""What carries drafts' notes between the processes of one node without Redis (UnixBus: a
datagram to each other process of the data directory) and the note's own encoding."""
from __future__ import annotations

import threading

import pytest

from registry.drafts.bus import Note
from workers.draftbus import UnixBus


def _collect(bus: UnixBus) -> tuple[list[Note], threading.Event]:
    heard: list[Note] = []
    arrived = threading.Event()

    def listener(note: Note) -> None:
        heard.append(note)
        arrived.set()

    bus.subscribe(listener)
    return heard, arrived


def test_the_processes_of_a_data_dir_hear_each_other_and_not_themselves(tmp_path):
    one, two, elsewhere = UnixBus(tmp_path), UnixBus(tmp_path), UnixBus(tmp_path / "other")
    heard_one, _ = _collect(one)
    heard_two, arrived = _collect(two)
    heard_elsewhere, _ = _collect(elsewhere)
    try:
        one.publish(Note(7, "a.md", "update", 3, b"\x01\x02"))
        assert arrived.wait(5)
        assert heard_two == [Note(7, "a.md", "update", 3, b"\x01\x02", one.origin)]
        assert heard_one == [] and heard_elsewhere == []  # not itself, not another data directory
        arrived.clear()
        one.publish(Note(7, "a.md", "update", 4, b"x" * 100_000))  # too large for a datagram
        assert arrived.wait(5)
        assert heard_two[-1] == Note(7, "a.md", "stored", 4, b"", one.origin)  # read from the database instead
        one.announce(Note(7, "", "notice", 0, b"{}"))  # the server's own: this process too
        assert heard_one[-1].kind == "notice"
    finally:
        for bus in (one, two, elsewhere):
            bus.close()


def test_a_process_that_is_gone_is_forgotten(tmp_path):
    one = UnixBus(tmp_path)
    _collect(one)
    gone = tmp_path / "run" / "drafts" / "killed000000"  # a process killed left its marker behind
    gone.touch()
    one.publish(Note(1, "a.md", "stored", 1))
    assert not gone.exists() and (tmp_path / "run" / "drafts" / one.origin).exists()
    one.close()
    assert not (tmp_path / "run" / "drafts" / one.origin).exists()


def test_a_note_round_trips_and_a_strange_one_is_refused():
    note = Note(3, "prompts/a b.md", "awareness", 0, b"\n\x00data", "abc")
    assert Note.from_bytes(note.to_bytes()) == note
    with pytest.raises(ValueError):
        Note.from_bytes(b'{"d":1,"p":"","k":"exec","s":0,"o":""}\n')
