"""Git over smart HTTP as use cases: who may fetch or push, what a push may do (policy passed
into `git/` as callbacks), and what happens once it lands."""
from __future__ import annotations

from typing import BinaryIO

from .. import secrets_scan, telemetry
from ..access import Actor, Level
from ..container import Container
from ..errors import InvalidName
from ..git import service
from ..git.context import PushContext
from ..git.policy import BranchRule, RefUpdate
from ..meta import RefWrite, Template
from ..names import check_name
from . import guard, landing

SERVICES = service.SERVICES


def authorize(c: Container, actor: Actor, owner: str, name: str, service_name: str) -> Template:
    """The template a git request targets, if `actor` may use `service_name` on it."""
    if service_name not in service.SERVICES:
        raise InvalidName(f"unsupported service {service_name!r}")
    check_name(owner, "owner")
    check_name(name, "template name")
    needed = Level.WRITE if service_name == "git-receive-pack" else Level.READ
    return guard.template(c, actor, owner, name, needed)


def advertise(c: Container, actor: Actor, owner: str, name: str, service_name: str,
              git_protocol: str | None = None) -> bytes:
    """The body of GET info/refs?service=...; `git_protocol` is the client's Git-Protocol header."""
    template = authorize(c, actor, owner, name, service_name)
    with c.open_repo(template) as repo:
        return service.advertise(repo, service_name, git_protocol)


def serve(c: Container, actor: Actor, template: Template, service_name: str, body: BinaryIO,
          out: BinaryIO, git_protocol: str | None = None) -> None:
    """One stateless upload-pack or receive-pack request on a template `authorize` granted for
    that service (the adapter authorizes before it reads the body): read `body`, answer to `out`.
    A clone or fetch is counted in the template's usage, in either protocol version."""
    ctx = context(c, actor, template) if service_name == "git-receive-pack" else None
    request_bytes = body.seek(0, 2)
    body.seek(0)
    with telemetry.span(service_name, {"registry.template": template.full_name, "git.request_bytes": request_bytes,
                                       "git.protocol": git_protocol or "version=0"}):
        with c.open_repo(template) as repo:
            kind = service.run(repo, service_name, body, out, ctx, git_protocol)
        telemetry.note(**{"git.response_bytes": out.tell(), "git.kind": kind})
    if kind is not None:
        c.usage.count(template.id, kind)


def refusal(message: str) -> bytes:
    """The body of a git RPC refused as a whole: git prints `message` as `remote error: ...`."""
    return service.refusal(message)


def context(c: Container, actor: Actor, template: Template) -> PushContext:
    """Limits, branch rules and content checks for a push to `template`, and what follows it."""
    def rule_for(ref: str) -> BranchRule | None:
        if not ref.startswith("refs/heads/"):
            return None
        p = c.meta.templates.get_protection(template.id, ref.removeprefix("refs/heads/"))
        if p is None:
            return None
        return BranchRule(p.allow_force_push, p.allow_deletion, require_pull=p.required_approvals > 0 or bool(
            p.required_checks))

    limit = c.settings.max_file_bytes

    def inspect_blob(data: bytes) -> str | None:
        if len(data) > limit:
            return f"file of {len(data)} bytes exceeds the limit of {limit} bytes"
        kind = secrets_scan.find_secret(data)
        return f"secret detected ({kind})" if kind else None

    # Inflated bytes a push may cost in all: generous for text (which compresses ~4x) while a
    # decompression bomb stops at its first oversized object anyway.
    inflated = 8 * c.settings.max_push_bytes
    return PushContext(max_push_bytes=c.settings.max_push_bytes, max_file_bytes=limit, max_inflated_bytes=inflated,
                       max_objects=c.settings.max_push_objects,
                       rule_for=rule_for,
                       journal=lambda updates: landing.journal(c, template, "push", actor.name, updates),
                       forget=lambda write_id: landing.forget(c, write_id),
                       on_pushed=lambda updates, write_id: landed(c, template, updates, actor.name, write_id),
                       inspect_blob=inspect_blob, inspect_manifest=secrets_scan.manifest_literal_secret)


def landed(c: Container, template: Template, updates: list[RefUpdate], pusher: str | None = None,
           write_id: str = "") -> None:
    """Refs of a push have moved (the write `write_id`, journalled: services/landing.py): recorded
    (an event per ref), pull requests follow their head branches, listeners queue checks. The
    refs live in the blob store, so the event is written just after they moved, with the
    template's new update time."""
    landing.settle(c, template, RefWrite(write_id, template.id, "push", pusher,
                                         tuple((u.ref, u.old, u.new) for u in updates)))
