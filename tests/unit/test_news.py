"""Change notifications (services/news): which events a template page and a pull request's page
hear, judged for the reader when delivered, read from where the page left off."""
from __future__ import annotations

from registry.services import merging, news, pulls, templates
from registry.services.commits import Change, commit_changes
from tests.unit.usecases import World


def test_a_page_hears_its_templates_pushes_reviews_comments_and_checks_and_nothing_else(tmp_path):
    w = World.make(tmp_path)
    templates.create(w.c, w.alice, "risk")
    templates.create(w.c, w.bob, "other")
    first = commit_changes(w.c, w.alice, "alice", "risk", "main", None, "one", [Change("a.md", b"a\n")]).sha
    since = news.since(w.c)
    page = news.watch(w.c, w.carol, "alice", "risk")
    commit_changes(w.c, w.alice, "alice", "risk", "main", first, "two", [Change("a.md", b"b\n")])
    commit_changes(w.c, w.bob, "bob", "other", "main", None, "elsewhere", [Change("x.md", b"x\n")])
    feature = commit_changes(w.c, w.alice, "alice", "risk", "main", _tip(w), "three", [Change("b.md", b"b\n")],
                             new_branch="feature")
    pull = pulls.open_pull(w.c, w.alice, "alice", "risk", "Feature", "", "feature", "main")
    merging.comment(w.c, w.bob, "alice", "risk", pull.number, "Looks good", None, None, "RIGHT")
    merging.review(w.c, w.bob, "alice", "risk", pull.number, "APPROVE", "ok", [])
    heard = [item for e in news.read(w.c, since) if (item := news.news(w.c, w.carol, page, e, "alice", "risk")) is not None]
    texts = [h["text"] for h in heard]
    assert texts == ["alice pushed to main", "alice pushed to feature", "alice opened pull request #1",
                     "bob commented on #1", "bob reviewed #1: approved"], texts
    assert heard[-1]["url"] == f"/alice/risk/pulls/{pull.number}"
    one_pull = news.watch(w.c, w.carol, "alice", "risk", pull.number)
    about = [news.news(w.c, w.carol, one_pull, e, "alice", "risk") for e in news.read(w.c, since)]
    assert [a["text"] for a in about if a] == ["alice pushed to feature", "alice opened pull request #1",
                                               "bob commented on #1", "bob reviewed #1: approved"]
    assert feature.branch == "feature"
    templates.update(w.c, w.alice, "alice", "risk", visibility="private")  # carol may no longer read it
    assert all(news.news(w.c, w.carol, page, e, "alice", "risk") is None for e in news.read(w.c, since))


def _tip(w: World) -> str:
    with w.c.open_repo(w.c.meta.templates.get("alice", "risk")) as repo:
        return repo.doc.refs["refs/heads/main"]
