"""Recording an event in the transaction of the change it records.

A use case wraps its change in `recording(c)`: the metadata writes inside and the events it
adds commit together or not at all. In the same transaction each event becomes a pending
delivery for every hook that wants it (an outbox: no event is announced that did not happen,
none is lost if the process dies after the commit), and stars, forks and runs are counted in
the template's usage for the day. After the commit the container's delivery listeners (the
queue) hear of the new deliveries, and its event listeners of the newest event (live feeds:
they read the events themselves, from the record).

Who asked, from where, under which request id: the adapter sets `REQUEST` for the call.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..container import Container
from ..meta import Event, Outgoing, Template
from ..usage import day_of
from . import payloads


@dataclass(frozen=True)
class RequestInfo:
    request_id: str | None = None
    client_ip: str | None = None


NO_REQUEST = RequestInfo()  # frozen: safe to share
REQUEST: ContextVar[RequestInfo] = ContextVar("registry-request", default=NO_REQUEST)  # noqa: B039

# action (or its prefix before ".") -> the hook event that announces it; None: no hook hears it
_HOOK_EVENTS = {"push": "push", "pull_request": "pull_request", "review": "review", "comment": "review",
                "status": "status", "run": "run", "star": "star", "rating": "star", "template.forked": "fork",
                "template": "template", "collaborator": "template", "protection": "template",
                # a hook's own changes go to no hook (receivers would learn each other's URLs), nor
                # does a deletion: the template's hooks and their deliveries go with it
                "hook": None, "template.deleted": None}
HOOK_EVENTS = ("push", "pull_request", "review", "status", "run", "star", "fork", "template")
# action -> the usage count it adds to, on its template's day
_USAGE = {"star.created": ("stars", 1), "star.deleted": ("stars", -1), "template.forked": ("forks", 1),
          "run.finished": ("runs", 1)}  # stars per day are net: a star taken back is counted off


def hook_event(action: str) -> str | None:
    if action in _HOOK_EVENTS:
        return _HOOK_EVENTS[action]
    return _HOOK_EVENTS.get(action.split(".")[0])


@dataclass
class Recorder:
    c: Container
    deliveries: list[str] = field(default_factory=list)
    newest: int = 0  # the id of the last event recorded

    def add(self, actor: str | None, action: str, template: Template | None, payload: dict[str, Any]) -> None:
        if not self.c.settings.record_events:
            return
        info = REQUEST.get()
        event = self.c.meta.events.add(Event(action, actor, template.id if template else None,
                                            template.full_name if template else None, payload,
                                            info.request_id, info.client_ip))
        self.newest = max(self.newest, event.id)
        if template is None:
            return
        if action in _USAGE:
            kind, n = _USAGE[action]
            self.c.meta.activity.add_usage(template.id, day_of(event.time), {kind: n})
        name = hook_event(action)
        if name is None:
            return
        hooks = [h for h in self.c.meta.events.list_hooks(template.id) if h.active and (name in h.events or "*" in h.events)]
        if hooks:
            body = payloads.body(self.c.settings.public_base_url(), name, event, template)
            self.deliveries += self.c.meta.events.add_deliveries(event.id, [Outgoing(h.id, name, body) for h in hooks])


_CURRENT: ContextVar[Recorder | None] = ContextVar("registry-recorder", default=None)


@contextmanager
def recording(c: Container) -> Iterator[Recorder]:
    """One transaction for the change and its events; deliveries are announced after it commits.
    Inside another `recording`, it is that one (one transaction, announced after the outer commit)."""
    outer = _CURRENT.get()
    if outer is not None and outer.c is c:
        yield outer
        return
    recorder = Recorder(c)
    token = _CURRENT.set(recorder)
    try:
        with c.meta.atomic():
            yield recorder
    finally:
        _CURRENT.reset(token)
    if recorder.newest:
        c.announce_events(recorder.newest)
    if recorder.deliveries:
        c.announce_deliveries(recorder.deliveries)
