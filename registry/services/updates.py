"""Update pull requests (Dependabot's, for `extends`): when a template publishes a version that
a dependent's `extends.ref` does not reach (a pin on an older version, or a range that excludes
it), the registry opens one pull request in the dependent moving `extends.ref` to it, with what
changed in the parent since the version the dependent uses and the semver verdict in the body.

The commit lands through the push path as the user `registry-bot` (reserved: no one can join as
it), so the dependent's own checks (validate, sandbox) run on it and protection rules apply; the
pull request and the closing of the one it supersedes are events, heard by webhooks. One open
update per dependent and parent: a newer version closes the older pull request. A template opts
out with `update_pulls: false`. Idempotent: running again for a version opens nothing twice.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from .. import versions
from ..access import Actor
from ..container import Container
from ..errors import AlreadyExists, NotFound, UserNotFound
from ..events import recording
from ..events.payloads import pull_payload
from ..git import browse
from ..git.refsdoc import ZERO_SHA
from ..git.repo import TemplateRepo
from ..graphs import semver
from ..manifests import manifest_at
from ..meta import Pull, Template, User
from . import graphs, pulls
from .commits import Change, land, message_text, prepared

log = logging.getLogger(__name__)
BOT = "registry-bot"
PREFIX = "registry-bot/extends/"
MAX_CHANGES_LISTED = 50


@dataclass(frozen=True)
class Published:
    """A version of `parent` just published, with its semver check's outcome."""

    parent: Template
    tag: str
    previous: str | None  # the release before it
    verdict: semver.Verdict  # from `previous` to `tag`
    passed: bool  # whether its version number covers the change


def bot(c: Container) -> User:
    """The registry's own user (made on first use; it has no password and no token)."""
    try:
        return c.meta.users.get(BOT)
    except UserNotFound:
        pass
    try:
        return c.meta.users.add(BOT, None, False)
    except AlreadyExists:  # another process made it meanwhile
        return c.meta.users.get(BOT)


def publish(c: Container, version: Published) -> list[Pull]:
    """Open (or keep) the update pull request of each dependent that `version` is news for."""
    parsed = versions.parse(version.tag)
    if parsed is None or parsed.prerelease:
        return []
    with c.open_repo(version.parent) as repo:
        if versions.newest(repo) != version.tag:
            return []  # a fix on an older line: dependents are offered the newest version only
    opened: list[Pull] = []
    for child, asked in c.meta.templates.dependents(version.parent.full_name):
        if not child.update_pulls or child.id == version.parent.id:
            continue
        if version.parent.visibility != "public" and version.parent.owner != child.owner:
            continue  # it cannot extend that parent (validate would refuse it): nothing to offer
        pull = propose(c, version, child, asked)
        if pull is not None:
            opened.append(pull)
    return opened


def reaches(asked: str, resolved: graphs.Resolved | None, tag: str, tag_sha: str) -> bool:
    """Whether `extends.ref` `asked` already gets version `tag`, or asks for something else than
    versions (a branch: it follows that branch)."""
    if versions.is_range(asked):
        return versions.matches(asked, tag)
    if resolved is None:
        return False  # a pin on a version that is gone: move it
    if resolved.sha == tag_sha:
        return True
    pinned = versions.parse(resolved.ref) if resolved.ref else None
    if pinned is None:
        return not re.fullmatch(r"[0-9a-f]{7,40}", asked)  # a branch name: not ours to move
    current = versions.parse(tag)
    return current is not None and pinned >= current


def new_ref(asked: str, tag: str) -> str:
    """What `extends.ref` becomes: a caret or tilde range keeps its kind; anything else pins."""
    if asked.strip()[:1] in ("^", "~"):
        return asked.strip()[0] + (tag[1:] if tag[:1] in ("v", "V") else tag)
    return tag


def propose(c: Container, version: Published, child: Template, asked: str) -> Pull | None:
    parent, tag = version.parent, version.tag
    with c.open_repo(parent) as repo:
        tag_sha = browse.resolve_commit(repo, f"refs/tags/{tag}").id.decode()
        resolved = graphs.resolve(repo, asked)
        changelog = _changelog(repo, resolved, tag)
    if reaches(asked, resolved, tag, tag_sha):
        return None
    branch = f"{PREFIX}{parent.owner}/{parent.name}/{tag}"
    open_updates = [p for p in c.meta.pulls.page(child.id, "open", 0, 100)[0]
                    if p.author == BOT and p.head_template_id == child.id and p.head_branch.startswith(PREFIX)]
    if any(p.head_branch == branch for p in open_updates):
        return None  # proposed already
    with c.open_repo(child) as repo:
        base = repo.default_branch.removeprefix("refs/heads/")
        head = repo.doc.refs.get(f"refs/heads/{base}")
        if head is None or graphs.extends_of(repo, head) != (parent.full_name, asked):
            return None  # the recorded edge is stale: the default branch no longer asks for this
        text = browse.raw(repo, head, "template.json").decode("utf-8")
    target = new_ref(asked, tag)
    title = f"Bump {parent.full_name} from {asked} to {target}"
    body = _body(c, version, resolved, target, changelog)
    actor = Actor(bot(c), "write")
    with c.open_repo(child) as repo:
        tip = repo.doc.refs.get(f"refs/heads/{branch}")
        if tip is None:  # else: made by an attempt that stopped before its pull request
            edits = prepared(c, [Change("template.json", _set_ref(text, asked, target).encode())])
            tip = land(c, actor, child, repo, branch, ZERO_SHA, head, message_text(f"{title}\n\n{body}"[:19_000]), edits).sha
    pull = pulls.opened(c, BOT, child, child, title, body, branch, base, tip)
    for old in open_updates:
        _supersede(c, child, old, pull)
    return pull


def _supersede(c: Container, child: Template, old: Pull, new: Pull) -> None:
    note = f"Superseded by #{new.number}."
    with recording(c) as r:
        made = c.meta.pulls.add_comment(child.id, old.number, BOT, note, None, None, None, old.head_sha)
        r.add(BOT, "comment.created", child, pull_payload(old, comment={
            "id": made["id"], "body": note, "path": None, "line": None, "side": None, "user": {"login": BOT}}))
        closed = c.meta.pulls.update(child.id, old.number, state="closed")
        r.add(BOT, "pull_request.closed", child, pull_payload(closed))


def _set_ref(text: str, asked: str, target: str) -> str:
    """template.json with `extends.ref` changed, as little of the file touched as can be: the
    one `"ref": "..."` after `"extends"`, else the whole file written again."""
    at = text.find('"extends"')
    pattern = re.compile(r'("ref"\s*:\s*)' + re.escape(json.dumps(asked)))
    found = pattern.search(text, at) if at >= 0 else None
    if found is not None:
        return text[:found.start()] + found.group(1) + json.dumps(target) + text[found.end():]
    manifest = json.loads(text)
    manifest["extends"]["ref"] = target
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def _changelog(repo: TemplateRepo, resolved: graphs.Resolved | None, tag: str) -> list[versions.Version]:
    """The versions after the one the dependent uses, up to `tag`, newest first."""
    since = versions.parse(resolved.ref) if resolved and resolved.ref else None
    upto = versions.parse(tag)
    out = []
    for v in versions.versions(repo):
        parsed = versions.parse(v.version)
        if parsed is None or upto is None or parsed > upto or parsed.prerelease:
            continue
        if since is not None and parsed <= since:
            break
        out.append(v)
        if since is None:
            break  # from a sha or a vanished version: this release alone
    return out[:20]


def _manifest(c: Container, template: Template, ref: str) -> object:
    try:
        with manifest_at(c, template, ref) as checked:
            return checked.manifest or {}
    except NotFound:
        return {}


def _body(c: Container, version: Published, resolved: graphs.Resolved | None, target: str,
          changelog: list[versions.Version]) -> str:
    parent, tag = version.parent, version.tag
    before = _manifest(c, parent, resolved.sha) if resolved else {}
    verdict = semver.compare(before, _manifest(c, parent, f"refs/tags/{tag}"))
    since = resolved.ref or resolved.sha[:12] if resolved else "a version that no longer resolves"
    if version.previous is None:
        check = f"`{tag}` is the first version."
    elif version.passed:
        check = f"The `semver` check of `{tag}` passed ({version.verdict.kind} change from `{version.previous}`)."
    else:
        bump = semver.bump(_plain(version.previous), _plain(tag))
        check = f"The `semver` check of `{tag}` failed: a breaking change under a {bump} bump from `{version.previous}`."
    lines = [f"Bumps [{parent.full_name}](/{parent.full_name}) `extends.ref` to `{target}` "
             f"(version `{tag}`; this template uses `{since}`).", "",
             f"**Kind of change since `{since}`: {verdict.kind}.** {check}", ""]
    if verdict.changes:
        lines += ["### What changed in the parent", ""]
        lines += [f"- **{ch.kind}** `{ch.path}`: {ch.message}" for ch in verdict.changes[:MAX_CHANGES_LISTED]]
        if len(verdict.changes) > MAX_CHANGES_LISTED:
            lines.append(f"- … and {len(verdict.changes) - MAX_CHANGES_LISTED} more")
        lines.append("")
    if changelog:
        lines += ["### Changelog", ""]
        for v in changelog:
            lines += [f"#### {v.version}", "", v.message[:2000] or "(no message)", ""]
    lines += ["---", "Opened by the registry because this template extends "
              f"`{parent.full_name}`. Its checks run on this pull request. Turn these off with "
              "`PATCH /api/v1/templates/{owner}/{name} {\"update_pulls\": false}`."]
    return "\n".join(lines)


def _plain(tag: str) -> str:
    return str(versions.parse(tag) or "0.0.0")
