"""The `fetch` command of protocol v2 (gitprotocol-v2(5)), as C git's upload-pack answers it.

One stateless request holds the whole state: the wants, every have the client still counts
on, and `done` once it stops negotiating. The answer is an acknowledgments section while
negotiating (the common haves, and `ready` once every want reaches one of them, when the pack
follows at once), a shallow-info section for a shallow request, and the pack in side-band 1.
Wants, haves, shallow boundaries and the pack are those of protocol v0 (wants.py, shallow.py,
fetchwalk, fetchpack, and clone.py's fast path for a plain clone).
"""
from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import cast

from dulwich.objects import ObjectID
from dulwich.pack import ObjectContainer
from dulwich.protocol import SIDE_BAND_CHANNEL_DATA, SIDE_BAND_CHANNEL_PROGRESS, Protocol

from . import fetchpack, refsdoc, shallow, wants
from .clone import CloneRequest, eligible, write_sideband_pack
from .fetchwalk import PackReader, newest_first, select
from .pktline import show
from .repo import TemplateRepo

DELIM = b"0001"
_OID = re.compile(rb"[0-9a-f]{40}")
_FLAGS = {b"done": "done", b"thin-pack": "thin", b"ofs-delta": "ofs", b"no-progress": "no_progress",
          b"include-tag": "include_tag", b"wait-for-done": "wait_for_done", b"deepen-relative": "relative"}


class Refused(Exception):
    """A request that can't be served; the message goes to the client as an ERR pkt-line."""


@dataclass
class FetchArgs:
    wants: list[ObjectID] = field(default_factory=list)
    haves: list[ObjectID] = field(default_factory=list)
    shallow_lines: list[bytes] = field(default_factory=list)  # shallow, deepen, deepen-since, deepen-not
    done: bool = False
    thin: bool = False
    ofs: bool = False
    no_progress: bool = False
    include_tag: bool = False
    wait_for_done: bool = False
    relative: bool = False


def parse_args(args: Sequence[bytes]) -> FetchArgs:
    """The arguments of a fetch request (after its delimiter), or Refused."""
    parsed = FetchArgs()
    for arg in args:
        word, _, value = arg.partition(b" ")
        if arg in _FLAGS:
            setattr(parsed, _FLAGS[arg], True)
        elif word in (b"want", b"have"):
            if not _OID.fullmatch(value):
                raise Refused(f"upload-pack: protocol error, expected to get oid, not '{show(arg)}'")
            (parsed.wants if word == b"want" else parsed.haves).append(ObjectID(value))
        elif word in shallow.SECTION:
            parsed.shallow_lines.append(arg)
        else:  # filter, want-ref, sideband-all, packfile-uris: not offered
            raise Refused(f"upload-pack: unexpected line: '{show(arg)}'")
    parsed.wants = list(dict.fromkeys(parsed.wants))
    parsed.haves = list(dict.fromkeys(parsed.haves))
    return parsed


def fetch(repo: TemplateRepo, args: Sequence[bytes], proto: Protocol) -> str | None:
    """Answer one fetch request; returns what it counts as in usage ("clones" or "fetches" when
    a pack is sent, else None). Nothing is written before the request is known to be served."""
    req = parse_args(args)
    if not req.wants and not req.wait_for_done:
        return None  # nothing wanted (C git answers nothing either)
    reader = PackReader(newest_first(repo.object_store))
    _check_wants(repo, reader, req.wants)
    common = [sha for sha in req.haves if sha in reader]
    graph = shallow.CommitGraph(cast(ObjectContainer, reader))
    shallow_req = None
    if req.shallow_lines or req.relative:
        refs = repo.advertised_refs()
        shallow_req = shallow.parse_request(req.shallow_lines, req.relative, graph,
                                            lambda name: shallow.resolve_ref(refs, name))
    negotiating = bool(req.haves) and not req.done
    ready = negotiating and bool(req.wants) and not req.wait_for_done and all_reach(graph, req.wants, common)
    sending = bool(req.wants) and (not negotiating or ready)
    plan = shallow.plan(graph, shallow_req, req.wants) if sending and shallow_req else None

    if negotiating:
        proto.write_pkt_line(b"acknowledgments\n")
        for line in [b"ACK " + sha + b"\n" for sha in common] or [b"NAK\n"]:
            proto.write_pkt_line(line)
        if not ready:
            proto.write_pkt_line(None)  # the client sends more haves, or done
            return None
        proto.write_pkt_line(b"ready\n")
        proto.write(DELIM)
    if not sending:
        proto.write_pkt_line(None)
        return None
    if shallow_req is not None and (shallow_req.deepens or shallow_req.client_shallow):
        assert plan is not None
        proto.write_pkt_line(b"shallow-info\n")
        for kind, shas in ((b"shallow ", plan.shallow), (b"unshallow ", plan.unshallow)):
            for sha in sorted(shas):
                proto.write_pkt_line(kind + sha + b"\n")
        proto.write(DELIM)
    proto.write_pkt_line(b"packfile\n")
    _send_pack(repo, reader, req, common, plan, proto)
    return "fetches" if req.haves else "clones"


def _send_pack(repo: TemplateRepo, reader: PackReader, req: FetchArgs, common: list[ObjectID],
               plan: shallow.ShallowPlan | None, proto: Protocol) -> None:
    clone = CloneRequest(frozenset(w.decode() for w in req.wants), frozenset())
    if not req.haves and plan is None and req.ofs and eligible(repo, clone):
        write_sideband_pack(repo, proto, progress=not req.no_progress)
        return

    def progress(message: bytes) -> None:
        if not req.no_progress:
            proto.write_sideband(SIDE_BAND_CHANNEL_PROGRESS, message)

    write = partial(proto.write_sideband, SIDE_BAND_CHANNEL_DATA)

    stop = frozenset(plan.stop) if plan else frozenset()
    # As in v0: a shallow request counts no haves (the walk then stops at the boundaries only).
    haves = [] if plan and (plan.stop or plan.unshallow) else common
    selection = select(reader, [*req.wants, *(plan.extra_wants if plan else [])], haves, stop,
                       tagged(repo, reader) if req.include_tag else None, progress)
    fetchpack.write_selection(reader, selection, write, thin=req.thin, ofs=req.ofs)
    proto.write_pkt_line(None)


def _check_wants(repo: TemplateRepo, reader: PackReader, wanted: list[ObjectID]) -> None:
    """Only ref tips, and commits a push made ancestors of tips since the client read the refs
    (wants.py), may be wanted: as in v0, never any other object the store holds."""
    tips = set(refsdoc.visible(repo.doc.refs).values())
    stale = [sha.decode() for sha in wanted if sha.decode() not in tips]
    found = wants.stale_reachable(repo, stale) if stale else set()
    for sha in stale:
        if sha not in found or sha.encode() not in reader:
            raise Refused(f"upload-pack: not our ref {sha}")


def all_reach(graph: shallow.CommitGraph, wanted: Sequence[ObjectID], common: Sequence[ObjectID],
              limit: int = wants.WALK_LIMIT) -> bool:
    """Whether every wanted commit reaches a commit the client has (C git's ok_to_give_up), so
    the pack can be made now. The walk goes no further back than the oldest such commit, and
    gives up (the client sends more haves) after `limit` commits."""
    dates = {sha: entry[1] for sha in common if (entry := graph.get(sha)) is not None}
    if not dates:
        return False
    earliest, visited = min(dates.values()), 0
    for want in wanted:
        head = graph.peel(want)
        if head is None:  # not a commit: its ancestry can't tell
            continue
        queue, seen, found = deque([head]), {head}, False
        while queue and not found:
            sha = queue.popleft()
            visited += 1
            if sha in dates or visited > limit:
                found = sha in dates
                break
            for parent in graph.parents(sha):
                entry = graph.get(parent)
                if parent not in seen and entry is not None and entry[1] >= earliest:
                    seen.add(parent)
                    queue.append(parent)
        if not found:
            return False
    return True


def tagged(repo: TemplateRepo, reader: PackReader) -> dict[ObjectID, ObjectID]:
    """{object an annotated tag names: the tag} for the advertised tags (include-tag)."""
    out: dict[ObjectID, ObjectID] = {}
    for sha in repo.advertised_refs().values():
        target = peeled(reader.__getitem__, sha)
        if target is not None:
            out[target] = sha
    return out


def peeled(get: Callable[[ObjectID], object], sha: ObjectID) -> ObjectID | None:
    """What an annotated tag finally names (through tags of tags); None if `sha` is no tag."""
    reached, _ = shallow.peel(get, sha)
    return reached if reached != sha else None
