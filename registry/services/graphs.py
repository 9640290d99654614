"""Who depends on whom: a template's `extends` chain (each link with the ref it asks for and what
that resolves to now), the templates that extend it (and whether the parent's newest version
satisfies them), its fork network, and its flow as a graph, an SVG and Mermaid source.

Each starts with the access check; a template the caller may not read is left out (a chain stops
before it), so private templates appear only to those who may read them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import jsonsafe, versions
from ..access import Actor, Level, level
from ..container import Container
from ..errors import InvalidInput, NotFound, PathNotFound, TemplateNotFound
from ..git import browse
from ..git.repo import TemplateRepo
from ..graphs import draw, flow, semver
from ..graphs.flow import Graph as Graph  # re-exported: pages type what they draw
from ..manifests import manifest_at
from ..meta import Template
from . import guard

MAX_CHAIN = 20  # links of an extends chain followed (validate refuses cycles; this bounds the rest)
MAX_DEPENDENTS = 1000
MAX_VERSIONS = 100  # versions judged on the versions page (the newest)


@dataclass(frozen=True)
class Resolved:
    ref: str | None  # the version tag a range or tag chose; None for a sha or branch
    sha: str  # the commit


@dataclass(frozen=True)
class Link:
    template: Template
    asked: str  # extends.ref as written
    resolved: Resolved | None  # None: it resolves to nothing now


@dataclass(frozen=True)
class Dependent:
    template: Template
    asked: str
    resolved: Resolved | None
    satisfied_by_latest: bool | None  # None while the parent has no version


@dataclass(frozen=True)
class Fork:
    template: Template
    parent: Template | None  # None for the network's root


def readable(c: Container, actor: Actor, template: Template) -> bool:
    return level(c.meta, actor, template) >= Level.READ


def resolve(repo: TemplateRepo, ref: str) -> Resolved | None:
    """What `ref` (a range, tag, branch or sha) names in `repo` now."""
    try:
        if versions.is_range(ref):
            tag = versions.resolve(ref, repo)
            return Resolved(tag, browse.resolve_commit(repo, f"refs/tags/{tag}").id.decode())
        named = ref if f"refs/tags/{ref}" in repo.doc.refs and versions.parse(ref) else None
        return Resolved(named, browse.resolve_commit(repo, ref).id.decode())
    except (NotFound, InvalidInput):
        return None


def extends_of(repo: TemplateRepo, at: str) -> tuple[str, str] | None:
    """(parent "owner/name", ref) that template.json at `at` extends, as stored."""
    try:
        manifest = jsonsafe.loads(browse.raw(repo, at, "template.json"))
    except (NotFound, InvalidInput, ValueError):
        return None
    ext = manifest.get("extends") if isinstance(manifest, dict) else None
    if isinstance(ext, dict) and isinstance(ext.get("template"), str) and isinstance(ext.get("ref"), str):
        return ext["template"], ext["ref"]
    return None


def dependencies(c: Container, actor: Actor, owner: str, name: str, ref: str | None = None) -> list[Link]:
    """The `extends` chain of the template at `ref` (default: its default branch), nearest first."""
    template = guard.template(c, actor, owner, name, Level.READ)
    chain: list[Link] = []
    seen = {template.id}
    with c.open_repo(template) as repo:
        try:
            at = browse.resolve_commit(repo, ref or repo.default_branch).id.decode()
        except NotFound:
            if ref is not None:
                raise
            return []  # an empty template extends nothing
        ext = extends_of(repo, at)
    while ext is not None and len(chain) < MAX_CHAIN:
        parent_name, asked = ext
        parent_owner, _, pname = parent_name.partition("/")
        try:
            parent = c.meta.templates.get(parent_owner, pname)
        except TemplateNotFound:
            return chain
        if not readable(c, actor, parent):
            return chain  # nothing past a template the caller may not see
        with c.open_repo(parent) as repo:
            found = resolve(repo, asked)
            ext = extends_of(repo, found.sha) if found is not None else None
        chain.append(Link(parent, asked, found))
        if parent.id in seen:
            break  # a cycle (validate refuses them; a chain recorded before that rule stops here)
        seen.add(parent.id)
    return chain


def dependents(c: Container, actor: Actor, owner: str, name: str) -> list[Dependent]:
    """Templates whose default branch extends this one, those the caller may read, with what
    their ref resolves to and whether the newest version satisfies it."""
    template = guard.template(c, actor, owner, name, Level.READ)
    rows = [(t, asked) for t, asked in c.meta.templates.dependents(template.full_name)[:MAX_DEPENDENTS]
            if readable(c, actor, t)]
    out: list[Dependent] = []
    with c.open_repo(template) as repo:
        latest = versions.newest(repo)
        latest_sha = _commit(repo, repo.doc.refs[f"refs/tags/{latest}"]) if latest else None
        for t, asked in rows:
            found = resolve(repo, asked)
            out.append(Dependent(t, asked, found, satisfies(asked, found, latest, latest_sha)))
    return out


def satisfies(asked: str, found: Resolved | None, latest: str | None, latest_sha: str | None) -> bool | None:
    """Whether a dependent asking for `asked` gets the parent's newest version `latest`."""
    if latest is None:
        return None
    if versions.is_range(asked):
        try:
            return versions.matches(asked, latest)
        except InvalidInput:
            return False
    return found is not None and found.sha == latest_sha and (found.ref is None or found.ref == latest)


def forks(c: Container, actor: Actor, owner: str, name: str) -> list[Fork]:
    """The fork network the template is in, from its root (the oldest readable ancestor) down,
    each with the template it was forked from; those the caller may not read are left out."""
    template = guard.template(c, actor, owner, name, Level.READ)
    root = template
    for _ in range(MAX_CHAIN * 5):
        if root.parent_id is None:
            break
        try:
            parent = c.meta.templates.get_by_id(root.parent_id)
        except TemplateNotFound:
            break
        if not readable(c, actor, parent):
            break
        root = parent
    members = {t.id: t for t in c.meta.templates.forks_of(root.id)}
    members[root.id] = root
    out = [Fork(root, None)]
    for t in sorted(members.values(), key=lambda t: (t.created_at, t.id)):
        if t.id != root.id and readable(c, actor, t):
            parent_t = members.get(t.parent_id or "")
            out.append(Fork(t, parent_t if parent_t is not None and readable(c, actor, parent_t) else root))
    return out


def version_kinds(c: Container, actor: Actor, owner: str, name: str) -> dict[str, semver.Verdict]:
    """Each version's kind of change from the release before it (what its `semver` check
    judged): `initial` for the first; a pre-release is compared with the release before it."""
    template = guard.template(c, actor, owner, name, Level.READ)
    with c.open_repo(template) as repo:
        tags = [(v, name) for name in (r.removeprefix("refs/tags/") for r in repo.doc.refs if r.startswith("refs/tags/"))
                if (v := versions.parse(name)) is not None]
    out: dict[str, semver.Verdict] = {}
    manifests: dict[str, Any] = {}
    previous: str | None = None
    for parsed, tag in sorted(tags)[-MAX_VERSIONS:]:
        manifests[tag] = _manifest(c, template, f"refs/tags/{tag}")
        out[tag] = semver.compare(manifests[previous], manifests[tag]) if previous else semver.Verdict("initial")
        if not parsed.prerelease:
            previous = tag
    return out


@dataclass(frozen=True)
class VersionRun:
    """How the sandbox run of one version went (None where it has no finished run)."""

    version: str
    sha: str
    state: str | None
    pass_rate: float | None
    duration_s: float | None
    cost_usd: float | None
    run_id: str | None


def version_runs(c: Container, actor: Actor, owner: str, name: str, limit: int = 10) -> list[VersionRun]:
    """The last `limit` versions, oldest first, each with its push-triggered sandbox run (of the
    commit, or of an annotated tag's object, whichever has one)."""
    template = guard.template(c, actor, owner, name, Level.READ)
    with c.open_repo(template) as repo:
        tagged = sorted((v, ref.removeprefix("refs/tags/"), sha) for ref, sha in repo.doc.refs.items()
                        if ref.startswith("refs/tags/") and (v := versions.parse(ref.removeprefix("refs/tags/"))))
        shas = [(tag, obj, commit) for _, tag, obj in tagged[-limit:] if (commit := _commit(repo, obj))]
    out = []
    for tag, obj, commit in shas:
        run = c.meta.checks.find_run(template.id, commit, "push") or c.meta.checks.find_run(template.id, obj, "push")
        report = run.report if run is not None and run.final else None
        total = sum(int(report.get(k, 0)) for k in ("passed", "failed", "errors")) if report else 0
        out.append(VersionRun(
            tag, commit, run.state if run else None,
            int(report.get("passed", 0)) / total if report and total else None,
            float(run.metrics["duration_s"]) if run and run.final and "duration_s" in run.metrics else None,
            float(run.cost["total_usd"]) if run and run.final and "total_usd" in run.cost else None,
            run.id if run else None))
    return out


def _commit(repo: TemplateRepo, sha: str) -> str | None:
    try:
        return browse.resolve_commit(repo, sha).id.decode()
    except NotFound:  # a tag of a tree or a blob
        return None


def _manifest(c: Container, template: Template, ref: str) -> Any:
    try:
        with manifest_at(c, template, ref) as checked:
            return checked.manifest or {}
    except NotFound:
        return {}


def flow_graph(manifest: dict[str, Any]) -> Graph:
    """The flow of a resolved manifest (as the template page has it)."""
    return flow.flow(manifest)


def svg(graph: Graph, css_id: str) -> str | None:
    """A graph as SVG markup (escaped throughout), or None when it cannot be drawn."""
    return draw.svg(graph, css_id)


def diagram(c: Container, actor: Actor, owner: str, name: str, ref: str | None = None) -> str:
    """The flow of the template at `ref` (default: its default branch) as Mermaid source."""
    template = guard.template(c, actor, owner, name, Level.READ)
    with c.open_repo(template) as repo:
        at = ref or repo.default_branch
    with manifest_at(c, template, at) as checked:
        manifest = checked.manifest
    if not isinstance(manifest, dict):
        raise PathNotFound(f"{template.full_name} has no template.json at {at}")
    return flow.mermaid(flow.flow(manifest))


def dependency_graph(template: Template, chain: list[Link], users: list[Dependent]) -> Graph:
    """The chain above the template and its dependents below, as one graph to draw."""
    g = Graph(title=f"Dependencies of {template.full_name}")
    me = g.add("current", template.full_name, "this template")
    below = me
    for link in chain:
        at = link.resolved.ref or link.resolved.sha[:12] if link.resolved else "unresolved"
        node = g.add("template", link.template.full_name, f"extended at {link.asked} (now {at})")
        g.link(below, node, f"extends {link.asked}")
        below = node
    for d in users:
        verdict = "the newest version satisfies it" if d.satisfied_by_latest else \
            "behind the newest version" if d.satisfied_by_latest is False else "no version yet"
        node = g.add("template", d.template.full_name, f"extends it at {d.asked}: {verdict}")
        g.link(node, me, f"extends {d.asked}")
    return g


def fork_graph(template: Template, network: list[Fork]) -> Graph:
    g = Graph(title=f"Fork network of {template.full_name}")
    ids: dict[str, str] = {}
    for f in network:
        desc = "this template" if f.template.id == template.id else \
            f"forked from {f.parent.full_name}" if f.parent else "the network's root"
        ids[f.template.id] = g.add("current" if f.template.id == template.id else "template", f.template.full_name, desc)
        if f.parent is not None and f.parent.id in ids:
            g.link(ids[f.parent.id], ids[f.template.id], "fork")
    return g
