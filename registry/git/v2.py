"""Git protocol v2 for upload-pack over stateless smart HTTP (gitprotocol-v2(5)).

git asks for v2 first (`Git-Protocol: version=2`); dulwich has no server side for it. Here
the capability advertisement answers GET info/refs, and each POST holds one command:
`ls-refs` (with ref-prefix, symrefs, peel and unborn, so a clone of an empty template learns
its default branch) or `fetch` (v2fetch.py). What is shown and served is what protocol v0
shows and serves: the stored refs and HEAD, and wants that are tips (or were, see wants.py).
Partial clone is not offered (DESIGN.md pitfall 8); push stays on v0, as with C git.

A request that is not framed as pkt-lines is refused as InvalidInput (HTTP 400); a framed
one git would not send gets an ERR pkt-line, which git shows as `remote error: ...`.
"""
from __future__ import annotations

from typing import BinaryIO

from dulwich.protocol import Protocol, agent_string
from dulwich.refs import Ref

from ..errors import InvalidInput
from . import shallow
from .fetchwalk import PackReader, newest_first
from .pktline import DELIM, FLUSH, packets, show
from .repo import TemplateRepo
from .v2fetch import Refused, fetch, peeled

MAX_PREFIXES = 65536  # more ref-prefixes than this: all refs are shown (as C git)
CAPABILITIES = [b"version 2", b"agent=" + agent_string(), b"ls-refs=unborn", b"fetch=shallow wait-for-done",
                b"server-option", b"object-format=sha1"]


def requested(git_protocol: str | None) -> bool:
    """Whether a `Git-Protocol` header (colon-separated key=value items) asks for version 2."""
    return any(item.strip() == "version=2" for item in (git_protocol or "").split(":"))


def advertisement() -> bytes:
    """The body of GET info/refs?service=git-upload-pack in v2: as C git's http-backend, the
    capabilities alone (no `# service=` line, which only v0 sends)."""
    return b"".join(_pkt(line + b"\n") for line in CAPABILITIES) + b"0000"


def serve(repo: TemplateRepo, body: bytes, out: BinaryIO) -> str | None:
    """Answer one v2 request; returns its usage kind ("clones", "fetches" or None)."""
    command, capabilities, args = parse_request(body)
    proto = Protocol(lambda size: b"", out.write)
    try:
        if command is None:  # an empty request (a flush): nothing to do
            return None
        _check_capabilities(capabilities)
        if command == b"ls-refs":
            ls_refs(repo, args, proto)
            return None
        if command == b"fetch":
            return fetch(repo, args, proto)
        raise Refused(f"upload-pack: invalid command '{show(command)}'")
    except (Refused, shallow.ShallowRefused) as exc:
        proto.write_pkt_line(b"ERR " + str(exc).encode("utf-8", "replace"))
        return None


def parse_request(body: bytes) -> tuple[bytes | None, list[bytes], list[bytes]]:
    """(command, capabilities, arguments) of a request; the command is None for an empty one.
    The request must end with its flush, and hold nothing after it."""
    lines = packets(body)
    first = next(lines, None)
    if first is None:
        raise InvalidInput("git protocol error: empty request")
    if first == FLUSH:
        command: bytes | None = None
        capabilities: list[bytes] = []
        args: list[bytes] = []
    else:
        if not isinstance(first, bytes) or not first.startswith(b"command="):
            raise InvalidInput("git protocol error: the request names no command")
        command, capabilities, args = first[len(b"command="):], [], []
        section = capabilities
        for line in lines:
            if line == FLUSH:
                break
            if line == DELIM and section is capabilities:
                section = args
            elif isinstance(line, bytes):
                section.append(line)
            else:
                raise InvalidInput("git protocol error: a second delimiter in one request")
        else:
            raise InvalidInput("git protocol error: the request ends without a flush")
    if next(lines, None) is not None:
        raise InvalidInput("git protocol error: data after the request's flush")
    return command, capabilities, args


def _check_capabilities(capabilities: list[bytes]) -> None:
    for cap in capabilities:
        key, _, value = cap.partition(b"=")
        if key in (b"agent", b"server-option", b"session-id") or cap == b"object-format=sha1":
            continue
        raise Refused(f"upload-pack: unknown capability '{show(cap)}'")


def ls_refs(repo: TemplateRepo, args: list[bytes], proto: Protocol) -> None:
    """The refs v0 advertises, HEAD first, then by name; those under a ref-prefix if any is given."""
    flags: set[bytes] = set()
    prefixes: list[bytes] = []
    for arg in args:
        if arg in (b"symrefs", b"peel", b"unborn"):
            flags.add(arg)
        elif arg.startswith(b"ref-prefix "):
            prefixes.append(arg[len(b"ref-prefix "):])
        else:
            raise Refused(f"upload-pack: unexpected line: '{show(arg)}'")
    symrefs, unborn = b"symrefs" in flags, b"unborn" in flags
    if len(prefixes) > MAX_PREFIXES:
        prefixes = []
    doc = repo.doc
    refs = repo.advertised_refs()
    reader = PackReader(newest_first(repo.object_store)) if b"peel" in flags else None
    head_target = b" symref-target:" + doc.head.encode() if symrefs else b""
    for name in [Ref(b"HEAD"), *sorted(r for r in refs if r != b"HEAD")]:
        if prefixes and not name.startswith(tuple(prefixes)):
            continue
        if name not in refs:  # HEAD of an empty repo: its branch is unborn
            if unborn and symrefs:
                proto.write_pkt_line(b"unborn HEAD" + head_target + b"\n")
            continue
        line = refs[name] + b" " + name + (head_target if name == b"HEAD" else b"")
        target = peeled(reader.__getitem__, refs[name]) if reader is not None else None
        proto.write_pkt_line(line + (b" peeled:" + target if target else b"") + b"\n")
    proto.write_pkt_line(None)


def _pkt(line: bytes) -> bytes:
    return b"%04x" % (len(line) + 4) + line
