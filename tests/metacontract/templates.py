"""meta.templates: templates, forks, collaborators, protection, and what a template's deletion takes with it."""
from __future__ import annotations

import pytest

from registry.errors import AlreadyExists, PullNotFound, RunNotFound, TemplateNotFound
from registry.meta import Protection, Template, Visibility

from .support import SHA, add_template


class TestTemplateRepository:
    def test_templates_are_unique_per_owner_listed_with_totals_and_filtered(self, meta):
        for owner, name in [("bob", "b"), ("alice", "z"), ("alice", "a")]:
            add_template(meta, owner, name)
        with pytest.raises(AlreadyExists):
            add_template(meta, "alice", "a", tid="other-id")
        items, total = meta.templates.page(None, 0, 2)
        assert total == 3 and [t.full_name for t in items] == ["alice/a", "alice/z"]
        items, total = meta.templates.page(None, 2, 2)
        assert total == 3 and [t.full_name for t in items] == ["bob/b"]
        items, total = meta.templates.page("alice", 0, 10)
        assert total == 2 and {t.owner for t in items} == {"alice"}
        assert meta.templates.get("alice", "a") == meta.templates.get_by_id("alice-a")
        with pytest.raises(TemplateNotFound):
            meta.templates.get("alice", "nope")
        with pytest.raises(TemplateNotFound):
            meta.templates.get_by_id("nope")

    def test_touch_moves_updated_at_and_update_changes_only_what_is_given(self, meta):
        add_template(meta)
        meta.templates.touch("alice-t")
        assert meta.templates.get_by_id("alice-t").updated_at > 1.0
        changed = meta.templates.update("alice-t", visibility="private")
        assert changed.visibility == "private" and changed.description == "d"
        assert meta.templates.update("alice-t", description="e").description == "e"

    def test_forks_of_follows_forks_of_forks(self, meta):
        add_template(meta, "alice", "root")
        add_template(meta, "bob", "root", parent="alice-root")
        add_template(meta, "carol", "root", parent="bob-root")
        add_template(meta, "dave", "other")
        assert {t.id for t in meta.templates.forks_of("alice-root")} == {"bob-root", "carol-root"}
        assert meta.templates.forks_of("dave-other") == []

    def test_collaborators_upsert_and_names(self, meta):
        add_template(meta)
        bob, carol = meta.users.add("bob", None, False), meta.users.add("carol", None, False)
        meta.templates.set_collaborator("alice-t", bob.id, "reader")
        meta.templates.set_collaborator("alice-t", bob.id, "writer")  # an upsert, not a second row
        meta.templates.set_collaborator("alice-t", carol.id, "maintainer")
        assert meta.templates.collaborator_role("alice-t", bob.id) == "writer"
        assert meta.templates.collaborator_names("alice-t") == ["bob", "carol"]
        assert meta.templates.collaborator_roles("alice-t") == {"bob": "writer", "carol": "maintainer"}
        meta.templates.remove_collaborator("alice-t", bob.id)
        assert meta.templates.collaborator_role("alice-t", bob.id) is None
        assert meta.templates.collaborator_names("alice-t") == ["carol"]

    def test_protection_roundtrip_upsert_and_delete(self, meta):
        add_template(meta)
        rule = Protection("main", False, False, ("validate",), 1)
        meta.templates.set_protection("alice-t", rule)
        assert meta.templates.get_protection("alice-t", "main") == rule
        meta.templates.set_protection("alice-t", Protection("main", True, True, (), 0))
        assert meta.templates.get_protection("alice-t", "main") == Protection("main", True, True, (), 0)
        assert meta.templates.get_protection("alice-t", "dev") is None
        meta.templates.delete_protection("alice-t", "main")
        assert meta.templates.get_protection("alice-t", "main") is None

    def test_listings_are_filtered_by_who_may_read_them(self, meta):
        bob = meta.users.add("bob", None, False)
        meta.users.add("alice", None, False)
        for name, visibility in (("a", "public"), ("b", "private"), ("c", "private"), ("d", "public")):
            meta.templates.add(Template(f"alice-{name}", "alice", name, visibility, "", None, 1.0, 1.0))
        meta.templates.set_collaborator("alice-c", bob.id, "reader")
        seen = lambda who, **kw: [t.name for t in meta.templates.page(None, 0, 10, who)[0]]  # noqa: E731
        assert seen(Visibility(None)) == ["a", "d"] and meta.templates.page(None, 0, 10, Visibility(None))[1] == 2
        assert seen(Visibility("bob")) == ["a", "c", "d"]
        assert seen(Visibility("alice")) == ["a", "b", "c", "d"] == seen(Visibility(None, all=True))
        page, total = meta.templates.page(None, 1, 1, Visibility(None))
        assert [t.name for t in page] == ["d"] and total == 2  # pages and totals count only what is visible

    def test_deleting_a_template_removes_everything_it_owns(self, meta):
        add_template(meta)
        bob = meta.users.add("bob", None, False)
        meta.templates.set_collaborator("alice-t", bob.id, "writer")
        meta.templates.set_protection("alice-t", Protection("main", False, False, (), 0))
        meta.checks.add_pending_statuses("alice-t", SHA, ("validate",))
        meta.activity.set_star("alice-t", bob.id, True)
        meta.pulls.add("alice-t", "one", "", "bob", "alice-t", "f", "main", SHA)
        run = meta.checks.add_run("alice-t", SHA, None, "push", None, "local")
        meta.templates.delete("alice-t")
        with pytest.raises(TemplateNotFound):
            meta.templates.get_by_id("alice-t")
        add_template(meta)  # the same name and id again start from nothing
        assert meta.templates.collaborator_role("alice-t", bob.id) is None
        assert meta.templates.get_protection("alice-t", "main") is None
        assert meta.checks.get_statuses("alice-t", SHA) == [] and meta.activity.social("alice-t") == (0, 0.0, 0)
        with pytest.raises(PullNotFound):
            meta.pulls.get("alice-t", 1)
        with pytest.raises(RunNotFound):
            meta.checks.get_run(run.id)


class TestDependencyRecords:
    def test_extends_is_recorded_per_template_and_read_back_by_parent(self, meta):
        for owner, name in [("alice", "base"), ("bob", "child"), ("carol", "child"), ("dave", "other")]:
            add_template(meta, owner, name)
        meta.templates.set_extends("carol-child", "alice/base", "~1.2", SHA)
        meta.templates.set_extends("bob-child", "alice/base", "v1.0.0", SHA)
        meta.templates.set_extends("dave-other", "bob/child", "main", SHA)
        assert [(t.full_name, ref) for t, ref in meta.templates.dependents("alice/base")] == [
            ("bob/child", "v1.0.0"), ("carol/child", "~1.2")]
        meta.templates.set_extends("bob-child", "alice/base", "^2", SHA)  # an upsert
        meta.templates.set_extends("carol-child", None, "", SHA)  # no longer extends anything
        assert [(t.full_name, ref) for t, ref in meta.templates.dependents("alice/base")] == [("bob/child", "^2")]
        meta.templates.delete("bob-child")
        assert meta.templates.dependents("alice/base") == []
        assert [t.full_name for t, _ in meta.templates.dependents("bob/child")] == ["dave/other"]

    def test_update_pulls_is_on_until_turned_off(self, meta):
        add_template(meta)
        assert meta.templates.get_by_id("alice-t").update_pulls is True
        assert meta.templates.update("alice-t", update_pulls=False).update_pulls is False
        assert meta.templates.get("alice", "t").update_pulls is False
        assert meta.templates.update("alice-t", description="x").update_pulls is False
