"""Reviews, comments, mergeability and merging of pull requests.

A merge is computed on the side (registry.treemerge) and the base branch moves by CAS against
the tip the merge was computed on."""
from __future__ import annotations

import logging
import time
from typing import Any

from dulwich.objects import Commit, ObjectID

from ..access import Actor, Level
from ..container import Container
from ..errors import Conflict, InvalidInput, MergeBlocked, MergeConflict, StaleHead
from ..events import recording
from ..events.payloads import pull_payload
from ..git.policy import RefUpdate
from ..meta import Comment, Pull, RefWrite, Status, Template
from ..treemerge import merged_tree
from . import guard, landing, pulls

log = logging.getLogger(__name__)

EVENTS = ("APPROVE", "REQUEST_CHANGES", "COMMENT")
METHODS = ("merge", "squash", "fast-forward")
SIDES = (None, "LEFT", "RIGHT")
REVIEW_STATES = {"APPROVE": "approved", "REQUEST_CHANGES": "changes_requested", "COMMENT": "commented"}


def comment(c: Container, actor: Actor, owner: str, name: str, number: int, body: str,
            path: str | None = None, line: int | None = None, side: str | None = None) -> Comment:
    guard.writer(actor, "take part in reviews")
    base, pull = pulls.get_pull(c, actor, owner, name, number)
    if not body.strip():
        raise InvalidInput("body must not be empty")
    if (path is None) != (line is None) or (line is not None and line < 1) or side not in SIDES:
        raise InvalidInput("a line comment needs path, a line >= 1 and side LEFT or RIGHT")
    with recording(c) as r:
        made = c.meta.pulls.add_comment(base.id, number, actor.name or "", body, path, line, side, pull.head_sha)
        r.add(actor.name, "comment.created", base, pull_payload(pull, comment={
            "id": made["id"], "body": body, "path": path, "line": line, "side": side, "user": {"login": actor.name}}))
    return made


def review(c: Container, actor: Actor, owner: str, name: str, number: int, event: str, body: str,
           comments: list[dict[str, Any]]) -> int:
    guard.writer(actor, "take part in reviews")
    base, pull = pulls.get_pull(c, actor, owner, name, number)
    if event not in EVENTS:
        raise InvalidInput(f"event must be one of {', '.join(EVENTS)}")
    if event != "COMMENT" and actor.name == pull.author:
        raise InvalidInput("authors cannot approve or request changes on their own pull request")
    if pull.state != "open":
        raise Conflict(f"pull request #{number} is {pull.state}")
    for cm in comments:
        if not isinstance(cm, dict) or not str(cm.get("body", "")).strip():
            raise InvalidInput("each review comment needs a body")
    # Reviews are tied to the head they looked at: a new push makes approvals stale.
    with recording(c) as r:
        review_id = c.meta.pulls.add_review(base.id, number, actor.name or "", event, body, pull.head_sha, comments)
        r.add(actor.name, "review.submitted", base, pull_payload(pull, review={
            "id": review_id, "state": REVIEW_STATES[event], "body": body, "commit_id": pull.head_sha,
            "user": {"login": actor.name}, "comments": len(comments)}))
    return review_id


def head_statuses(c: Container, base: Template, pull: Pull) -> list[Status]:
    """The head commit's checks: the head template's, and those the base gives it (`eval`)."""
    found = {s.context: s for s in c.meta.checks.get_statuses(pull.head_template_id, pull.head_sha)}
    if base.id != pull.head_template_id:
        found.update({s.context: s for s in c.meta.checks.get_statuses(base.id, pull.head_sha)})
    return sorted(found.values(), key=lambda s: s.context)


def blocked_by(c: Container, base: Template, pull: Pull) -> list[str]:
    """Why `pull` may not be merged now (empty when it may)."""
    reasons = [] if pull.state == "open" else [f"the pull request is {pull.state}"]
    rule = c.meta.templates.get_protection(base.id, pull.base_branch)
    latest: dict[str, str] = {}
    for r in c.meta.pulls.reviews(base.id, pull.number):
        if r["sha"] == pull.head_sha and r["event"] != "COMMENT":
            latest[r["author"]] = r["event"]
    if any(event == "REQUEST_CHANGES" for event in latest.values()):
        reasons.append("changes were requested")
    if rule is None:
        return reasons
    approvals = sum(1 for author, event in latest.items() if event == "APPROVE" and author != pull.author)
    if approvals < rule.required_approvals:
        reasons.append(f"needs {rule.required_approvals} approval(s) of the current head, has {approvals}")
    states = {s.context: s.state for s in head_statuses(c, base, pull)}
    for check in rule.required_checks:
        if states.get(check) != "success":
            reasons.append(f"required check {check!r} is {states.get(check, 'missing')}")
    return reasons


def mergeability(c: Container, actor: Actor, owner: str, name: str, number: int) -> dict[str, Any]:
    base, pull = pulls.get_pull(c, actor, owner, name, number)
    with c.open_repo(base) as repo:
        tip = repo.doc.refs.get(f"refs/heads/{pull.base_branch}")
        conflicts = [] if tip is None or pull.state != "open" else \
            merged_tree(repo, tip.encode(), pull.head_sha.encode())[2]
    blocked = blocked_by(c, base, pull)
    return {"mergeable": pull.state == "open" and not conflicts and not blocked, "conflicts": conflicts,
            "blocked_by": blocked}


def merge(c: Container, actor: Actor, owner: str, name: str, number: int, method: str,
          expected_head_sha: str | None) -> str:
    base = guard.template(c, actor, owner, name, Level.MAINTAIN)
    pull = c.meta.pulls.get(base.id, number)
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}")
    if expected_head_sha and expected_head_sha != pull.head_sha:
        raise StaleHead(f"the head moved to {pull.head_sha}; review it and merge again", head_sha=pull.head_sha)
    blocked = blocked_by(c, base, pull)
    if blocked:
        raise MergeBlocked("; ".join(blocked), blocked_by=blocked)
    ref = f"refs/heads/{pull.base_branch}"
    with c.open_repo(base) as repo:
        tip = repo.ref_value(ref)
        tree, objects, conflicts, ff = merged_tree(repo, tip.encode(), pull.head_sha.encode())
        if conflicts:
            raise MergeConflict(f"merge conflicts in {', '.join(conflicts)}", conflicts=conflicts)
        if method == "fast-forward":
            if not ff:
                raise MergeConflict(f"{pull.base_branch} has moved on: cannot fast-forward", conflicts=[])
            new = pull.head_sha
        else:
            commit = Commit()
            commit.tree = tree
            commit.parents = [ObjectID(tip.encode())] + ([ObjectID(pull.head_sha.encode())] if method == "merge" else [])
            commit.author = commit.committer = f"{actor.name} <{actor.name}@registry>".encode()
            commit.author_time = commit.commit_time = int(time.time())
            commit.author_timezone = commit.commit_timezone = 0
            verb = "Merge" if method == "merge" else "Squash"
            commit.message = f"{verb} pull request #{number}: {pull.title}\n".encode()
            repo.object_store.add_objects([(o, None) for o in objects + [commit]])
            new = commit.id.decode()
        update = RefUpdate(ref, tip, new)
        write_id = landing.journal(c, base, "merge", actor.name, [update], {"number": number, "method": method})
        try:
            repo.commit_updates({ref: new}, {ref: tip}, write_id=write_id)
        except Conflict:
            landing.forget(c, write_id)
            raise
    # Merged: the pull request's state, its events and the new tip's checks follow. A failure
    # from here on changes nothing of that answer: the journal keeps them owed to the reconciler.
    try:
        landing.settle(c, base, RefWrite(write_id, base.id, "merge", actor.name, ((ref, tip, new),),
                                         {"number": number, "method": method}))
    except Exception as exc:
        log.warning("merge of %s#%d landed; what follows it is owed to the reconciler: %s", base.full_name, number, exc)
    return new
