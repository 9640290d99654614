"""Gallery, checks and runs use cases on an in-process container, and the pure functions
behind merges, run judging and diffs."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from registry.container import Listeners
from registry.errors import InvalidInput, PermissionDenied, Unauthenticated
from registry.jsonmerge import merge3
from registry.meta import Run
from registry.sandbox.base import Backend, Outcome
from registry.services import checks, gallery, runs, templates
from tests.unit.usecases import World, manifest_files


@pytest.fixture
def w(tmp_path) -> World:
    return World.make(tmp_path)


def test_checks_validate_index_and_sandbox_a_pushed_tip(w):
    t = templates.create(w.c, w.alice, "risk")
    sha = w.commit(t, manifest_files(tags=["credit"]))
    assert checks.record_tips(w.c, t) == {sha: list(checks.CONTEXTS)}  # no queue listened: caught up
    assert checks.record_tips(w.c, t) == {}
    states = {ctx: checks.run(w.c, ctx, t.id, sha) for ctx in checks.CONTEXTS}
    assert {ctx: s.state for ctx, s in states.items() if s} == {
        "validate": "success", "index": "success", "sandbox": "success"}
    found = gallery.search(w.c, w.anon, q="credit risk")
    assert [hit.name for hit in found.results] == ["risk"]


def test_a_bad_manifest_fails_validate_with_every_problem_and_skips_the_sandbox(w):
    t = templates.create(w.c, w.alice, "bad")
    sha = w.commit(t, {"template.json": json.dumps({"title": 5, "promptConfig": 1}).encode()})
    status = checks.run(w.c, "validate", t.id, sha)
    assert status is not None and status.state == "failure" and len(status.problems) > 1
    assert f"(+{len(status.problems) - 1} more)" in status.description
    sandbox = checks.run(w.c, "sandbox", t.id, sha)
    assert sandbox is not None and sandbox.state == "failure" and "did not validate" in sandbox.description


def test_a_check_of_a_deleted_template_reports_nothing(w):
    t = templates.create(w.c, w.alice, "gone")
    sha = w.commit(t, manifest_files())
    templates.delete(w.c, w.alice, "alice", "gone")
    assert checks.run(w.c, "validate", t.id, sha) is None


def test_search_hides_private_templates_from_those_who_cannot_read_them(w):
    t = templates.create(w.c, w.alice, "secret", visibility="private")
    sha = w.commit(t, manifest_files())
    checks.run(w.c, "index", t.id, sha)
    # bob can read no template at all: an empty set of candidates must not mean "no filter"
    assert gallery.search(w.c, w.bob, q="risk").total == 0
    assert gallery.search(w.c, w.anon, q="risk").total == 0
    assert gallery.search(w.c, w.alice, q="risk").total == 1
    templates.set_collaborator(w.c, w.alice, "alice", "secret", "bob", "reader")
    assert gallery.search(w.c, w.bob, q="risk").total == 1
    assert gallery.reindex(w.c) == 1


def test_stars_and_ratings(w):
    t = templates.create(w.c, w.alice, "risk")
    w.commit(t, manifest_files())
    assert gallery.star(w.c, w.bob, "alice", "risk", True) == 1
    assert gallery.star(w.c, w.bob, "alice", "risk", True) == 1
    assert gallery.rate(w.c, w.bob, "alice", "risk", 4, "good") == (4.0, 1)
    with pytest.raises(Unauthenticated):
        gallery.star(w.c, w.anon, "alice", "risk", True)
    with pytest.raises(PermissionDenied):
        gallery.rate(w.c, w.carol_ro, "alice", "risk", 5, None)
    with pytest.raises(InvalidInput):
        gallery.rate(w.c, w.bob, "alice", "risk", 6, None)


class _Fixed:
    """A sandbox backend that returns a canned outcome (the real ones are tested elsewhere)."""

    name = "local"

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    def execute(self, run, payload, on_task):  # noqa: ANN001
        return self.outcome


def test_a_manual_run_is_for_writers_and_is_announced(w):
    heard: list[Run] = []
    w.c = replace(w.c, listeners=Listeners(run=(heard.append,)))
    t = templates.create(w.c, w.alice, "risk")
    sha = w.commit(t, manifest_files())
    with pytest.raises(PermissionDenied):
        runs.request(w.c, w.bob, "alice", "risk", "main")
    run = runs.request(w.c, w.alice, "alice", "risk", "main")
    assert run.sha == sha and run.state == "queued" and heard == [run]
    backend: Backend = _Fixed(Outcome({"passed": 0, "cases": []}, None, 0.5, 0.1, 50.0))
    assert runs.execute(w.c, run.id, backend).state == "success"


def _outcome(cases=(), error=None) -> Outcome:
    return Outcome({"passed": sum(c["outcome"] == "passed" for c in cases), "cases": list(cases)}, error,
                   2.0, 1.0, 64.0)


def test_judge_orders_error_then_failed_cases_then_budget():
    price = {"compute_usd": 0.01, "calls_usd": 0.0, "total_usd": 0.01}
    ok = {"name": "a", "file": "tests/a.json", "outcome": "passed", "failures": []}
    bad = [{"name": n, "file": "tests/b.json", "outcome": "failed", "failures": ["missing 'x'"]} for n in "bc"]
    assert runs.judge(_outcome([ok]), price, None)[0] == "success"
    state, summary, failed = runs.judge(_outcome([ok, *bad]), price, None)
    assert state == "failure" and summary.startswith("case 'b' (tests/b.json) failed: missing 'x'")
    assert summary.endswith("(+1 more)") and len(failed) == 2
    assert runs.judge(_outcome([ok]), price, 0.001)[1].startswith("over budget")
    assert runs.judge(_outcome([ok], error="killed: out of memory"), price, None)[0] == "error"


def test_merge3_by_json_path():
    base = {"title": "a", "tags": ["x"], "mcpServers": [{"serverId": "s1", "url": "u"}]}
    ours = {**base, "title": "b"}
    theirs = {**base, "tags": ["x", "y"], "mcpServers": [{"serverId": "s1", "url": "v"}, {"serverId": "s2"}]}
    merged, conflicts = merge3(base, ours, theirs)
    assert conflicts == [] and merged["title"] == "b" and merged["tags"] == ["x", "y"]
    assert merged["mcpServers"] == [{"serverId": "s1", "url": "v"}, {"serverId": "s2"}]
    _, conflicts = merge3(base, {**base, "title": "b"}, {**base, "title": "c"})
    assert conflicts == ["$.title"]
    removed, conflicts = merge3(base, {k: v for k, v in base.items() if k != "tags"}, base)
    assert conflicts == [] and "tags" not in removed


def test_file_changes_and_structured_manifest_diff(w):
    from registry.git.diff import file_changes

    t = templates.create(w.c, w.alice, "risk")
    first = w.commit(t, {**manifest_files(), "README.md": b"one\n", "logo.bin": b"\x00\xff"})
    second = w.commit(t, {**manifest_files(title="New"), "README.md": b"two\n"})
    with w.c.open_repo(t) as repo:
        changes = {c["path"]: c for c in file_changes(repo, first.encode(), second.encode())}
    assert changes["README.md"]["status"] == "modified" and "-one\n+two\n" in changes["README.md"]["patch"]
    assert changes["logo.bin"]["status"] == "removed" and changes["logo.bin"]["binary"]
    assert changes["template.json"]["manifest_changes"] == [
        {"path": "$.title", "kind": "changed", "old": "Quarterly risk report writer", "new": "New"}]


def test_lifecycle_follows_the_manifest_and_validate(w):
    draft = templates.create(w.c, w.alice, "draft-one")
    sha = w.commit(draft, manifest_files(status="draft"))
    checks.run(w.c, "index", draft.id, sha)
    broken = templates.create(w.c, w.alice, "broken-one")
    sha = w.commit(broken, manifest_files(title=5))
    checks.run(w.c, "index", broken.id, sha)
    assert gallery.search(w.c, w.bob, q="risk").total == 0
    assert [h.name for h in gallery.search(w.c, w.bob, q="risk", status="any").results] == ["broken-one"]
    mine = gallery.search(w.c, w.alice, owner="alice")
    assert {(h.name, h.status, h.valid) for h in mine.results} == {
        ("draft-one", "draft", True), ("broken-one", "published", False)}


def test_an_index_from_an_older_schema_is_rebuilt(w, tmp_path):
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, Schema

    from registry.search import WhooshIndex

    t = templates.create(w.c, w.alice, "kept")
    w.commit(t, manifest_files())
    old = tmp_path / "old-index"
    old.mkdir()
    whoosh_index.create_in(str(old), Schema(id=ID(unique=True, stored=True)))
    w.c = replace(w.c, _search=[WhooshIndex(old)])
    assert w.c.search.needs_rebuild and w.c.search.count() == 0
    assert gallery.ensure_index(w.c) == 1
    assert gallery.search(w.c, w.anon, q="risk").total == 1 and gallery.ensure_index(w.c) is None


def test_an_index_without_the_excerpt_is_rebuilt_and_then_shows_it(w, tmp_path):
    """Today's schema but for one field (an index of the release before excerpts): made anew."""
    from whoosh import index as whoosh_index
    from whoosh.fields import Schema

    from registry.search import WhooshIndex
    from registry.search.whoosh_schema import schema

    t = templates.create(w.c, w.alice, "excerpted")
    w.commit(t, manifest_files())
    old = tmp_path / "before-excerpts"
    old.mkdir()
    whoosh_index.create_in(str(old), Schema(**{name: field for name, field in schema().items() if name != "excerpt"}))
    w.c = replace(w.c, _search=[WhooshIndex(old)])
    assert w.c.search.needs_rebuild
    assert WhooshIndex(old).needs_rebuild  # another process opening it after it was made anew owes it too
    assert gallery.ensure_index(w.c) == 1 and not WhooshIndex(old).needs_rebuild  # the next start keeps it
    [hit] = gallery.search(w.c, w.anon, q="risk").results
    assert hit.excerpt == "You are a careful credit risk analyst. Summarise the risk of {{ portfolio }} for {{ quarter }}."


def test_the_excerpt_is_the_system_prompt_then_the_user_prompt_read_from_files(w):
    t = templates.create(w.c, w.alice, "from-files")
    config = {"systemPrompt": {"file": "prompts/system.md"}, "userPromptTemplate": {"file": "prompts/user.md"},
              "format": "text"}
    files = manifest_files(promptConfig=config) | {
        "prompts/system.md": b"# Role\n\nYou   answer {in braces}.\n",
        "prompts/user.md": ("Question: " + "\u00e9t\u00e9 " * 100).encode()}
    sha = w.commit(t, files)
    checks.run(w.c, "index", t.id, sha)
    [hit] = gallery.search(w.c, w.anon, owner="alice", q="braces").results
    assert hit.excerpt.startswith("# Role You answer {in braces}. Question: \u00e9t\u00e9 \u00e9t\u00e9")
    assert hit.excerpt.endswith("\u00e9t\u00e9…") and len(hit.excerpt) <= 201


def test_drafts_are_seen_by_those_who_may_write_to_them(w):
    t = templates.create(w.c, w.alice, "shared-draft")
    sha = w.commit(t, manifest_files(status="draft"))
    checks.run(w.c, "index", t.id, sha)
    assert gallery.search(w.c, w.bob, status="draft").total == 0
    templates.set_collaborator(w.c, w.alice, "alice", "shared-draft", "bob", "writer")
    assert [h.name for h in gallery.search(w.c, w.bob, status="draft").results] == ["shared-draft"]
    templates.set_collaborator(w.c, w.alice, "alice", "shared-draft", "bob", "reader")
    assert gallery.search(w.c, w.bob, status="draft").total == 0
