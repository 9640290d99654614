"""Reviews, comments, mergeability and merging of pull requests.

A merge is computed on the side (dulwich three-way merge of trees over an overlay store),
template.json is merged by JSON path whenever both sides changed it, and the base branch
moves by CAS against the tip the merge was computed on."""
from __future__ import annotations

import json
import time
from typing import Any

from dulwich.graph import find_merge_base
from dulwich.merge import three_way_merge
from dulwich.object_store import MemoryObjectStore, OverlayObjectStore
from dulwich.objects import Blob, Commit

from . import pulls
from .access import Actor, Level, Unauthenticated
from .errors import Conflict, InvalidInput, PermissionDenied, RegistryError
from .git.diff import MANIFEST
from .jsonmerge import MISSING, merge3

EVENTS = ("APPROVE", "REQUEST_CHANGES", "COMMENT")
METHODS = ("merge", "squash", "fast-forward")


class MergeBlocked(RegistryError):
    code = "merge_blocked"


class StaleHead(RegistryError):
    code = "head_moved"


class MergeConflict(Conflict):
    code = "merge_conflict"


def _signed_in(actor: Actor) -> None:
    if actor.user is None:
        raise Unauthenticated("sign in to take part in reviews")
    if actor.scope == "read":
        raise PermissionDenied("a read-scoped token cannot write")


def comment(registry, actor: Actor, owner: str, name: str, number: int, body: str,
            path: str | None = None, line: int | None = None, side: str | None = None) -> dict:
    _signed_in(actor)
    base, pull = pulls.get_pull(registry, actor, owner, name, number)
    if not body.strip():
        raise InvalidInput("body must not be empty")
    if (path is None) != (line is None) or (line is not None and line < 1) or side not in (None, "LEFT", "RIGHT"):
        raise InvalidInput("a line comment needs path, a line >= 1 and side LEFT or RIGHT")
    return registry.meta.add_comment(base.id, number, actor.name, body, path, line, side, pull.head_sha)


def review(registry, actor: Actor, owner: str, name: str, number: int, event: str, body: str,
           comments: list[dict]) -> int:
    _signed_in(actor)
    base, pull = pulls.get_pull(registry, actor, owner, name, number)
    if event not in EVENTS:
        raise InvalidInput(f"event must be one of {', '.join(EVENTS)}")
    if event != "COMMENT" and actor.name == pull.author:
        raise InvalidInput("authors cannot approve or request changes on their own pull request")
    if pull.state != "open":
        raise Conflict(f"pull request #{number} is {pull.state}")
    for c in comments:
        if not isinstance(c, dict) or not str(c.get("body", "")).strip():
            raise InvalidInput("each review comment needs a body")
    # Reviews are tied to the head they looked at: a new push makes approvals stale.
    return registry.meta.add_review(base.id, number, actor.name, event, body, pull.head_sha, comments)


def _blocked_by(registry, base, pull) -> list[str]:
    reasons = [] if pull.state == "open" else [f"the pull request is {pull.state}"]
    rule = registry.meta.get_protection(base.id, pull.base_branch)
    latest: dict[str, str] = {}
    for r in registry.meta.reviews(base.id, pull.number):
        if r["sha"] == pull.head_sha and r["event"] != "COMMENT":
            latest[r["author"]] = r["event"]
    if any(event == "REQUEST_CHANGES" for event in latest.values()):
        reasons.append("changes were requested")
    if rule is None:
        return reasons
    approvals = sum(1 for author, event in latest.items() if event == "APPROVE" and author != pull.author)
    if approvals < rule.required_approvals:
        reasons.append(f"needs {rule.required_approvals} approval(s) of the current head, has {approvals}")
    states = {s.context: s.state for s in registry.meta.get_statuses(pull.head_template_id, pull.head_sha)}
    states.update({s.context: s.state for s in registry.meta.get_statuses(base.id, pull.head_sha)})
    for check in rule.required_checks:
        if states.get(check) != "success":
            reasons.append(f"required check {check!r} is {states.get(check, 'missing')}")
    return reasons


def _merged_tree(repo, ours_sha: bytes, theirs_sha: bytes):
    """(tree, new objects, conflicts, fast-forwardable) of merging theirs into ours."""
    store = repo.object_store
    bases = find_merge_base(repo, [ours_sha, theirs_sha])
    if bases and bases[0] == ours_sha:
        return store[theirs_sha].tree, [], [], True
    scratch = MemoryObjectStore()
    overlay = OverlayObjectStore([scratch, store], add_store=scratch)
    base_commit = store[bases[0]] if bases else None
    tree, conflicts = three_way_merge(overlay, base_commit, store[ours_sha], store[theirs_sha])
    conflicts = [c.decode("utf-8", "replace") for c in conflicts if c != MANIFEST.encode()]
    manifest = _merge_manifest(store, base_commit, store[ours_sha], store[theirs_sha])
    if manifest is not None:
        merged, json_conflicts = manifest
        if json_conflicts:
            conflicts += [f"{MANIFEST}:{path}" for path in json_conflicts]
        else:
            blob = Blob.from_string((json.dumps(merged, indent=2) + "\n").encode())
            scratch.add_object(blob)
            tree[MANIFEST.encode()] = (0o100644, blob.id)  # a new root tree (new id)
            scratch.add_object(tree)
    objects = [scratch[sha] for sha in scratch]
    return tree.id, objects, sorted(conflicts), False


def _merge_manifest(store, base, ours, theirs):
    def load(commit):
        if commit is None:
            return MISSING
        try:
            _, sha = store[commit.tree][MANIFEST.encode()]
        except KeyError:
            return MISSING
        return json.loads(store[sha].as_raw_string())

    try:
        b, o, t = load(base), load(ours), load(theirs)
    except ValueError:
        return None  # not JSON somewhere: the textual merge decides
    if o == b or t == b or o is MISSING or t is MISSING:
        return None  # changed on one side at most: nothing to merge by path
    return merge3({} if b is MISSING else b, o, t)


def mergeability(registry, actor: Actor, owner: str, name: str, number: int) -> dict[str, Any]:
    base, pull = pulls.get_pull(registry, actor, owner, name, number)
    repo = registry.open_repo(base)
    try:
        tip = repo.doc.refs.get(f"refs/heads/{pull.base_branch}")
        conflicts = [] if tip is None or pull.state != "open" else \
            _merged_tree(repo, tip.encode(), pull.head_sha.encode())[2]
    finally:
        repo.close()
    blocked = _blocked_by(registry, base, pull)
    return {"mergeable": pull.state == "open" and not conflicts and not blocked, "conflicts": conflicts,
            "blocked_by": blocked}


def merge(registry, actor: Actor, owner: str, name: str, number: int, method: str,
          expected_head_sha: str | None) -> str:
    base = registry.get_template(actor, owner, name, Level.MAINTAIN)
    pull = registry.meta.get_pull(base.id, number)
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}")
    if expected_head_sha and expected_head_sha != pull.head_sha:
        raise StaleHead(f"the head moved to {pull.head_sha}; review it and merge again", head_sha=pull.head_sha)
    blocked = _blocked_by(registry, base, pull)
    if blocked:
        raise MergeBlocked("; ".join(blocked), blocked_by=blocked)
    ref = f"refs/heads/{pull.base_branch}"
    repo = registry.open_repo(base)
    try:
        tip = repo.ref_value(ref)
        tree, objects, conflicts, ff = _merged_tree(repo, tip.encode(), pull.head_sha.encode())
        if conflicts:
            raise MergeConflict(f"merge conflicts in {', '.join(conflicts)}", conflicts=conflicts)
        if method == "fast-forward":
            if not ff:
                raise MergeConflict(f"{pull.base_branch} has moved on: cannot fast-forward", conflicts=[])
            new = pull.head_sha
        else:
            commit = Commit()
            commit.tree = tree
            commit.parents = [tip.encode()] + ([pull.head_sha.encode()] if method == "merge" else [])
            commit.author = commit.committer = f"{actor.name} <{actor.name}@registry>".encode()
            commit.author_time = commit.commit_time = int(time.time())
            commit.author_timezone = commit.commit_timezone = 0
            verb = "Merge" if method == "merge" else "Squash"
            commit.message = f"{verb} pull request #{number}: {pull.title}\n".encode()
            repo.object_store.add_objects([(o, None) for o in objects + [commit]])
            new = commit.id.decode()
        repo.commit_updates({ref: new}, {ref: tip})
    finally:
        repo.close()
    registry.meta.update_pull(base.id, number, state="merged", merged_sha=new)
    from .git.policy import RefUpdate

    for listener in registry.push_listeners:  # the new base tip gets its checks and index entry
        listener(base, [RefUpdate(ref, tip, new)])
    return new
