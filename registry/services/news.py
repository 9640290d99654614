"""What changed since a page was shown (change notifications): the template page and a pull
request's page hear, without a reload, that a push, a review, a comment or a check happened.

The events record and who may hear which event are `services.live`'s (the GraphQL
subscriptions' own): a page follows a `live.Watch` and hears, of what its reader may see, the
kinds a page shows, each as a line of text and a link.
"""
from __future__ import annotations

from typing import Any

from ..access import Actor
from ..container import Container
from ..meta import Event
from . import live

HEARD = ("push", "pull_request.", "review.", "comment.", "status.changed", "run.finished")
Watch = live.Watch


def watch(c: Container, actor: Actor, owner: str, name: str, number: int | None = None) -> live.Watch:
    """What a page follows (readers): the template, or one of its pull requests."""
    if number is None:
        return live.watch_template(c, actor, owner, name)
    return live.watch_pull(c, actor, owner, name, number)


def since(c: Container) -> int:
    """Where a page shown now starts hearing: the newest event's id."""
    return live.last_event_id(c)


def read(c: Container, after: int) -> list[Event]:
    """Every event after `after`, oldest first; what each page may hear is `news`'s judgement."""
    return live.events_after(c, after)


def news(c: Container, actor: Actor, watch: live.Watch, event: Event, owner: str, name: str) -> dict[str, Any] | None:
    """`event` as news for this page and reader, or None when it is not theirs to hear."""
    if not event.action.startswith(HEARD) or not live.visible(c, actor, watch, event):
        return None
    number = event.payload.get("number")
    url = f"/{owner}/{name}" + (f"/pulls/{number}" if isinstance(number, int) else
                                f"/pulls/{watch.number}" if watch.number is not None else "")
    return {"id": event.id, "action": event.action, "actor": event.actor, "at": event.time,
            "text": describe(event), "url": url}


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
