"""`registry backup` while pushes land, `registry restore` onto a fresh node, `registry verify`:
every template clones with the backup's refs and the same history, and stars, pull requests,
events and tokens survive. An incremental backup copies only the packs that are new; a damaged
backup is refused; a registry is never restored over without --force. Also on S3 (moto) with
PostgreSQL (pg_dump / pg_restore)."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx

from registry.backup import archive
from tests.gitcli import authed, commit_file, git
from tests.pg import pg_database
from tests.services import aws_env, make_bucket, registry_server

MANIFEST = '{"title": "backed up", "description": "a template"}\n'


def _api(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _populate(server, tmp: Path) -> dict[str, str]:
    """alice's templates with history, bob's fork with a pull request back, a star, a comment."""
    tokens = server.accounts(("alice", "bob"), {"alice": ("alice", "write"), "bob": ("bob", "write")})
    with _api(server.url, tokens["alice"]) as alice, _api(server.url, tokens["bob"]) as bob:
        for name in ("bk-a", "bk-b", "bk-private"):
            assert alice.post("/templates", json={"name": name, "visibility": "private" if "private" in name
                                                   else "public"}).status_code == 201
            work = tmp / f"w-{name}"
            git("clone", "-q", authed(f"{server.url}/alice/{name}.git", "alice", tokens["alice"]), str(work))
            commit_file(work, "template.json", MANIFEST)
            commit_file(work, "README.md", f"# {name}\n")
            git("push", "-q", "origin", "HEAD:main", cwd=work)
            git("push", "-q", "origin", "HEAD:refs/tags/v1.0.0", cwd=work)
        assert bob.post("/templates/alice/bk-a/forks", json={"name": "bk-a"}).status_code == 201
        fork = tmp / "w-fork"
        git("clone", "-q", authed(f"{server.url}/bob/bk-a.git", "bob", tokens["bob"]), str(fork))
        commit_file(fork, "README.md", "# better\n")
        git("push", "-q", "origin", "HEAD:main", cwd=fork)
        pull = bob.post("/templates/alice/bk-a/pulls", json={"title": "Better README", "body": "please",
                                                              "head": "bob:main", "base": "main"})
        assert pull.status_code == 201, pull.text
        assert bob.post("/templates/alice/bk-a/pulls/1/comments", json={"body": "looks right"}).status_code == 201
        assert bob.put("/templates/alice/bk-a/star").status_code in (200, 204)
    return tokens


def _pushing(server, token: str, tmp: Path, stop: threading.Event, pushed: list[str]) -> threading.Thread:
    """Pushes to alice/bk-b, one commit each, until stopped."""
    work = tmp / "w-storm"
    git("clone", "-q", authed(f"{server.url}/alice/bk-b.git", "alice", token), str(work))

    def run() -> None:
        n = 0
        while not stop.is_set() and n < 200:
            n += 1
            pushed.append(commit_file(work, f"notes/{n}.md", f"note {n}\n" * 50))
            git("push", "-q", "origin", "HEAD:main", cwd=work)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _ls_remote(url: str) -> dict[str, str]:
    out = git("ls-remote", url).stdout
    return {ref: sha for sha, ref in (line.split("\t") for line in out.splitlines())}


def _log(work: Path, sha: str) -> str:
    return git("log", "-p", "--format=%H %an %ae %at %s", sha, cwd=work).stdout


def test_backup_during_pushes_restores_on_a_fresh_node_with_everything(tmp_path):
    dest = tmp_path / "backups"
    with registry_server(tmp_path / "data") as server:
        tokens = _populate(server, tmp_path)
        stop, pushed = threading.Event(), []
        storm = _pushing(server, tokens["alice"], tmp_path, stop, pushed)
        while len(pushed) < 3:  # the storm is under way
            time.sleep(0.05)
        first = server.cli("backup", str(dest))
        during = len(pushed)
        time.sleep(0.5)
        stop.set()
        storm.join(60)
        assert during >= 3 and len(pushed) > 3  # pushes landed before and while it ran
        assert "4 templates" in first.stdout, first.stdout

        # An incremental backup copies the packs pushed since, and nothing else.
        held = set(archive.open_destination(str(dest), create=False).list("blobs/"))
        with server.container() as c:
            named = {p + ext for t in ("bk-a", "bk-b", "bk-private") for p in
                     c.repos.open(c.meta.templates.get("alice", t).id).doc.packs for ext in (".pack", ".idx")}
            named |= {p + ".pack" for p in c.repos.open(c.meta.templates.get("bob", "bk-a").id).doc.packs}
        new_packs = {k for k in named if k.endswith(".pack") and f"blobs/{k}" not in held}
        assert new_packs, "the storm's last pushes came after the first backup"
        second = server.cli("backup", str(dest))
        assert f"{len(new_packs)} packs copied" in second.stdout, (second.stdout, new_packs)
        grown = set(archive.open_destination(str(dest), create=False).list("blobs/")) - held
        assert {k for k in grown if k.endswith(".pack")} == {f"blobs/{k}" for k in new_packs}

        # Restore the first backup (the one taken under the storm) onto a fresh data dir.
        stamps = archive.snapshots(archive.open_destination(str(dest), create=False))
        manifest = archive.read_manifest(archive.open_destination(str(dest), create=False), stamps[0])
        fresh = {**server.env, "REGISTRY_DATA_DIR": str(tmp_path / "restored")}
        from tests.services import Server
        target = Server(fresh, "", server.proc)
        restored = target.cli("restore", str(dest), "--snapshot", stamps[0])
        assert "restored" in restored.stdout and "4 templates" in restored.stdout, restored.stdout
        verified = target.cli("verify", check=False)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "4 templates checked, 0 problems" in verified.stderr

        original = tmp_path / "original"
        git("clone", "-q", "--mirror", authed(f"{server.url}/alice/bk-b.git", "alice", tokens["alice"]), str(original))
        with registry_server(tmp_path / "restored") as node:
            for owner, name in (("alice", "bk-a"), ("alice", "bk-b"), ("alice", "bk-private"), ("bob", "bk-a")):
                token = tokens[owner]
                remote = authed(f"{node.url}/{owner}/{name}.git", owner, token)
                with _api(node.url, token) as api:
                    template_id = api.get(f"/templates/{owner}/{name}").json()["id"]
                doc = json.loads(archive.open_destination(str(dest), create=False)
                                 .get(archive.snapshot_key(stamps[0], f"refs/{template_id}.json")).data)
                assert manifest.refs[template_id]
                advertised = _ls_remote(remote)
                advertised.pop("HEAD", None)
                assert advertised == doc["refs"], (owner, name)
                work = tmp_path / f"clone-{owner}-{name}"
                git("clone", "-q", remote, str(work))
                tip = doc["refs"]["refs/heads/main"]
                assert git("rev-parse", "HEAD", cwd=work).stdout.strip() == tip
                if (owner, name) == ("alice", "bk-b"):  # the storm's template: history as the source has it
                    assert _log(work, tip) == _log(original, tip)
                    assert tip in pushed  # a commit of the storm, taken mid-way
            with _api(node.url, tokens["alice"]) as alice:
                got = alice.get("/templates/alice/bk-a").json()
                assert got["stars"] == 1
                pull = alice.get("/templates/alice/bk-a/pulls/1").json()
                assert pull["title"] == "Better README" and pull["state"] == "open"
                assert [c["body"] for c in alice.get("/templates/alice/bk-a/pulls/1/comments").json()] == ["looks right"]
                actions = {e["action"] for e in alice.get("/templates/alice/bk-a/events", params={"per_page": 100}).json()}
                assert {"push", "star.created", "pull_request.opened", "comment.created", "template.created"} <= actions
                assert alice.get("/user/tokens").status_code == 200  # the token made before the backup signs in


def test_restore_refuses_a_registry_without_force_and_a_damaged_backup(tmp_path):
    dest = tmp_path / "backups"
    with registry_server(tmp_path / "data") as server:
        token = server.user("alice")
        with _api(server.url, token) as alice:
            assert alice.post("/templates", json={"name": "solo"}).status_code == 201
        work = tmp_path / "w"
        git("clone", "-q", authed(f"{server.url}/alice/solo.git", "alice", token), str(work))
        commit_file(work, "template.json", MANIFEST)
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        server.cli("backup", str(dest))
        refused = server.cli("restore", str(dest), check=False)  # onto the live registry itself
        assert refused.returncode == 1 and "--force" in refused.stderr

        from tests.services import Server
        fresh = Server({**server.env, "REGISTRY_DATA_DIR": str(tmp_path / "other")}, "", server.proc)
        pack = next(p for p in dest.rglob("*.pack"))
        good = pack.read_bytes()
        pack.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
        damaged = fresh.cli("restore", str(dest), check=False)
        assert damaged.returncode == 1 and "damaged" in damaged.stderr, damaged.stderr
        pack.write_bytes(good)
        done = fresh.cli("restore", str(dest), "--force")
        assert "1 templates" in done.stdout
        assert fresh.cli("verify").returncode == 0
        no_backup = fresh.cli("restore", str(tmp_path), "--force", check=False)
        assert no_backup.returncode == 1 and "no complete backup" in no_backup.stderr


def test_backup_to_s3_of_an_s3_and_postgresql_registry_restores_onto_fresh_ones(tmp_path, moto_endpoint):
    make_bucket(moto_endpoint, "bk-source")
    make_bucket(moto_endpoint, "bk-backups")
    make_bucket(moto_endpoint, "bk-target")
    s3 = aws_env(moto_endpoint) | {"REGISTRY_STORAGE": "s3", "REGISTRY_S3_PREFIX": "reg"}
    with pg_database() as source_db, pg_database() as target_db:
        with registry_server(tmp_path / "data", s3 | {"REGISTRY_S3_BUCKET": "bk-source",
                                                      "REGISTRY_DATABASE_URL": source_db}) as server:
            tokens = _populate(server, tmp_path)
            first = server.cli("backup", "s3://bk-backups/nightly")
            assert "4 templates" in first.stdout and "0 already there" in first.stdout, first.stdout
            again = server.cli("backup", "s3://bk-backups/nightly")
            assert " 0 packs copied" in again.stdout, again.stdout
            env = {**server.env, "REGISTRY_DATA_DIR": str(tmp_path / "node2"), "REGISTRY_S3_BUCKET": "bk-target",
                   "REGISTRY_DATABASE_URL": target_db}
        from tests.services import Server
        target = Server(env, "", None)
        assert "4 templates" in target.cli("restore", "s3://bk-backups/nightly").stdout
        verified = target.cli("verify", check=False)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        with registry_server(tmp_path / "node2", {k: v for k, v in env.items()
                                                  if k.startswith(("REGISTRY_", "AWS_"))}) as node:
            with _api(node.url, tokens["bob"]) as bob:
                assert bob.get("/templates/alice/bk-a").json()["stars"] == 1
                assert bob.get("/templates/alice/bk-a/pulls/1").json()["title"] == "Better README"
            work = tmp_path / "clone"
            git("clone", "-q", authed(f"{node.url}/alice/bk-private.git", "alice", tokens["alice"]), str(work))
            assert git("log", "--format=%s", cwd=work).stdout.split("\n")[0] == "edit README.md"
