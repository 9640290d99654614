"""Live feeds of the events record (GraphQL subscriptions): who may watch what, and which event
each watcher may see.

A feed reads the record itself (`events_after`), in order, from where it left off: an event is
announced only once committed, and one missed by a wake-up is read on the next. Each event is
judged against the watcher's access when it is delivered, not only when the watch began, so a
watcher whose role was taken away stops hearing. A template's readers hear what its pages show
(pushes, pull requests, reviews and comments, checks, runs, stars and ratings, forks, updates);
its maintainers hear every event, as its audit log has them.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..access import Actor, Level, level
from ..container import Container
from ..errors import NotFound
from ..meta import Event, Template
from . import guard, pulls

READERS_HEAR = ("push", "pull_request.", "review.", "comment.", "status.", "run.", "star.", "rating.",
                "template.forked", "template.updated", "template.created")
BATCH = 200


@dataclass(frozen=True)
class Watch:
    """What one subscription follows: a template, and within it, maybe one pull request."""

    template_id: str
    number: int | None = None  # a pull request of that template
    head_template_id: str | None = None  # where the pull request's head branch lives


def watch_template(c: Container, actor: Actor, owner: str, name: str) -> Watch:
    return Watch(guard.template(c, actor, owner, name).id)


def watch_pull(c: Container, actor: Actor, owner: str, name: str, number: int) -> Watch:
    base, pull = pulls.get_pull(c, actor, owner, name, number)
    return Watch(base.id, number, pull.head_template_id)


def last_event_id(c: Container) -> int:
    return c.meta.events.last_id()


def events_after(c: Container, event_id: int, limit: int = BATCH) -> list[Event]:
    """The feed's own read of the record: every event after `event_id`, oldest first. Who may see
    which is `visible`'s judgement, per watcher."""
    return c.meta.events.after(event_id, limit)


def _template(c: Container, template_id: str) -> Template | None:
    try:
        return c.meta.templates.get_by_id(template_id)
    except NotFound:
        return None


def visible(c: Container, actor: Actor, watch: Watch, event: Event) -> bool:
    """Whether `event` belongs to `watch` and `actor` may hear it now."""
    if event.template_id not in (watch.template_id, watch.head_template_id):
        return False
    if watch.number is not None and not _about_pull(c, watch, event):
        return False
    template = _template(c, watch.template_id)
    if template is None:
        return False
    have = level(c.meta, actor, template)
    if have >= Level.MAINTAIN:
        return True
    return have >= Level.READ and event.action.startswith(READERS_HEAR)


def _about_pull(c: Container, watch: Watch, event: Event) -> bool:
    """A pull request's own events (by number, on its base), and pushes to and checks of its head."""
    payload = event.payload
    if event.template_id == watch.template_id and payload.get("number") == watch.number:
        return True
    base = _template(c, watch.template_id)
    if base is None or watch.number is None:
        return False
    try:
        pull = c.meta.pulls.get(base.id, watch.number)
    except NotFound:
        return False
    if event.action == "status.changed":
        return payload.get("sha") == pull.head_sha
    if event.action == "push" and event.template_id == pull.head_template_id:
        return payload.get("ref") == f"refs/heads/{pull.head_branch}"
    return False
