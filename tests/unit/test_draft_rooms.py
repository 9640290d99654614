"""A draft file's room with Python Yjs editors (pycrdt) on a real SQLite store, no sockets: what
an editor types is stored before anyone else sees it and then acknowledged; readers watch;
hostile messages close the connection with a reason and leave the document as it was; two
processes' rooms converge through a bus, and through the database when the bus loses notes;
compaction keeps the stored size near the text's."""
from __future__ import annotations

import asyncio
import json
import random

import pytest

from registry.drafts import protocol, ydoc
from registry.drafts.bus import Note
from registry.drafts.limits import Allowance, Limits
from registry.drafts.presence import encode
from registry.drafts.room import Refused
from registry.drafts.rooms import Rooms
from registry.meta import Template
from registry.meta.db import open_store
from registry.settings import Settings
from tests.asyncrun import run
from tests.yclient import Editor

SHA = "a" * 40


class FakePeer:
    def __init__(self, user: str, user_id: int | None, can_write: bool = True, limits: Limits = Limits()) -> None:
        self.user, self.user_id, self.can_write = user, user_id, can_write
        self.allowance = Allowance(limits)
        self.editor = Editor()
        self.inbox: list[bytes] = []
        self.closed: tuple[int, str] | None = None

    def send(self, data: bytes) -> None:
        self.inbox.append(data)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class MemoryBus:
    """Every Rooms on it is a process of its own (origin "": each makes its own)."""

    origin = ""

    def __init__(self) -> None:
        self.listeners: list = []
        self.drop = False
        self.sent: list[Note] = []

    def publish(self, note: Note) -> None:
        self.sent.append(note)
        if not self.drop:
            for listener in self.listeners:
                listener(note)

    def subscribe(self, listener) -> None:
        self.listeners.append(listener)


@pytest.fixture
def meta(tmp_path):
    store = open_store(Settings(data_dir=tmp_path))
    store.templates.add(Template("t1", "alice", "t", "public", "", None, 1.0, 1.0))
    for name in ("alice", "bob", "carol"):
        store.users.add(name, None, False)
    return store



def _draft(meta, text: str = "hello\n") -> int:
    draft = meta.drafts.add("t1", "main", SHA, "alice")
    meta.drafts.add_file(draft.id, "a.md", ydoc.seed(text))
    return draft.id


async def _pump(room, *peers: FakePeer) -> None:
    """Deliver what the room sent each peer, and the peers' replies, until all is quiet."""
    for _ in range(50):
        moved = False
        for peer in peers:
            inbox, peer.inbox = peer.inbox, []
            for data in inbox:
                moved = True
                for reply in peer.editor.handle(data):
                    await room.receive(peer, reply)
        await asyncio.sleep(0.01)
        if not moved and room.idle and not any(peer.inbox for peer in peers):
            return


async def _join(rooms: Rooms, draft_id: int, peer: FakePeer):
    room = await rooms.join(draft_id, "a.md", peer)
    for message in peer.editor.hello():
        await room.receive(peer, message)
    await _pump(room, peer)
    return room


async def _type(room, peer: FakePeer, at: int, text: str) -> None:
    for message in peer.editor.type(at, text):
        await room.receive(peer, message)


def test_typing_is_stored_before_it_is_passed_on_and_acknowledged(meta):
    draft_id = _draft(meta)

    async def scenario() -> None:
        rooms = Rooms(meta.drafts, MemoryBus())
        alice, bob = FakePeer("alice", 1), FakePeer("bob", 2)
        room = await _join(rooms, draft_id, alice)
        await _join(rooms, draft_id, bob)
        assert str(alice.editor.text) == str(bob.editor.text) == "hello\n"  # the seed, once
        await _type(room, alice, 5, ", world")
        assert meta.drafts.load(draft_id, "a.md").updates == []  # not yet stored: not yet passed on
        assert str(bob.editor.text) == "hello\n"
        await _pump(room, alice, bob)
        stored = meta.drafts.load(draft_id, "a.md")
        assert [seq for seq, _ in stored.updates] == [1]
        assert ydoc.load(stored)[1].__str__() == "hello, world\n"
        assert str(bob.editor.text) == "hello, world\n" and alice.editor.all_saved
        assert not bob.editor.saved  # the acknowledgment goes to the one who typed
        await _type(room, bob, 0, "¡")
        await _pump(room, alice, bob)
        assert str(alice.editor.text) == "¡hello, world\n" and bob.editor.all_saved
        assert meta.drafts.editors(draft_id) == ["alice", "bob"]
        await rooms.stop()

    run(scenario())


def test_readers_watch_and_hostile_messages_close_with_a_reason_leaving_the_text_as_it_was(meta):
    draft_id = _draft(meta)
    limits = Limits(max_message_bytes=4096, messages_per_second=5, bytes_per_second=100_000, max_text_bytes=200)

    async def scenario() -> None:
        rooms = Rooms(meta.drafts, MemoryBus(), limits)
        reader = FakePeer("carol", 3, can_write=False, limits=limits)
        room = await _join(rooms, draft_id, reader)
        assert str(reader.editor.text) == "hello\n"  # readers see the text
        refusals = {}
        cases = {
            "reader edits": (reader, reader.editor.type(0, "x")[0]),
            "garbage": (FakePeer("bob", 2, limits=limits), b"\x00\x02\x05\xff\xff\xff\xff\xff"),
            "unknown type": (FakePeer("bob", 2, limits=limits), b"\x07\x00"),
            "trailing bytes": (FakePeer("bob", 2, limits=limits), protocol.sync_step1(b"\x00") + b"x"),
            "text message too large": (FakePeer("bob", 2, limits=limits), protocol.update(b"\x00" * 5000)),
            "not a Yjs update": (FakePeer("bob", 2, limits=limits), protocol.update(b"\x01\x01\x05\x00")),
            "file grows too large": (FakePeer("bob", 2, limits=limits), Editor().type(0, "y" * 300)[0]),
        }
        for label, (peer, message) in cases.items():
            try:
                await room.receive(peer, message)
            except Refused as exc:
                refusals[label] = exc.code
        assert refusals == {"reader edits": 4403, "garbage": 4400, "unknown type": 4400, "trailing bytes": 4400,
                            "text message too large": 4413, "not a Yjs update": 4400,
                            "file grows too large": 4413}
        # an update built on history the server never saw is held back by Yjs, parked, then refused
        ahead = Editor()
        ahead.type(0, "first")
        late = FakePeer("bob", 2, limits=limits)
        await room.receive(late, ahead.type(5, " second")[0])
        assert str(room.text) == "hello\n" and late.closed is None
        room._parked = [(p, u, 0.0) for p, u, _ in room._parked]  # its wait is over
        room.sweep()
        assert late.closed is not None and late.closed[0] == 4500
        flooder = FakePeer("bob", 2, limits=limits)
        with pytest.raises(Refused) as exc:
            for _ in range(200):
                await room.receive(flooder, protocol.sync_step1(b"\x00"))
        assert exc.value.code == 4429
        await _pump(room, reader)
        assert str(room.text) == "hello\n" and meta.drafts.load(draft_id, "a.md").updates == []
        await rooms.stop()

    run(scenario())


def test_presence_is_named_by_the_server_and_a_client_id_cannot_be_taken_by_someone_else(meta):
    draft_id = _draft(meta)

    async def scenario() -> None:
        rooms = Rooms(meta.drafts, MemoryBus())
        alice, carol = FakePeer("alice", 1), FakePeer("carol", 3, can_write=False)
        room = await _join(rooms, draft_id, alice)
        await _join(rooms, draft_id, carol)
        await room.receive(alice, alice.editor.presence({"user": {"name": "the admin", "color": "red;"}}))
        await room.receive(carol, carol.editor.presence({"user": {"name": "alice"}, "cursor": None}))
        await _pump(room, alice, carol)
        states = {s["user"]["name"]: s["user"] for s in alice.editor.states.values() if s}
        assert set(states) == {"alice", "carol"}  # nobody is "the admin"; carol is not alice
        assert states["carol"]["role"] == "reader" and states["alice"]["role"] == "editor"
        assert states["alice"]["color"].startswith("#")  # not the CSS the client sent
        assert [p["name"] for p in room.presence.people()] == ["alice", "carol"]
        # y-websocket's clients pass on every state they hear: carol's copy of alice's (even with a
        # later clock and another name) is ignored, never passed on, and carol is not closed
        stolen = protocol.awareness(encode([(alice.editor.client_id, 99, {"user": {"name": "x"}})]))
        await room.receive(carol, stolen)
        await _pump(room, alice, carol)
        assert carol.closed is None and "x" not in alice.editor.people() | carol.editor.people()
        rooms.leave(room, carol)
        await _pump(room, alice)
        assert alice.editor.people() == {"alice"}  # carol left
        # alice reconnects with the same client id: seen again at once, though her clock is old
        back = FakePeer("alice", 1)
        back.editor = alice.editor
        rooms.leave(room, alice)
        await _join(rooms, draft_id, back)
        watcher = FakePeer("bob", 2)
        await _join(rooms, draft_id, watcher)
        await room.receive(back, back.editor.presence({"user": {}}))
        await _pump(room, back, watcher)
        assert watcher.editor.people() == {"alice"}
        await rooms.stop()

    run(scenario())


def test_two_processes_converge_through_the_bus_and_through_the_database_when_notes_are_lost(meta):
    draft_id = _draft(meta, "")
    bus = MemoryBus()

    async def scenario() -> None:
        one, two = Rooms(meta.drafts, bus, poll_seconds=0.05), Rooms(meta.drafts, bus, poll_seconds=0.05)
        alice, bob = FakePeer("alice", 1), FakePeer("bob", 2)
        room_a = await _join(one, draft_id, alice)
        room_b = await _join(two, draft_id, bob)
        await _type(room_a, alice, 0, "from one. ")
        await _pump(room_a, alice)
        await _pump(room_b, bob)
        assert str(bob.editor.text) == "from one. "  # passed on by the bus
        bus.drop = True  # notes lost from here on
        await _type(room_b, bob, 10, "from two.")
        await _type(room_a, alice, 0, ">> ")
        for _ in range(40):
            await _pump(room_a, alice)
            await _pump(room_b, bob)
            if str(alice.editor.text) == str(bob.editor.text) and "two" in str(alice.editor.text) \
                    and ">>" in str(bob.editor.text):
                break
        assert str(alice.editor.text) == str(bob.editor.text) == ">> from one. from two."
        await one.stop()
        await two.stop()
        stored = meta.drafts.load(draft_id, "a.md")
        assert str(ydoc.load(stored)[1]) == ">> from one. from two."  # nothing doubled, nothing lost

    run(scenario())


def test_compaction_keeps_the_stored_draft_within_a_small_multiple_of_its_text(meta):
    """Typing words a key at a time, with corrections and insertions here and there (the history
    a CRDT keeps, deleted text garbage-collected); the pathological case is in make bench."""
    draft_id = _draft(meta, "")
    rng = random.Random(7)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "prompts", "render", "slowly"]

    async def scenario() -> None:
        rooms = Rooms(meta.drafts, MemoryBus())
        alice = FakePeer("alice", 1, limits=Limits(messages_per_second=100_000, bytes_per_second=10**8))
        room = await _join(rooms, draft_id, alice)
        for i in range(400):
            text, roll = str(alice.editor.text), rng.random()
            if roll < 0.1 and len(text) > 10:
                messages = alice.editor.delete(len(text) - 4, 4)
            elif roll < 0.2 and len(text) > 50:
                messages = alice.editor.type(rng.randrange(len(text)), rng.choice(words) + " ")
            else:
                messages = [m for ch in rng.choice(words) + " " for m in alice.editor.type(len(str(alice.editor.text)), ch)]
            for message in messages:
                await room.receive(alice, message)
            if i % 20 == 0:
                await _pump(room, alice)
        await _pump(room, alice)
        await rooms.stop()
        text = str(alice.editor.text)
        before = meta.drafts.stored_size(draft_id)
        meta.drafts.compact(draft_id, "a.md", ydoc.compacted)
        size = meta.drafts.stored_size(draft_id)
        assert len(text) > 1500 and str(ydoc.load(meta.drafts.load(draft_id, "a.md"))[1]) == text
        assert size < 3 * len(text.encode()) + 1024, (size, len(text))
        assert before < 10 * len(text.encode()), before  # the room compacted along the way too

    run(scenario())


def test_a_room_hears_what_the_server_stored_and_notices_about_the_draft(meta):
    draft_id = _draft(meta, "abc")

    async def scenario() -> None:
        rooms = Rooms(meta.drafts, MemoryBus())
        alice = FakePeer("alice", 1)
        room = await _join(rooms, draft_id, alice)
        doc, text = ydoc.load(meta.drafts.load(draft_id, "a.md"))
        update = ydoc.replace_text(doc, text, "abc, merged")
        assert update is not None
        seq = meta.drafts.append(draft_id, "a.md", [update], None)[0]
        rooms.deliver(Note(draft_id, "a.md", "stored", seq))
        await asyncio.sleep(0.1)
        await _pump(room, alice)
        assert str(alice.editor.text) == "abc, merged" and room.last_seq == seq
        rooms.deliver(Note(draft_id, "", "notice", 0, json.dumps({"state": "deleted"}).encode()))
        await _pump(room, alice)
        assert alice.editor.notices == [{"state": "deleted"}] and alice.closed is not None
        assert alice.closed[0] == 4404
        await rooms.stop()

    run(scenario())
