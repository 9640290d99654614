"""Git smart-HTTP services (upload-pack, receive-pack) on a TemplateRepo, free of any web framework.

The adapter hands in the request body as a file and gets the response bytes back. The
receive side replaces dulwich's ref handling (DESIGN.md pitfalls 4-6): the pack is staged,
every update checked by `policy`, and all accepted updates land in one CAS of the refs document.
"""
from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from dulwich.errors import (
    ApplyDeltaError,
    ChecksumMismatch,
    GitProtocolError,
    HangupException,
    ObjectFormatException,
)
from dulwich.objects import ObjectID
from dulwich.pack import UnresolvedDeltas
from dulwich.protocol import CAPABILITY_ATOMIC, CAPABILITY_FILTER, ReceivableProtocol, pkt_line
from dulwich.refs import Ref
from dulwich.server import Backend, ReceivePackHandler

from ..errors import Conflict, InvalidInput, RegistryError, StorageError, TooLarge
from . import v2, wants
from .clone import eligible, parse_clone_request, serve_clone
from .context import PushContext, Received
from .ingest import Budget, ObjectRejected, ObjectTooLarge, PackCorrupt
from .policy import (
    RefUpdate,
    connectivity_problem,
    content_problem,
    is_rewrite,
    ref_name_problem,
    update_problem,
)
from .refsdoc import ZERO_SHA
from .repo import TemplateRepo
from .v0 import ShallowUploadPack

log = logging.getLogger(__name__)

SERVICES = ("git-upload-pack", "git-receive-pack")
_UNPACK_ERRORS = (OSError, ChecksumMismatch, ApplyDeltaError, AssertionError, ObjectFormatException,
                  GitProtocolError, ValueError, KeyError, zlib.error)


class _Backend(Backend):
    def __init__(self, repo: TemplateRepo) -> None:
        self.repo = repo

    def open_repository(self, path: str) -> TemplateRepo:
        return self.repo


class _UploadPack(ShallowUploadPack):
    repo: TemplateRepo  # what _Backend opens

    def capabilities(self) -> list[bytes]:
        # Partial clone breaks checkout with dulwich (pitfall 8): don't offer it, git falls back.
        return [c for c in super().capabilities() if c != CAPABILITY_FILTER]

    def deepen_not_refs(self) -> dict[Ref, ObjectID]:
        return self.repo.advertised_refs()


class _PushProtocol(ReceivableProtocol):
    """The push's wire. A shallow client names its boundary commits first; dulwich can't parse
    them. We hold full history, and the connectivity check covers what it sends."""

    def read_pkt_line(self) -> bytes | None:
        line = super().read_pkt_line()
        while line is not None and line.startswith(b"shallow "):
            line = super().read_pkt_line()
        return line


class _ReceivePack(ReceivePackHandler):
    ctx: PushContext
    repo: TemplateRepo  # what _Backend opens
    proto: _PushProtocol  # what run() hands in

    def _apply_pack(self, refs: list[tuple[ObjectID, ObjectID, Ref]]) -> Iterator[tuple[bytes, bytes]]:
        repo = self.repo
        updates = [RefUpdate(r.decode("utf-8", "surrogateescape"), o.decode("latin-1"), n.decode("latin-1"))
                   for o, n, r in refs]
        try:
            got = receive(repo, self.ctx, updates, self.proto.read, self.proto.recv,
                          atomic=self.has_capability(CAPABILITY_ATOMIC))
            statuses = [(b"unpack", got.unpack.encode())] + [
                (_wire(u.ref), got.reasons.get(u.ref, "ok").encode()) for u in updates]
        except Exception as exc:  # before the refs document was written: nothing of the push is stored
            log.exception("push to %s failed", repo.repo_id)
            failed = f"{_why(exc)}; nothing was stored".encode()
            statuses = [(b"unpack", b"server error")] + [(_wire(u.ref), failed) for u in updates]
        yield from statuses

    def _on_post_receive(self, client_refs: list[tuple[ObjectID, ObjectID, Ref]]) -> None:
        # Runs after the CAS, before the client reads its report: only enqueue here (pitfall 6).
        self.ctx.announce(self.repo.repo_id)


def receive(repo: TemplateRepo, ctx: PushContext, updates: list[RefUpdate], read: Callable[[int], bytes],
            read_some: Callable[[int], bytes] | None = None, atomic: bool = False) -> Received:
    """Check and land one push, whoever sends it (git's receive-pack, or a commit the server made
    for a user): the pack on `read` is staged under `ctx`'s limits and git's fsck rules, its
    blobs and manifests inspected, every update checked (name, old value, type, fast-forward,
    branch rules), and the accepted ones applied in one CAS. A refused push stores nothing.
    What landed is left on `ctx` (`accepted`, `write_id`); `ctx.announce` is the caller's to call
    once it has answered (what follows a landed push)."""
    try:
        got = _receive(repo, ctx, updates, read, read_some, atomic)
        ctx.accepted, ctx.write_id = got.accepted, got.write_id
        return got
    finally:
        repo.object_store.discard()


def _receive(repo: TemplateRepo, ctx: PushContext, updates: list[RefUpdate], read: Callable[[int], bytes],
             read_some: Callable[[int], bytes] | None, atomic: bool) -> Received:
    def refuse_all(unpack: str, reason: str, error: RegistryError) -> Received:
        return Received(unpack, {u.ref: reason for u in updates}, [], error)

    store = repo.object_store
    if any(not u.is_delete for u in updates):
        budget = Budget(ctx.max_file_bytes, ctx.max_inflated_bytes, objects=ctx.max_objects)
        try:
            store.add_thin_pack(read, read_some, max_input_size=ctx.max_push_bytes,
                                budget=budget, inspect_blob=ctx.inspect_blob)
        except ObjectTooLarge as exc:
            return refuse_all("object too large", exc.message, exc)
        except TooLarge as exc:
            return refuse_all("pack too large", exc.message, exc)
        except ObjectRejected as exc:  # git's fsck rules
            return refuse_all("fsck failed", exc.message, exc)
        except UnresolvedDeltas as exc:  # a thin pack's base is neither in it nor stored
            bases = ", ".join(sha.decode("ascii", "replace")[:12] for sha in exc.shas[:3])
            why = f"missing delta base {bases}"
            return refuse_all("unpack failed: missing delta base", why, InvalidInput(why))
        except PackCorrupt as exc:
            return refuse_all(f"unpack failed: {exc.message}", "unpacker error", exc)
        except _UNPACK_ERRORS as exc:
            log.info("unpack failed: %s", exc)
            return refuse_all(f"unpack failed: {exc}".replace("\n", " "), "unpacker error",
                              InvalidInput(f"unpack failed: {exc}"))
        problem = connectivity_problem(store) or content_problem(store, ctx.inspect_manifest)
        if problem:
            return refuse_all("ok", problem, InvalidInput(problem))

    reasons: dict[str, str] = {}
    seen: set[str] = set()
    for u in updates:
        if u.ref in seen:
            reasons[u.ref] = "duplicate ref in one push"
        seen.add(u.ref)
        # The name first: nothing else (branch rules in the database included) sees a bad one.
        problem = reasons.get(u.ref) or ref_name_problem(u.ref) or update_problem(
            repo, u, repo.ref_value(u.ref), ctx.rule_for(u.ref), repo.default_branch)
        if problem:
            reasons[u.ref] = problem
    if reasons and atomic:
        return Received("ok", {u.ref: reasons.get(u.ref, "atomic push failed") for u in updates})

    got = Received("ok", reasons)
    accepted = [u for u in updates if u.ref not in reasons]
    if accepted:
        got.accepted = _commit(repo, ctx, accepted, got)
    return got


def _commit(repo: TemplateRepo, ctx: PushContext, accepted: list[RefUpdate], got: Received) -> list[RefUpdate]:
    """Journal the write, then apply `accepted` in one CAS; what landed. A failure of the write
    itself may come after the refs moved (a lost answer): then what landed is read back, not
    guessed, so a ref is `ok` exactly when it holds what this push wrote."""
    rewrite = any(is_rewrite(repo, u) for u in accepted)
    try:
        write_id = ctx.journal(accepted)
    except Exception as exc:  # the database is down: nothing moved, nothing will
        log.warning("journalling a push to %s failed: %s", repo.repo_id, exc)
        got.write_error = exc
        got.reasons.update({u.ref: f"{_why(exc)}; nothing was stored" for u in accepted})
        return []
    got.write_id = write_id
    try:
        repo.commit_updates({u.ref: u.new for u in accepted}, {u.ref: u.old for u in accepted}, rewrite=rewrite,
                            write_id=write_id)
        return accepted
    except Conflict as exc:
        ctx.forget(write_id)
        got.reasons.update({u.ref: exc.message for u in accepted})
        return []
    except Exception as exc:
        log.exception("writing the refs of %s failed", repo.repo_id)
        why, got.write_error = _why(exc), exc
    try:
        stored = repo.stored_refs()
    except Exception:  # the journal keeps the write for the reconciler to settle
        log.exception("reading back the refs of %s failed", repo.repo_id)
        got.reasons.update({u.ref: f"{why}; whether it was stored is unknown: fetch to see" for u in accepted})
        return []
    landed = [u for u in accepted if stored.get(u.ref, ZERO_SHA) == u.new]
    got.reasons.update({u.ref: f"{why}; nothing was stored" for u in accepted if u not in landed})
    if not landed:
        ctx.forget(write_id)
    return landed


def advertise(repo: TemplateRepo, service: str, git_protocol: str | None = None) -> bytes:
    """The body of GET info/refs?service=...: the ref advertisement, or for upload-pack asked
    for protocol v2 (the `Git-Protocol` header), the v2 capabilities."""
    if service == "git-upload-pack" and v2.requested(git_protocol):
        return v2.advertisement()
    out = io.BytesIO()
    proto = _PushProtocol(io.BytesIO().read, out.write)
    proto.write_pkt_line(b"# service=" + service.encode() + b"\n")
    proto.write_pkt_line(None)
    handler_cls = _UploadPack if service == "git-upload-pack" else _ReceivePack
    handler = handler_cls(_Backend(repo), ["/"], proto, stateless_rpc=True, advertise_refs=True)
    handler.handle()
    return out.getvalue()


def run(repo: TemplateRepo, service: str, body: BinaryIO, out: BinaryIO,
        ctx: PushContext | None = None, git_protocol: str | None = None) -> str | None:
    """Serve one stateless-RPC request: read `body`, write the response to `out`. For
    upload-pack, returns what it counts as in usage ("clones", "fetches" or None). Push
    stays on protocol v0 whatever `git_protocol` asks (as C git)."""
    proto = ReceivableProtocol(body.read, out.write)
    try:
        if service == "git-upload-pack" and v2.requested(git_protocol):
            return v2.serve(repo, body.read(), out)
        if service == "git-upload-pack":
            request = parse_clone_request(data := body.read())
            if request is not None and eligible(repo, request):
                serve_clone(repo, request, proto)
                return wants.usage_kind(data)
            proto = ReceivableProtocol(io.BytesIO(data).read, out.write)
            repo.serve_also(wants.stale_reachable(repo, wants.parse_wants(data)))
            upload = _UploadPack(_Backend(repo), ["/"], proto, stateless_rpc=True)
            upload.handle()
            return wants.pack_kind(data) if upload.sent_pack else None
        handler = _ReceivePack(_Backend(repo), ["/"], _PushProtocol(body.read, out.write), stateless_rpc=True)
        handler.ctx = ctx or PushContext(max_push_bytes=0)
        handler.handle()
        return None
    except (GitProtocolError, HangupException) as exc:
        raise InvalidInput(f"git protocol error: {exc}") from None


def refusal(message: str) -> bytes:
    """The whole answer to an RPC that can't be served: an ERR pkt-line, which git prints as
    `remote error: ...` in either protocol version."""
    return pkt_line(b"ERR " + message.encode("utf-8", "replace"))


def _why(exc: Exception) -> str:
    return f"storage unavailable: {exc.message}" if isinstance(exc, StorageError) else \
        "the server failed to process this push"


def _wire(ref: str) -> bytes:
    """A ref name back as the client sent it (refused names may not be UTF-8)."""
    return ref.encode("utf-8", "surrogateescape")
