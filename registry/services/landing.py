"""What follows a write of a template's refs (a push, a merge), done once whatever fails in between.

A push or a merge moves refs in the blob store (one compare-and-swap of the refs document) and
then records what that means in the database: its push events (and their webhook deliveries), a
merged pull request's state, the checks the new tips owe. A database restarted, paused or cut
off, or a node killed, between the two left refs that had moved with nothing recorded (issue 27):
an accepted push without its event, a merged pull request still open, checks never run.

So every such write is journalled first (`journal`: meta.writes, "pending", before the
compare-and-swap, which carries the same write id; a database that is down refuses the write
before anything moves). Its events are written by the transaction that marks it "recorded"
(exactly once, whoever gets there first), then the rest follows, which is safe to do twice (a
pull request follows its head branch, the checks are recorded and handed to the queue), then the
journal forgets it. Whatever a failure interrupts, `catch_up` (every reconciler pass of every
server process) finishes from the journal: a pending write that the refs document says landed is
recorded and followed up; one it does not know after GIVE_UP seconds never landed.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from ..container import Container
from ..errors import TemplateNotFound
from ..events import recording
from ..events.payloads import pull_payload, push_payload
from ..git.policy import RefUpdate
from ..git.refsdoc import new_write_id
from ..meta import RefWrite, Template
from . import pulls

log = logging.getLogger(__name__)
GRACE = 5.0  # seconds a write's own request has to follow it up before the reconciler does
GIVE_UP = 600.0  # a pending write the refs document does not know by then never landed


def journal(c: Container, template: Template, kind: str, actor: str | None, updates: Sequence[RefUpdate],
            details: dict[str, Any] | None = None) -> str:
    """Journal a write about to be made; its write id, for the compare-and-swap to carry."""
    write = RefWrite(new_write_id(), template.id, kind, actor, tuple((u.ref, u.old, u.new) for u in updates),
                     details or {})
    return c.meta.writes.add(write).id


def forget(c: Container, write_id: str) -> None:
    """The write did not land (a lost race): best effort, `catch_up` forgets it otherwise."""
    try:
        c.meta.writes.done(write_id)
    except Exception as exc:
        log.warning("could not forget write %s: %s", write_id, exc)


def settle(c: Container, template: Template, write: RefWrite, refs: dict[str, str] | None = None) -> None:
    """Record and follow up `write`, which landed (an id of "" was not journalled: recorded as is).
    `refs`: the refs now, when settling late (a pull request then follows only a head still there).
    Raises what the database raises, and the journal keeps the write owed."""
    with recording(c) as r:
        if not write.id or c.meta.writes.record(write.id):
            updates = _updates(write)
            if write.kind == "merge":
                merged = c.meta.pulls.update(template.id, write.details["number"], state="merged",
                                             merged_sha=updates[0].new)
                r.add(write.actor, "pull_request.merged", template, pull_payload(merged, method=write.details["method"]))
            else:
                c.meta.templates.touch(template.id)
            for update in updates:
                r.add(write.actor, "push", template, push_payload(update))
    updates = _updates(write)
    if write.kind == "push":
        pulls.follow_push(c, template, [u for u in updates if refs is None or refs.get(u.ref) == u.new])
    c.announce_push(template, updates)  # the new tips' checks: recorded, handed to the queue
    if write.id:
        c.meta.writes.done(write.id)


def catch_up(c: Container, now: float | None = None) -> int:
    """Finish the writes whose own request did not (its node died, the database failed after the
    refs moved); how many were settled."""
    now = time.time() if now is None else now
    settled = 0
    for write in c.meta.writes.owed(now - GRACE):
        try:
            template = c.meta.templates.get_by_id(write.template_id)
        except TemplateNotFound:
            c.meta.writes.done(write.id)
            continue
        try:
            with c.open_repo(template) as repo:
                doc = repo.doc
            if write.state == "pending" and not doc.wrote(write.id):
                if now - write.created_at > GIVE_UP:
                    log.warning("write %s to %s never landed: forgotten", write.id, template.full_name)
                    c.meta.writes.done(write.id)
                continue
            settle(c, template, write, doc.refs)
            settled += 1
        except TemplateNotFound:
            c.meta.writes.done(write.id)
        except Exception:
            log.exception("settling write %s to %s failed; tried again next pass", write.id, template.full_name)
    return settled


def _updates(write: RefWrite) -> list[RefUpdate]:
    return [RefUpdate(ref, old, new) for ref, old, new in write.updates]
