"""Graphs against a served registry with the git CLI (issue 33): the dependency API on a chain,
the Mermaid diagram, the semver check on pushed version tags, update pull requests from
registry-bot within 30 s of the parent's tag push (the child's checks on them; superseded by the
next version; opted out per template), and the pages that draw them."""
from __future__ import annotations

import json
import time

from tests.gitcli import commit_file, git
from tests.unit.usecases import MINIMAL


def _manifest(*params: str, **extra) -> str:
    config = dict(MINIMAL["promptConfig"])
    config["parameters"] = list(config.get("parameters", [])) + [{"name": p, "type": "string"} for p in params]
    return json.dumps({**MINIMAL, "promptConfig": config, **extra}, indent=2) + "\n"


def _release(work, tag: str, text: str) -> str:
    commit_file(work, "template.json", text, f"release {tag}")
    git("tag", "-a", tag, "-m", f"{tag}: release notes", cwd=work)
    git("push", "-q", "origin", "HEAD:main", tag, cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


def _child(env, tmp_path, user: str, name: str, ref: str) -> str:
    info = env.create(name, user=user)
    work = env.clone(info["clone_url"], user, tmp_path / name)
    sha = commit_file(work, "template.json", _manifest(extends={"template": "alice/gr-base", "ref": ref}), "extend")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    assert env.check(name, sha, "index", user=user)["state"] == "success"  # the index check records the edge
    return sha


def _bot_pulls(env, user: str, name: str, wanted: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    with env.api(user) as c:
        while True:
            found = [p for p in c.get(f"/templates/{user}/{name}/pulls", params={"state": "all"}).json()
                     if p["author"] == "registry-bot"]
            if len(found) >= wanted or time.monotonic() > deadline:
                return sorted(found, key=lambda p: p["number"])
            time.sleep(0.3)


def test_dependencies_semver_checks_and_update_pull_requests(local_env, tmp_path):
    env = local_env
    info = env.create("gr-base")
    base = env.clone(info["clone_url"], "alice", tmp_path / "base")
    v1 = _release(base, "v1.0.0", _manifest("tone", "audience"))
    assert env.check("gr-base", v1, "semver")["description"] == "v1.0.0: the first version"
    _child(env, tmp_path, "bob", "gr-child", "v1.0.0")
    _child(env, tmp_path, "carol", "gr-quiet", "v1.0.0")
    with env.api("carol") as carol:
        assert carol.patch("/templates/carol/gr-quiet", json={"update_pulls": False}).json()["update_pulls"] is False
    with env.api(None) as anon:
        chain = anon.get("/templates/bob/gr-child/dependencies").json()
        assert chain == [{"template": {"owner": "alice", "name": "gr-base", "full_name": "alice/gr-base"},
                          "asked": "v1.0.0", "resolved": {"ref": "v1.0.0", "sha": v1}}]
        users = anon.get("/templates/alice/gr-base/dependents").json()
        assert [(d["template"]["full_name"], d["satisfied_by_latest"]) for d in users] == [
            ("bob/gr-child", True), ("carol/gr-quiet", True)]
        mmd = anon.get("/templates/alice/gr-base/diagram.mmd")
        assert mmd.status_code == 200 and mmd.headers["content-type"].startswith("text/vnd.mermaid")
        assert mmd.text.startswith("flowchart TD") and "tone: string" in mmd.text

    # a breaking change under a minor tag fails the check, naming the field; dependents are still told
    v11 = _release(base, "v1.1.0", _manifest("tone"))
    failed = env.check("gr-base", v11, "semver")
    assert failed["state"] == "failure" and "$.promptConfig.parameters[audience]" in failed["description"]
    assert "needs 2.0.0" in failed["description"]
    [first] = _bot_pulls(env, "bob", "gr-child", 1)
    assert first["title"] == "Bump alice/gr-base from v1.0.0 to v1.1.0" and first["state"] == "open"
    assert "parameter 'audience' was removed" in first["body"] and "v1.1.0: release notes" in first["body"]
    assert env.check("gr-child", first["head"]["sha"], "validate", user="bob")["state"] == "success"
    assert _bot_pulls(env, "carol", "gr-quiet", 1, timeout=1) == []  # opted out

    v2 = _release(base, "v2.0.0", _manifest("tone", "mood"))
    assert env.check("gr-base", v2, "semver")["state"] == "success"
    old, new = _bot_pulls(env, "bob", "gr-child", 2)
    assert old["number"] == first["number"]
    deadline = time.monotonic() + 10
    with env.api("bob") as bob:
        while bob.get(f"/templates/bob/gr-child/pulls/{old['number']}").json()["state"] != "closed":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert new["title"] == "Bump alice/gr-base from v1.0.0 to v2.0.0" and new["state"] == "open"
        events = bob.get("/templates/bob/gr-child/events", params={"actor": "registry-bot"}).json()
        assert {"pull_request.opened", "pull_request.closed", "push"} <= {e["action"] for e in events}
        versions = bob.get("/templates/alice/gr-base/versions").json()
        assert [(v["version"], v["change_kind"]) for v in versions] == [
            ("v2.0.0", "minor"), ("v1.1.0", "major"), ("v1.0.0", "initial")]


def test_graph_pages_draw_and_list(local_env, tmp_path):
    env = local_env
    info = env.create("gr-page", description="drawn")
    work = env.clone(info["clone_url"], "alice", tmp_path / "page")
    commit_file(work, "tests/case.json", json.dumps({"name": "<i>mentions</i> the quarter", "parameters": {
        "portfolio": "SME", "quarter": "Q3"}, "assert": [{"type": "contains", "value": "Q3"}]}), "a test case")
    sha = commit_file(work, "template.json", _manifest("tone", title="</title><script>x</script>"), "first")
    git("tag", "v0.1.0", cwd=work)
    git("push", "-q", "origin", "HEAD:main", "v0.1.0", cwd=work)
    assert env.check("gr-page", sha, "index")["state"] == "success"
    assert env.check("gr-page", sha, "sandbox")["state"] == "success"
    with env.api("bob") as bob:
        assert bob.post("/templates/alice/gr-page/forks", json={}).status_code == 201
    with env.api(None) as anon:
        forks = anon.get("/templates/alice/gr-page/forks").json()
        assert [(f["template"]["full_name"], (f["parent"] or {}).get("full_name")) for f in forks] == [
            ("alice/gr-page", None), ("bob/gr-page", "alice/gr-page")]
    import httpx

    with httpx.Client(base_url=env.url, timeout=30) as web:
        page = web.get("/alice/gr-page").text
        assert '<svg xmlns="http://www.w3.org/2000/svg" id="flow-svg"' in page and "<desc>" in page
        assert 'id="flow-svg-list"' in page and "<script>x</script>" not in page
        graph = web.get("/alice/gr-page/graph")
        assert graph.status_code == 200 and 'id="forks-svg"' in graph.text and "bob/gr-page" in graph.text
        assert web.get("/alice/nope-nope/graph").status_code == 404
        assert 'id="versions-chart"' in page and "100%" in page  # v0.1.0's run passed its one case
        [run] = [r for r in httpx.get(f"{env.url}/api/v1/templates/alice/gr-page/runs").json() if r["sha"] == sha]
        run_page = web.get(f"/alice/gr-page/runs/{run['id']}").text
        assert 'id="run-timeline"' in run_page and 'id="slowest-step"' in run_page
        assert "&lt;i&gt;mentions&lt;/i&gt;" in run_page and "<i>mentions" not in run_page
