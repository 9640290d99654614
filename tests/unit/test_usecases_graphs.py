"""Dependencies, dependents, forks and the flow diagram (services/graphs.py), the `semver` check
on version tags and the update pull requests it leads to (services/updates.py), on an
in-process container."""
from __future__ import annotations

import json

import pytest

from registry.errors import InvalidInput, TemplateNotFound
from registry.git import browse
from registry.git.policy import RefUpdate
from registry.meta import EventFilter
from registry.services import checks, graphs, pulls, templates, updates
from registry.services import push as push_service
from tests.unit.usecases import MINIMAL, World, manifest_files


@pytest.fixture
def w(tmp_path) -> World:
    return World.make(tmp_path)


def _tag(w: World, t, name: str, sha: str) -> None:
    ref = f"refs/tags/{name}"
    with w.c.open_repo(t) as repo:
        repo.commit_updates({ref: sha}, {ref: repo.ref_value(ref)})
    push_service.landed(w.c, t, [RefUpdate(ref, "0" * 40, sha)])


def _extending(parent: str, ref: str, **changes) -> dict[str, bytes]:
    return manifest_files(extends={"template": parent, "ref": ref}, **changes)


def _params(*names: str, required: bool = False) -> dict:
    config = dict(MINIMAL["promptConfig"])
    config["parameters"] = list(config.get("parameters", [])) + [
        {"name": n, "type": "string", "required": required} for n in names]
    return config


def _index(w: World, t, sha: str) -> None:
    assert checks.run(w.c, "index", t.id, sha).state == "success"


def _release(w: World, t, tag: str, **changes) -> str:
    sha = w.commit(t, manifest_files(**changes), message=f"release {tag}\n")
    _tag(w, t, tag, sha)
    return sha


def test_a_chain_resolves_each_ref_and_a_diamond_lists_both_dependents(w):
    base = templates.create(w.c, w.alice, "base")
    v1 = _release(w, base, "v1.0.0")
    v11 = _release(w, base, "v1.1.0", promptConfig=_params("tone"))
    mid = templates.create(w.c, w.bob, "mid")
    mid_sha = w.commit(mid, _extending("alice/base", "^1.0"))
    _tag(w, mid, "2.0.0", mid_sha)
    _index(w, mid, mid_sha)
    top = templates.create(w.c, w.carol, "top")
    _index(w, top, w.commit(top, _extending("bob/mid", "2.0.0")))
    side = templates.create(w.c, w.carol, "side")
    _index(w, side, w.commit(side, _extending("alice/base", v1)))  # pinned to a commit
    chain = graphs.dependencies(w.c, w.anon, "carol", "top")
    assert [(link.template.full_name, link.asked, link.resolved.ref, link.resolved.sha) for link in chain] == [
        ("bob/mid", "2.0.0", "2.0.0", mid_sha), ("alice/base", "^1.0", "v1.1.0", v11)]
    users = graphs.dependents(w.c, w.anon, "alice", "base")
    assert [(d.template.full_name, d.asked, d.resolved.sha, d.satisfied_by_latest) for d in users] == [
        ("bob/mid", "^1.0", v11, True), ("carol/side", v1, v1, False)]
    assert [d.template.full_name for d in graphs.dependents(w.c, w.anon, "bob", "mid")] == ["carol/top"]
    drawn = graphs.dependency_graph(mid, graphs.dependencies(w.c, w.anon, "bob", "mid"),
                                    graphs.dependents(w.c, w.anon, "bob", "mid"))
    assert [n.label for n in drawn.nodes] == ["bob/mid", "alice/base", "carol/top"]


def test_a_cycle_is_refused_at_validate_time(w):
    a, b = templates.create(w.c, w.alice, "a"), templates.create(w.c, w.alice, "b")
    w.commit(a, manifest_files())
    b_sha = w.commit(b, _extending("alice/a", "main"))
    a_sha = w.commit(a, _extending("alice/b", "main"))
    for t, sha in ((a, a_sha), (b, b_sha)):
        status = checks.run(w.c, "validate", t.id, sha)
        assert status.state == "failure" and "cycle" in status.description, status.description
    assert len(graphs.dependencies(w.c, w.alice, "alice", "a")) <= graphs.MAX_CHAIN  # and the walk ends


def test_private_templates_appear_only_to_their_readers(w):
    base = templates.create(w.c, w.alice, "hidden-base", visibility="private")
    _release(w, base, "1.0.0")
    child = templates.create(w.c, w.alice, "open-child")
    _index(w, child, w.commit(child, _extending("alice/hidden-base", "^1")))
    secret = templates.create(w.c, w.alice, "secret-child", visibility="private")
    _index(w, secret, w.commit(secret, _extending("alice/hidden-base", "^1")))
    assert graphs.dependencies(w.c, w.anon, "alice", "open-child") == []  # the chain stops before it
    assert [link.template.full_name for link in graphs.dependencies(w.c, w.alice, "alice", "open-child")] == [
        "alice/hidden-base"]
    with pytest.raises(TemplateNotFound):
        graphs.dependents(w.c, w.bob, "alice", "hidden-base")
    assert {d.template.full_name for d in graphs.dependents(w.c, w.alice, "alice", "hidden-base")} == {
        "alice/open-child", "alice/secret-child"}
    pub = templates.create(w.c, w.alice, "pub")
    _release(w, pub, "1.0.0")
    _index(w, secret, w.commit(secret, _extending("alice/pub", "^1")))
    assert graphs.dependents(w.c, w.bob, "alice", "pub") == []  # bob may not read the private dependent


def test_the_fork_network_from_its_root(w):
    root = templates.create(w.c, w.alice, "net")
    w.commit(root, manifest_files())
    fork = templates.fork(w.c, w.bob, "alice", "net")
    templates.fork(w.c, w.carol, "bob", "net", new_name="net2")
    network = graphs.forks(w.c, w.anon, "carol", "net2")
    assert [(f.template.full_name, f.parent.full_name if f.parent else None) for f in network] == [
        ("alice/net", None), ("bob/net", "alice/net"), ("carol/net2", "bob/net")]
    assert [n.label for n in graphs.fork_graph(fork, network).nodes] == ["alice/net", "bob/net", "carol/net2"]


def test_the_diagram_is_mermaid_of_the_resolved_manifest(w):
    t = templates.create(w.c, w.alice, "drawn")
    with pytest.raises(Exception):  # noqa: B017  an empty template has no flow
        graphs.diagram(w.c, w.anon, "alice", "drawn")
    w.commit(t, manifest_files())
    source = graphs.diagram(w.c, w.anon, "alice", "drawn")
    assert source.startswith("flowchart TD") and "User prompt" in source


def _semver(w: World, t, sha: str):
    status = checks.run(w.c, "semver", t.id, sha)
    assert status is not None
    return status


def test_version_tags_owe_a_semver_check_and_it_says_which_field_breaks(w):
    t = templates.create(w.c, w.alice, "lib")
    v1 = w.commit(t, manifest_files(promptConfig=_params("tone", "audience")))
    assert checks.record_push(w.c.meta, t, [RefUpdate("refs/heads/main", "0" * 40, v1)]) == {v1: list(checks.CONTEXTS)}
    _tag(w, t, "v1.0.0", v1)
    tag = RefUpdate("refs/tags/v1.0.0", "0" * 40, v1)
    assert checks.record_push(w.c.meta, t, [tag]) == {v1: [checks.SEMVER]}  # the branch's checks are there
    assert _semver(w, t, v1).description == "v1.0.0: the first version"
    v11 = w.commit(t, manifest_files(promptConfig=_params("tone")))  # audience removed
    _tag(w, t, "v1.1.0", v11)
    status = _semver(w, t, v11)
    assert status.state == "failure"
    assert "needs 2.0.0" in status.description and "$.promptConfig.parameters[audience]" in status.description
    assert status.problems == [{"path": "$.promptConfig.parameters[audience]",
                                "message": "parameter 'audience' was removed"}]
    v2 = w.commit(t, manifest_files(promptConfig=_params("mood")))
    _tag(w, t, "2.0.0", v2)
    assert _semver(w, t, v2).state == "success"
    v21 = w.commit(t, manifest_files(promptConfig=_params("mood", "extra")))
    _tag(w, t, "2.1.0", v21)
    assert _semver(w, t, v21).description == "2.1.0: minor change from 2.0.0 (minor bump)"
    branch_only = w.commit(t, manifest_files(), branch="feature")
    assert checks.record_tips(w.c, t)[branch_only] == list(checks.CONTEXTS)
    assert checks.record_tips(w.c, t) == {}
    kinds = {v: verdict.kind for v, verdict in graphs.version_kinds(w.c, w.anon, "alice", "lib").items()}
    assert kinds == {"v1.0.0": "initial", "v1.1.0": "major", "2.0.0": "major", "2.1.0": "minor"}


def _bot_pulls(w: World, t):
    items, _ = pulls.list_pulls(w.c, w.admin, t.owner, t.name, "all", 1, 100)
    return sorted((p for p in items if p.author == updates.BOT), key=lambda p: p.number)


def test_a_new_version_opens_one_update_pull_request_and_the_next_supersedes_it(w):
    base = templates.create(w.c, w.alice, "up-base")
    v1 = _release(w, base, "v1.0.0", promptConfig=_params("tone"))
    _semver(w, base, v1)
    pinned = templates.create(w.c, w.bob, "pinned")
    _index(w, pinned, w.commit(pinned, _extending("alice/up-base", "v1.0.0")))
    ranged = templates.create(w.c, w.bob, "ranged")
    _index(w, ranged, w.commit(ranged, _extending("alice/up-base", "^1.0")))
    quiet = templates.create(w.c, w.carol, "quiet")
    _index(w, quiet, w.commit(quiet, _extending("alice/up-base", "v1.0.0")))
    templates.update(w.c, w.carol, "carol", "quiet", update_pulls=False)

    v11 = _release(w, base, "v1.1.0", promptConfig=_params("tone", "extra"))
    assert _semver(w, base, v11).state == "success"
    assert _bot_pulls(w, ranged) == [] and _bot_pulls(w, quiet) == []  # ^1.0 reaches 1.1.0; opted out
    [first] = _bot_pulls(w, pinned)
    assert first.title == "Bump alice/up-base from v1.0.0 to v1.1.0" and first.state == "open"
    assert first.head_branch == "registry-bot/extends/alice/up-base/v1.1.0" and first.base_branch == "main"
    assert "optional parameter 'extra' was added" in first.body and "#### v1.1.0" in first.body
    with w.c.open_repo(pinned) as repo:
        changed = json.loads(browse.raw(repo, first.head_sha, "template.json"))
    assert changed["extends"] == {"template": "alice/up-base", "ref": "v1.1.0"}
    assert checks.run(w.c, "validate", pinned.id, first.head_sha).state == "success"  # its checks run on it
    assert _semver(w, base, v11).state == "success" and len(_bot_pulls(w, pinned)) == 1  # nothing twice
    updates.publish(w.c, checks.semver_verdict(w.c, base, v11)[1])
    assert len(_bot_pulls(w, pinned)) == 1

    v2 = _release(w, base, "v2.0.0", promptConfig=_params("mood"))
    assert _semver(w, base, v2).state == "success"
    old, new = _bot_pulls(w, pinned)
    assert (old.number, old.state) == (first.number, "closed") and new.state == "open"
    assert new.title == "Bump alice/up-base from v1.0.0 to v2.0.0" and "**major**" in new.body
    assert any(cm["body"] == f"Superseded by #{new.number}." for cm in w.c.meta.pulls.comments(pinned.id, old.number))
    [range_update] = _bot_pulls(w, ranged)
    assert range_update.title == "Bump alice/up-base from ^1.0 to ^2.0.0"
    actions = [e.action for e in w.c.meta.events.page(EventFilter(template_id=pinned.id), 0, 50)[0]]
    assert "pull_request.opened" in actions and "pull_request.closed" in actions


def test_the_bot_name_is_reserved_and_bad_ranges_are_refused(w):
    from registry.services import users
    with pytest.raises(InvalidInput):
        users.add_user(w.c, "registry-bot")
    assert updates.new_ref("~1.2", "v1.3.0") == "~1.3.0" and updates.new_ref("v1.0.0", "v2.0.0") == "v2.0.0"
    assert updates._set_ref('{\n  "extends": {"template": "a/b", "ref": "v1.0.0"},\n  "x": 1\n}\n', "v1.0.0",
                            "v2.0.0") == '{\n  "extends": {"template": "a/b", "ref": "v2.0.0"},\n  "x": 1\n}\n'
