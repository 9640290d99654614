"""upload-pack over protocol v0/v1: dulwich's handler, with the shallow section (shallow.py) and
the object walk and pack (fetchwalk, fetchpack) of this project.

A refused shallow request gets an ERR pkt-line (git: `remote error`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast

from dulwich.objects import ObjectID
from dulwich.pack import ObjectContainer
from dulwich.protocol import (
    CAPABILITY_DEEPEN_NOT,
    CAPABILITY_DEEPEN_RELATIVE,
    CAPABILITY_DEEPEN_SINCE,
    CAPABILITY_NO_DONE,
    CAPABILITY_OFS_DELTA,
    CAPABILITY_THIN_PACK,
    COMMAND_SHALLOW,
    COMMAND_WANT,
)
from dulwich.refs import Ref
from dulwich.server import UploadPackHandler, _ProtocolGraphWalker

from . import fetchpack
from .fetchwalk import PackReader, newest_first, select
from .shallow import SECTION, CommitGraph, ShallowRefused, parse_request, plan, resolve_ref

DEEPEN_CAPABILITIES = [CAPABILITY_DEEPEN_SINCE, CAPABILITY_DEEPEN_NOT, CAPABILITY_DEEPEN_RELATIVE]


class ShallowGraphWalker(_ProtocolGraphWalker):
    """dulwich's walker, with the shallow section of the request read and answered here."""

    def __init__(self, handler: ShallowUploadPack, store: ObjectContainer) -> None:
        repo = handler.repo
        super().__init__(handler, store, repo.get_peeled, repo.refs.get_symrefs)
        self.shallow_handler = handler
        self._held: bytes | None = None  # the section's first line, read while reading wants
        self.extra_wants: list[ObjectID] = []  # sent though the client didn't name them
        self.ready_sent = False

    def read_proto_line(self, allowed: Iterable[bytes | None] | None) -> tuple[bytes | None, bytes | int | None]:
        # While reading wants (only then is `want` allowed), hand the whole section, whatever
        # its first line, to _handle_shallow_request instead of dulwich's parser.
        if allowed is not None and COMMAND_WANT in allowed:
            line = self.proto.read_pkt_line()
            if line is not None and line.split(b" ", 1)[0].rstrip(b"\n") in SECTION:
                self._held = line
                return COMMAND_SHALLOW, b"-"
            self.proto.unread_pkt_line(line)
        return super().read_proto_line(allowed)

    def unread_proto_line(self, command: bytes, value: bytes | int) -> None:
        if self._held is None:  # the held line stands in for what dulwich would push back
            super().unread_proto_line(command, value)

    def _handle_shallow_request(self, wants: Sequence[ObjectID]) -> None:
        lines: list[bytes] = []
        line, self._held = self._held, None
        while line is not None:
            lines.append(line.rstrip(b"\n"))
            line = self.proto.read_pkt_line()
        graph = CommitGraph(self.store)
        refs = self.shallow_handler.deepen_not_refs()
        req = parse_request(lines, self.handler.has_capability(CAPABILITY_DEEPEN_RELATIVE), graph,
                            lambda name: resolve_ref(refs, name))
        p = plan(graph, req, wants)
        self.shallow.update(p.stop)  # the object walk stops at every boundary the client keeps
        if req.deepens:
            self.unshallow = p.unshallow
            # Kept out of the wants that decide when to say "ready", which they would never satisfy.
            self.extra_wants.extend(p.extra_wants)
            self.update_shallow(p.shallow, p.unshallow)

    def send_ack(self, sha: ObjectID, ack_type: bytes = b"") -> None:
        self.ready_sent = self.ready_sent or ack_type == b"ready"
        super().send_ack(sha, ack_type)


class ShallowUploadPack(UploadPackHandler):
    """upload-pack offering git's shallow options; a refused shallow request gets ERR."""

    def capabilities(self) -> list[bytes]:
        return [*super().capabilities(), *DEEPEN_CAPABILITIES]

    def deepen_not_refs(self) -> Mapping[Ref, ObjectID]:
        """The refs a deepen-not may name (by default all of the repo's, HEAD included)."""
        return self.repo.get_refs()

    def handle(self) -> None:
        try:
            self._serve()
        except ShallowRefused as exc:
            self.proto.write_pkt_line(b"ERR " + str(exc).encode("utf-8", "replace"))

    sent_pack = False  # what usage counts: a request that got a pack (with `done`, or after `ready`)

    def _serve(self) -> None:
        # dulwich's handle() with our walker (no filter: partial clone is not offered), and
        # objects found and written at a cost that follows what is sent (fetchwalk, fetchpack).
        self._processing_have_lines = True
        reader = PackReader(newest_first(self.repo.object_store))
        walker = ShallowGraphWalker(self, cast(ObjectContainer, reader))  # all the walker reads
        wants: list[ObjectID] = []

        def determine_wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
            wants.extend(walker.determine_wants(refs, depth))
            wants.extend(walker.extra_wants if wants else [])
            return wants

        haves = fetchpack.negotiate(self.repo, reader, determine_wants, walker)
        if not wants or haves is None:  # refs advertised, or a stateless round with no pack
            return
        no_done = self.has_capability(CAPABILITY_NO_DONE)
        if self.stateless_rpc and no_done and not (self._done_received or walker.ready_sent):
            # A round of haves that ended in NAK, not "ready": the client sends more. (dulwich
            # sends the pack here, which the client then reads as its next round's answer.)
            return
        if not walker.handle_done(not no_done, self._done_received):
            return
        self._start_pack_send_phase()
        self.sent_pack = True
        selection = select(reader, wants, haves, frozenset(walker.shallow), self.get_tagged(), self.progress)
        fetchpack.write_selection(reader, selection, self.write_pack_data,
                                  thin=self.has_capability(CAPABILITY_THIN_PACK),
                                  ofs=self.has_capability(CAPABILITY_OFS_DELTA))
        self.proto.write_pkt_line(None)
