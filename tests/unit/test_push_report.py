"""A push reports `ok` for a ref exactly when the ref holds what was pushed, whatever fails and
wherever: the database before the refs move (nothing stored, a reason git prints), or anything
after they moved (reported ok, and announced as a landed push once)."""
from __future__ import annotations

import io
from dataclasses import replace

import pytest

from registry.container import Listeners
from registry.errors import Unavailable
from registry.git.repo import TemplateRepo
from registry.meta import EventFilter
from registry.services import push, templates
from tests.gitcli import pkt
from tests.packs import BLOB, COMMIT, TREE, commit, entry, pack, sha, tree
from tests.unit.usecases import World

ZERO = "0" * 40


@pytest.fixture
def w(tmp_path) -> World:
    return World.make(tmp_path)


def _push_body(message: bytes = b"first\n") -> tuple[bytes, str]:
    """A receive-pack request creating refs/heads/main with one commit, and that commit's sha."""
    blob = b"hello\n"
    t = tree((b"100644", b"README.md", sha(BLOB, blob)))
    c = commit(sha(TREE, t), message=message)
    commands = pkt(f"{ZERO} {sha(COMMIT, c)} refs/heads/main\0report-status\n".encode()) + b"0000"
    return commands + pack(entry(BLOB, blob), entry(TREE, t), entry(COMMIT, c)), sha(COMMIT, c)


def _report(w: World, template, body: bytes) -> list[str]:
    out = io.BytesIO()
    push.serve(w.c, w.alice, template, "git-receive-pack", io.BytesIO(body), out)
    data, lines = out.getvalue(), []
    while data[:4] not in (b"", b"0000"):
        size = int(data[:4], 16)
        lines.append(data[4:size].decode().rstrip("\n"))
        data = data[size:]
    return lines


def _pushes(w: World, template) -> int:
    return w.c.meta.events.page(EventFilter(template_id=template.id, action="push"), 0, 100)[1]


def _main(w: World, template) -> str | None:
    with w.c.open_repo(template) as repo:
        return repo.stored_refs().get("refs/heads/main")


def test_a_push_that_lands_reports_ok(w):
    template = templates.create(w.c, w.alice, "risk")
    body, head = _push_body()
    assert _report(w, template, body) == ["unpack ok", "ok refs/heads/main"]
    assert _main(w, template) == head and _pushes(w, template) == 1


def test_database_down_before_the_refs_move_stores_nothing_and_says_why(w, monkeypatch):
    template = templates.create(w.c, w.alice, "risk")

    def down(*args, **kwargs):
        raise Unavailable("the database is unavailable (connection refused); try again shortly")

    monkeypatch.setattr(w.c.meta.templates, "get_protection", down)
    report = _report(w, template, _push_body()[0])
    assert report[0] == "unpack server error"
    assert report[1].startswith("ng refs/heads/main storage unavailable: the database is unavailable")
    assert report[1].endswith("nothing was stored")
    assert _main(w, template) is None and _pushes(w, template) == 0


def test_a_failure_after_the_refs_moved_reports_ok_and_announces_once(w, monkeypatch):
    template = templates.create(w.c, w.alice, "risk")
    heard = []
    w.c = replace(w.c, listeners=Listeners(push=(lambda t, updates: heard.append([u.new for u in updates]),)))
    real = TemplateRepo.commit_updates

    def lands_then_fails(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise Unavailable("the database is unavailable (server closed the connection); try again shortly")

    monkeypatch.setattr(TemplateRepo, "commit_updates", lands_then_fails)
    body, head = _push_body()
    assert _report(w, template, body) == ["unpack ok", "ok refs/heads/main"]
    assert _main(w, template) == head
    assert heard == [[head]] and _pushes(w, template) == 1


def test_when_the_refs_cannot_be_read_back_the_report_says_the_outcome_is_unknown(w, monkeypatch):
    template = templates.create(w.c, w.alice, "risk")

    def fails(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(TemplateRepo, "commit_updates", fails)
    monkeypatch.setattr(TemplateRepo, "stored_refs", fails)
    report = _report(w, template, _push_body()[0])
    assert report == ["unpack ok", "ng refs/heads/main the server failed to process this push; "
                      "whether it was stored is unknown: fetch to see"]


def test_a_failure_before_the_refs_move_never_claims_a_ref_another_push_set(w, monkeypatch):
    template = templates.create(w.c, w.alice, "risk")
    heard = []
    w.c = replace(w.c, listeners=Listeners(push=(lambda t, updates: heard.append([u.new for u in updates]),)))
    body, head = _push_body()
    assert _report(w, template, body)[1] == "ok refs/heads/main"

    def fails(self, *args, **kwargs):
        raise RuntimeError("boom")

    # The same push again, failing before its write: the ref holds its sha (the first push's), yet
    # this push stored nothing and must not say ok, nor be announced a second time.
    monkeypatch.setattr("registry.git.service.is_rewrite", fails)
    monkeypatch.setattr(TemplateRepo, "ref_value", lambda self, ref: ZERO)  # as read before the first landed
    report = _report(w, template, body)
    assert report[1].startswith("ng refs/heads/main") and report[1].endswith("nothing was stored")
    assert heard == [[head]] and _pushes(w, template) == 1
