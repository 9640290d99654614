"""A draft edited through two API nodes sharing PostgreSQL and Redis (no blob dir of their own):
an editor on each and a reader, typing converging across nodes through Redis (well inside the
nodes' database read interval, set long here), presence across nodes, a git push through one
node merged into the editors of both, a clashing push resolved through the other node's API and
followed by every editor, and a node killed mid-session: its editor reconnects to the
other node and nothing acknowledged is lost or doubled."""
from __future__ import annotations

import base64
import signal
import time

import httpx
import pytest

from tests.asyncrun import run
from tests.gitcli import authed, commit_file, git
from tests.pg import pg_database
from tests.services import redis_server, registry_server
from tests.yclient import SocketEditor

pytestmark = pytest.mark.timeout(300)
PROMPT = "You are careful.\nBe brief.\nCite sources.\n"


def _api(node, token: str, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{node.url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                         **kwargs)


def test_a_draft_across_two_nodes(tmp_path):
    with pg_database() as db, redis_server() as redis:
        shared = {"REGISTRY_DATABASE_URL": db, "REGISTRY_REDIS_URL": redis, "REGISTRY_BLOB_DIR": str(tmp_path / "blobs"),
                  "REGISTRY_SECRET_KEY": "shared-secret", "REGISTRY_DRAFT_POLL_SECONDS": "30"}
        with registry_server(tmp_path / "a", shared) as a, registry_server(tmp_path / "b", shared) as b:
            tokens = a.accounts(("alice", "bob", "carol"), {u: (u, "write") for u in ("alice", "bob", "carol")})
            alice_t = tokens["alice"]
            assert _api(a, alice_t, "POST", "/templates", json={"name": "nodes"}).status_code == 201
            assert _api(a, alice_t, "PUT", "/templates/alice/nodes/contents/prompts/system.md", json={
                "message": "prompt", "content": base64.b64encode(PROMPT.encode()).decode()}).status_code == 201
            for user, role in (("bob", "writer"), ("carol", "reader")):
                assert _api(a, alice_t, "PUT", f"/templates/alice/nodes/collaborators/{user}",
                            json={"role": role}).status_code == 204
            made = _api(b, tokens["bob"], "POST", "/templates/alice/nodes/drafts",
                        json={"branch": "main", "path": "prompts/system.md"}).json()
            path = "?path=prompts/system.md"
            on_a = made["ws"].replace(b.url.replace("http", "ws"), a.url.replace("http", "ws")) + path
            on_b = made["ws"] + path

            async def connect(url: str, user: str, editor: SocketEditor | None = None) -> SocketEditor:
                editor = editor or SocketEditor()
                await editor.connect(url, {"Authorization": f"Bearer {tokens[user]}"})
                await editor.until(lambda: editor.synced)
                return editor

            async def session() -> tuple[SocketEditor, str]:
                alice, bob, carol = await connect(on_a, "alice"), await connect(on_b, "bob"), await connect(on_b, "carol")
                assert str(alice.text) == str(bob.text) == PROMPT
                started = time.monotonic()
                await alice.send(alice.type(0, "# System\n"))
                await bob.until(lambda: str(bob.text).startswith("# System\n"), timeout=5)
                assert time.monotonic() - started < 2.0  # through Redis, not the 30 s database read
                await bob.send(bob.type(len("# System\nYou are careful.\n"), "Say so when unsure.\n"))
                want = "# System\nYou are careful.\nSay so when unsure.\nBe brief.\nCite sources.\n"
                for editor in (alice, bob, carol):
                    await editor.until(lambda e=editor: str(e.text) == want, timeout=5)
                await alice.send([alice.presence({"user": {}})])
                await bob.send([bob.presence({"user": {}})])
                await carol.until(lambda: carol.people() == {"alice", "bob"}, timeout=5)  # presence across nodes
                work = tmp_path / "w"
                git("clone", "-q", authed(f"{a.url}/alice/nodes.git", "alice", alice_t), str(work))
                commit_file(work, "prompts/system.md", PROMPT.replace("Cite sources.", "Cite primary sources."))
                git("push", "-q", "origin", "HEAD:main", cwd=work)
                merged = want.replace("Cite sources.", "Cite primary sources.")
                for editor in (alice, bob, carol):
                    await editor.until(lambda e=editor: str(e.text) == merged, timeout=10)
                # a push that clashes with alice's line (node a), resolved through node b: every editor follows
                await alice.send(alice.type(str(alice.text).index("Be brief.") + len("Be brief."), " Always."))
                await alice.until(lambda: alice.all_saved)
                commit_file(work, "prompts/system.md", (work / "prompts/system.md").read_text().replace(
                    "Be brief.", "Be short."))
                git("push", "-q", "origin", "HEAD:main", cwd=work)
                await bob.until(lambda: any(n.get("conflicts") for n in bob.notices), timeout=10)
                assert "Be brief. Always." in str(bob.text)  # alice's typing kept
                draft_url = f"/templates/alice/nodes/drafts/{made['id']}"
                shown = _api(b, tokens["bob"], "GET", f"{draft_url}/conflicts", params={"path": "prompts/system.md"}).json()
                assert [(h["ours"], h["theirs"]) for h in shown["file"]["hunks"]] == [  # bob's line beside alice's
                    ("Say so when unsure.\nBe brief. Always.\n", "Be short.\n")]
                done = _api(b, tokens["bob"], "POST", f"{draft_url}/resolve", json={
                    "path": "prompts/system.md", "shown": shown["shown"], "resolutions": [{"hunk": 0, "choice": "both"}]})
                assert done.status_code == 200, done.text
                resolved = done.json()["text"]
                assert resolved == merged.replace("Be brief.\n", "Be brief. Always.\nBe short.\n")
                for editor in (alice, bob, carol):  # through Redis, not the 30 s database read
                    await editor.until(lambda e=editor: str(e.text) == resolved, timeout=5)
                for i in range(10):
                    await alice.send(alice.type(len(str(alice.text)), f"from a {i}\n"))
                await alice.until(lambda: alice.all_saved)
                await bob.until(lambda: "from a 9" in str(bob.text), timeout=5)
                await carol.close()
                await bob.close()
                return alice, str(alice.text)

            alice, typed = run(session())
            a.proc.send_signal(signal.SIGKILL)  # node a dies with alice's connection on it
            a.proc.wait(10)

            async def after() -> None:
                again = SocketEditor()
                again.doc, again.text = alice.doc, alice.text  # the page keeps its document
                again.doc.observe(again._local)
                await again.connect(on_b, {"Authorization": f"Bearer {tokens['alice']}"})
                await again.until(lambda: again.synced)
                await again.send(again.type(len(str(again.text)), "after the kill\n"))
                fresh = await connect(on_b, "bob")
                await fresh.until(lambda: str(fresh.text) == typed + "after the kill\n", timeout=5)
                assert str(fresh.text).count("from a 9") == 1  # nothing doubled
                await again.close()
                await fresh.close()

            run(after())
