"""What changed since a page was shown (change notifications): the template page and a pull
request's page hear, without a reload, that a push, a review, a comment or a check happened.

A page reads the events record itself, from the newest event it had when it was shown (`since`),
in order; each event is judged against the reader's access when it is delivered, not when the
page was shown, so a reader whose access was taken away hears nothing more. A template page
hears about the template; a pull request's page about that pull request (its own events, and
pushes to and checks of its head).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..access import Actor, Level, level
from ..container import Container
from ..errors import NotFound
from ..meta import Event
from . import guard, pulls

HEARD = ("push", "pull_request.", "review.", "comment.", "status.changed", "run.finished")
BATCH = 200


@dataclass(frozen=True)
class Watch:
    template_id: str
    owner: str
    name: str
    number: int | None = None  # a pull request of the template
    head_template_id: str | None = None


def watch(c: Container, actor: Actor, owner: str, name: str, number: int | None = None) -> Watch:
    """What a page follows (readers)."""
    template = guard.template(c, actor, owner, name, Level.READ)
    if number is None:
        return Watch(template.id, template.owner, template.name)
    _, pull = pulls.get_pull(c, actor, owner, name, number)
    return Watch(template.id, template.owner, template.name, number, pull.head_template_id)


def since(c: Container) -> int:
    """Where a page shown now starts hearing: the newest event's id."""
    return c.meta.events.last_id()


def read(c: Container, after: int, limit: int = BATCH) -> list[Event]:
    """Every event after `after`, oldest first; what each page may hear is `news`'s judgement."""
    return c.meta.events.after(after, limit)


def news(c: Container, actor: Actor, watch: Watch, event: Event) -> dict[str, Any] | None:
    """`event` as news for this page and reader, or None when it is not theirs to hear."""
    if event.template_id not in (watch.template_id, watch.head_template_id) or not event.action.startswith(HEARD):
        return None
    if watch.number is not None and not _about_pull(c, watch, event):
        return None
    try:
        template = c.meta.templates.get_by_id(watch.template_id)
    except NotFound:
        return None
    if level(c.meta, actor, template) < Level.READ:
        return None
    return {"id": event.id, "action": event.action, "actor": event.actor, "at": event.time,
            "text": describe(event), "url": _url(watch, event)}


def describe(event: Event) -> str:
    p, who = event.payload, event.actor or "the registry"
    if event.action == "push":
        ref = str(p.get("ref", "")).removeprefix("refs/heads/").removeprefix("refs/tags/")
        return f"{who} deleted {ref}" if p.get("deleted") else f"{who} pushed to {ref}"
    if event.action.startswith("pull_request."):
        return f"{who} {event.action.split('.', 1)[1]} pull request #{p.get('number')}"
    if event.action.startswith("review."):
        state = str((p.get("review") or {}).get("state", "")).replace("_", " ").lower()
        return f"{who} reviewed #{p.get('number')}" + (f": {state}" if state else "")
    if event.action.startswith("comment."):
        return f"{who} commented on #{p.get('number')}"
    if event.action == "status.changed":
        return f"check {p.get('context')} of {str(p.get('sha', ''))[:10]}: {p.get('state')}"
    if event.action == "run.finished":
        run = p.get("run") or {}
        return f"sandbox run {run.get('id', '')} finished: {run.get('state', '')}".rstrip(": ")
    return event.action


def _about_pull(c: Container, watch: Watch, event: Event) -> bool:
    p = event.payload
    if event.template_id == watch.template_id and p.get("number") == watch.number:
        return True
    try:
        pull = c.meta.pulls.get(watch.template_id, watch.number or 0)
    except NotFound:
        return False
    if event.action == "status.changed":
        return p.get("sha") == pull.head_sha
    if event.action == "push" and event.template_id == pull.head_template_id:
        return p.get("ref") == f"refs/heads/{pull.head_branch}"
    return False


def _url(watch: Watch, event: Event) -> str:
    base = f"/{watch.owner}/{watch.name}"
    number = event.payload.get("number")
    if isinstance(number, int):
        return f"{base}/pulls/{number}"
    return f"{base}/pulls/{watch.number}" if watch.number is not None else base
