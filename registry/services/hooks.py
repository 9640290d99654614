"""Webhooks: a template's hooks (maintainers and above), their delivery log, redelivery, and
making one delivery (the queue's job): signed, SSRF-guarded, retried with backoff."""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .. import telemetry
from ..access import Actor, Level
from ..container import Container
from ..errors import HookNotFound, InvalidInput
from ..events import recording
from ..events.outbound import Allow, Outcome, post
from ..events.record import HOOK_EVENTS
from ..meta import Delivery, Hook, HookChanges, Outgoing, Template
from . import guard

MAX_URL = 2000
MAX_SECRET = 256
MAX_HOOKS = 20  # per template, as GitHub has it: one template's hooks cannot hog the senders
URL_CHARS = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces: what goes on the request line


@dataclass(frozen=True)
class HookChange:
    url: str | None = None
    events: list[str] | None = None
    secret: str | None = None
    active: bool | None = None


def _check(change: HookChange) -> HookChanges:
    """The change, validated, as the store takes it: only the fields it sets."""
    values: HookChanges = {}
    if change.url is not None:
        parts = urlsplit(change.url)
        if len(change.url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname \
                or not URL_CHARS.match(change.url) or not _host_ok(parts.hostname):
            raise InvalidInput("url must be an http:// or https:// URL with a host, in printable ASCII",
                               field="url")
        if parts.username is not None or parts.password is not None:
            raise InvalidInput("url must not carry a user or password: the receiver checks the signature",
                               field="url")
        try:
            parts.port  # noqa: B018 (a port that is not a number raises here)
        except ValueError:
            raise InvalidInput("url has a port that is not a number", field="url") from None
        values["url"] = change.url
    if change.events is not None:
        unknown = sorted(set(change.events) - set(HOOK_EVENTS) - {"*"})
        if unknown or not change.events:
            raise InvalidInput(f"events must be some of {', '.join(HOOK_EVENTS)} or \"*\""
                               + (f"; unknown: {', '.join(unknown)}" if unknown else ""), field="events")
        values["events"] = sorted(set(change.events))
    if change.secret is not None:
        if len(change.secret) > MAX_SECRET:
            raise InvalidInput(f"secret is longer than {MAX_SECRET} characters", field="secret")
        values["secret"] = change.secret
    if change.active is not None:
        values["active"] = change.active
    return values


def _host_ok(host: str) -> bool:
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


def _shown(hook: Hook) -> dict[str, Any]:
    """A hook as events record it: never its secret, nor the URL's path (often a secret too)."""
    parts = urlsplit(hook.url)
    return {"id": hook.id, "url": f"{parts.scheme}://{parts.netloc}/…", "events": list(hook.events),
            "active": hook.active}


def _maintained(c: Container, actor: Actor, owner: str, name: str) -> Template:
    guard.writer(actor, "manage webhooks")
    return guard.template(c, actor, owner, name, Level.MAINTAIN)


def create(c: Container, actor: Actor, owner: str, name: str, change: HookChange) -> Hook:
    template = _maintained(c, actor, owner, name)
    values = _check(HookChange(change.url, change.events if change.events is not None else ["push"],
                               change.secret or "", True if change.active is None else change.active))
    if "url" not in values:
        raise InvalidInput("url is required", field="url")
    if len(c.meta.events.list_hooks(template.id)) >= MAX_HOOKS:
        raise InvalidInput(f"a template has at most {MAX_HOOKS} hooks")
    with recording(c) as r:
        hook = c.meta.events.add_hook(template.id, values["url"], values["events"], values["secret"], values["active"],
                               actor.name)
        r.add(actor.name, "hook.created", template, {"hook": _shown(hook)})
    return hook


def list_hooks(c: Container, actor: Actor, owner: str, name: str) -> list[Hook]:
    return c.meta.events.list_hooks(_maintained(c, actor, owner, name).id)


def get(c: Container, actor: Actor, owner: str, name: str, hook_id: int) -> Hook:
    return c.meta.events.get_hook(_maintained(c, actor, owner, name).id, hook_id)


def update(c: Container, actor: Actor, owner: str, name: str, hook_id: int, change: HookChange) -> Hook:
    template = _maintained(c, actor, owner, name)
    values = _check(change)
    with recording(c) as r:
        hooks = c.meta.events
        hook = hooks.update_hook(template.id, hook_id, **values) if values else hooks.get_hook(template.id, hook_id)
        r.add(actor.name, "hook.updated", template, {"hook": _shown(hook), "changed": sorted(values)})
    return hook


def delete(c: Container, actor: Actor, owner: str, name: str, hook_id: int) -> None:
    template = _maintained(c, actor, owner, name)
    with recording(c) as r:
        hook = c.meta.events.get_hook(template.id, hook_id)
        c.meta.events.delete_hook(template.id, hook_id)
        r.add(actor.name, "hook.deleted", template, {"hook": _shown(hook)})


def deliveries(c: Container, actor: Actor, owner: str, name: str, hook_id: int, page: int,
               per_page: int) -> tuple[list[Delivery], int]:
    hook = get(c, actor, owner, name, hook_id)
    return c.meta.events.list_deliveries(hook.id, (page - 1) * per_page, per_page)


def redeliver(c: Container, actor: Actor, owner: str, name: str, hook_id: int, delivery_id: str) -> Delivery:
    """The same body again, as a new delivery (its own id, attempts and outcome)."""
    hook = get(c, actor, owner, name, hook_id)
    old = c.meta.events.get_delivery(delivery_id, hook.id)
    new_id = c.meta.events.add_deliveries(old.event_id, [Outgoing(hook.id, old.event, old.body)])
    c.announce_deliveries(new_id)
    return c.meta.events.get_delivery(new_id[0])


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(c: Container, delivery_id: str) -> Outcome | None:
    """One attempt at a due delivery (the queue's job); None when there was nothing to do (sent
    already, not due, or another attempt holds it). A failure is retried after a delay that
    doubles each time, until the attempts run out; a refusal (the guard) is final."""
    s = c.settings
    delivery = c.meta.events.claim_delivery(delivery_id, time.time(), lease_seconds(c), s.webhook_max_attempts)
    if delivery is None:
        return None
    outcome = Outcome("failed", None, "the attempt ended unexpectedly", 0)
    try:
        with telemetry.span("webhook delivery", {"registry.delivery": delivery.id, "registry.hook": delivery.hook_id,
                                                 "registry.event": delivery.event, "registry.attempt": delivery.attempts}):
            outcome = _attempt(c, delivery)
            telemetry.note(**{"registry.outcome": outcome.status, "http.response.status_code": outcome.response_code})
    finally:  # every claimed attempt ends recorded, whatever happened in it
        status, retry_at = outcome.status, None
        if status == "failed" and delivery.attempts < s.webhook_max_attempts:
            status, retry_at = "pending", time.time() + s.webhook_backoff_seconds * 2 ** (delivery.attempts - 1)
        c.meta.events.finish_delivery(delivery.id, delivery.attempts, status, outcome.response_code, outcome.error,
                               outcome.duration_ms, retry_at)
    return outcome


def lease_seconds(c: Container) -> float:
    """How long an attempt holds its delivery: longer than an attempt can last (post's deadline)."""
    return c.settings.webhook_timeout_seconds + 10


def _attempt(c: Container, delivery: Delivery) -> Outcome:
    try:
        hook = c.meta.events.get_hook(None, delivery.hook_id)
    except HookNotFound:
        return Outcome("refused", None, "the hook was deleted", 0)
    if not hook.active:
        return Outcome("refused", None, "the hook is inactive", 0)
    body = delivery.body.encode()
    headers = {"Content-Type": "application/json", "User-Agent": "registry-webhooks/1",
               "X-Registry-Event": delivery.event, "X-Registry-Delivery": delivery.id}
    if hook.secret:
        headers["X-Registry-Signature-256"] = signature(hook.secret, body)
    return post(hook.url, body, headers, c.settings.webhook_timeout_seconds, Allow.parse(c.settings.webhook_allow))


def due(c: Container) -> list[Delivery]:
    """Deliveries owed now: retries whose delay has passed, and attempts lost with their worker."""
    return c.meta.events.due_deliveries(time.time())
