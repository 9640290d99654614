"""Shared drafts against a served registry, with Yjs editors in Python (pycrdt) over real
WebSockets: typing converges and is acknowledged once stored; presence is named by the server;
hostile clients are refused with a reason (foreign Origin, no credentials, a reader's edit,
oversized and malformed messages, floods, a token revoked mid-connection) and the text stays as
it was; offline edits merge with nothing doubled; a server killed mid-session loses nothing it
acknowledged; a git push during a draft is merged in; the draft is committed through git's
push path and the clone sees no hidden ref."""
from __future__ import annotations

import asyncio
import base64
import signal
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from registry.drafts import presence, protocol
from tests.asyncrun import run
from tests.gitcli import authed, commit_file, git
from tests.services import free_port, registry_server
from tests.webclient import csrf, signed_in
from tests.yclient import SocketEditor

pytestmark = pytest.mark.timeout(180)
ENV = {"REGISTRY_DRAFT_RECHECK_SECONDS": "0.5", "REGISTRY_DRAFT_MESSAGES_PER_SECOND": "20",
       "REGISTRY_DRAFT_MAX_MESSAGE_BYTES": "65536", "REGISTRY_DRAFT_MAX_TEXT_BYTES": "200000",
       "REGISTRY_DRAFT_POLL_SECONDS": "0.5"}
PROMPT = "You are careful.\nBe brief.\nCite sources.\n"


class Site:
    def __init__(self, server, tokens: dict[str, str]) -> None:
        self.server, self.tokens, self.url = server, tokens, server.url

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def api(self, method: str, path: str, user: str = "alice", **kwargs) -> httpx.Response:
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=self.auth(user), timeout=30, **kwargs)

    def template(self, name: str) -> None:
        assert self.api("POST", "/templates", json={"name": name}).status_code == 201
        for path, text in (("prompts/system.md", PROMPT), ("template.json", "{}\n")):
            put = self.api("PUT", f"/templates/alice/{name}/contents/{path}",
                           json={"message": f"add {path}", "content": base64.b64encode(text.encode()).decode()})
            assert put.status_code == 201, put.text
        for user, role in (("bob", "writer"), ("carol", "reader")):
            assert self.api("PUT", f"/templates/alice/{name}/collaborators/{user}", json={"role": role}).status_code == 204

    def draft(self, name: str, path: str = "prompts/system.md") -> str:
        made = self.api("POST", f"/templates/alice/{name}/drafts", json={"branch": "main", "path": path})
        assert made.status_code == 201, made.text
        self.last_draft = made.json()["id"]
        return f"{made.json()['ws']}?path={path}"

    async def editor(self, ws: str, user: str = "alice", **kwargs) -> SocketEditor:
        editor = SocketEditor()
        await editor.connect(ws, self.auth(user), **kwargs)
        await editor.until(lambda: editor.synced)
        return editor


def _start(tmp: Path, port: int | None = None):
    return registry_server(tmp / "data", ENV, port=port)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with _start(tmp_path_factory.mktemp("drafts-live")) as server:
        tokens = server.accounts(("alice", "bob", "carol", "dave"), {u: (u, "write") for u in ("alice", "bob", "carol",
                                                                                             "dave")})
        yield Site(server, tokens)


def test_typing_converges_is_acknowledged_once_stored_and_presence_is_named_by_the_server(site):
    site.template("live-one")
    ws = site.draft("live-one")
    draft_id = site.last_draft

    async def scenario() -> None:
        alice, bob, carol = [await site.editor(ws, u) for u in ("alice", "bob", "carol")]
        assert str(alice.text) == str(bob.text) == str(carol.text) == PROMPT
        await alice.send(alice.type(0, "# System\n"))
        await bob.send(bob.type(len(PROMPT), "Say so when unsure.\n"))
        for editor in (alice, bob, carol):
            await editor.until(lambda e=editor: str(e.text).count("\n") == 5)
        assert str(alice.text) == str(bob.text) == str(carol.text) == "# System\n" + PROMPT + "Say so when unsure.\n"
        await alice.until(lambda: alice.all_saved)
        await bob.until(lambda: bob.all_saved)
        await alice.send([alice.presence({"user": {"name": "root"}, "cursor": None})])
        await carol.send([carol.presence({"user": {"name": "alice"}})])
        await bob.until(lambda: bob.people() == {"alice", "carol"})
        roles = {s["user"]["name"]: s["user"]["role"] for s in bob.states.values() if s}
        assert roles == {"alice": "editor", "carol": "reader"}
        await carol.close()
        await bob.until(lambda: bob.people() == {"alice"})
        for editor in (alice, bob):
            await editor.close()
        detail = site.api("GET", f"/templates/alice/live-one/drafts/{draft_id}").json()
        assert detail["editors"] == ["alice", "bob"] and [f["path"] for f in detail["files"]] == ["prompts/system.md"]

    run(scenario())


def test_hostile_clients_are_refused_with_a_reason_and_the_text_stays_as_it_was(site):
    site.template("live-hostile")
    ws = site.draft("live-hostile")

    async def refused(user: str | None, **kwargs) -> int:
        editor = SocketEditor()
        with pytest.raises(InvalidStatus) as exc:
            await editor.connect(ws, site.auth(user) if user else {}, **kwargs)
        return exc.value.response.status_code

    async def closed(messages: list[bytes], user: str = "bob") -> tuple[int | None, str]:
        editor = await site.editor(ws, user)
        for message in messages:
            try:
                await editor.ws.send(message)
            except Exception:
                break
        await editor.until(lambda: editor.closed is not None)
        assert editor.closed is not None
        return editor.closed

    async def scenario() -> None:
        assert await refused("alice", origin="http://evil.example") == 403  # cross-site WebSocket hijacking
        assert await refused(None, origin=site.url) == 401  # no session, no token
        assert await refused(None) == 403  # a cookie-less, Origin-less browser-like call is not ours
        watcher = await site.editor(ws, "carol")
        code, reason = await closed([watcher.type(0, "carol was here")[0]], "carol")
        assert code == 4403 and "readers" in reason
        assert (await closed([protocol.update(b"\x00" * 70_000)]))[0] == 4413  # past the message bound
        assert (await closed([b"\x00\x02\x05\xff\xff"]))[0] == 4400  # not y-websocket
        code, _ = await closed([protocol.update(b"\x01\x01\x05\x00")])
        assert code == 4400  # not a Yjs update
        assert (await closed([protocol.sync_step1(b"\x00")] * 400))[0] == 4429  # a flood
        spoof = await site.editor(ws, "bob")
        owner = await site.editor(ws, "alice")
        await owner.send([owner.presence({"user": {}})])
        await spoof.until(lambda: spoof.people() == {"alice"})
        stolen = protocol.awareness(presence.encode([(owner.client_id, 99, {"user": {"name": "x"}})]))
        await spoof.ws.send(stolen)  # (y-websocket's clients pass others' states on: ignored, not refused)
        await spoof.send([spoof.presence({"user": {"name": "bob as himself"}})])
        await owner.until(lambda: owner.people() == {"alice", "bob"})
        assert "x" not in owner.people() and spoof.closed is None
        await spoof.close()
        await owner.close()
        check = await site.editor(ws, "alice")
        assert str(check.text) == PROMPT  # nothing of it got in
        await check.close()

    run(scenario())


def test_a_revoked_token_and_a_role_taken_away_end_the_connection(site):
    site.template("live-revoke")
    ws = site.draft("live-revoke")
    made = httpx.post(f"{site.url}/api/v1/user/tokens", headers=site.auth("dave"), json={"scope": "write"}, timeout=30)
    assert made.status_code == 201, made.text
    dave = {"Authorization": f"Bearer {made.json()['token']}"}
    assert site.api("PUT", "/templates/alice/live-revoke/collaborators/dave", json={"role": "writer"}).status_code == 204

    async def scenario() -> None:
        editor = SocketEditor()
        await editor.connect(ws, dave)
        await editor.until(lambda: editor.synced)
        revoked = httpx.delete(f"{site.url}/api/v1/user/tokens/{made.json()['id']}", headers=site.auth("dave"))
        assert revoked.status_code == 204
        await editor.until(lambda: editor.closed is not None, timeout=5)
        assert editor.closed is not None and editor.closed[0] == 4401
        bob = await site.editor(ws, "bob")
        assert site.api("DELETE", "/templates/alice/live-revoke/collaborators/bob").status_code == 204
        await asyncio.sleep(1.5)  # the next check sees a reader now (the template is public)
        await bob.send(bob.type(0, "too late"))
        await bob.until(lambda: bob.closed is not None)
        assert bob.closed[0] == 4403
        check = await site.editor(ws, "alice")
        assert str(check.text) == PROMPT
        await check.close()

    run(scenario())


def test_a_browser_session_signed_out_elsewhere_ends_its_connection_and_a_foreign_page_gets_nothing(site):
    """Signed in by cookie (the server-side session of api/web/session.py): the WebSocket works
    from this site's pages only, and ends (4401) within a recheck once the session is signed out."""
    site.template("live-session")
    ws = site.draft("live-session")
    browser = signed_in(site, "bob")
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())

    async def scenario() -> None:
        editor = SocketEditor()
        with pytest.raises(InvalidStatus) as refused:  # the session's cookie, sent by another site's page
            await editor.connect(ws, {"Cookie": cookie}, origin="http://evil.example")
        assert refused.value.response.status_code == 403
        with pytest.raises(InvalidStatus) as refused:  # the cookie without any Origin: no browser of ours
            await editor.connect(ws, {"Cookie": cookie})
        assert refused.value.response.status_code == 403
        editor = SocketEditor()
        await editor.connect(ws, {"Cookie": cookie}, origin=site.url)
        await editor.until(lambda: editor.synced)
        await editor.send(editor.type(0, "by cookie. "))
        await editor.until(lambda: editor.all_saved)
        out = browser.post("/logout", data={"csrf": csrf(browser.get("/").text)})
        assert out.status_code in (200, 303), out.text[-300:]
        await editor.until(lambda: editor.closed is not None, timeout=5)
        assert editor.closed is not None and editor.closed[0] == 4401
        with pytest.raises(InvalidStatus) as refused:
            await SocketEditor().connect(ws, {"Cookie": cookie}, origin=site.url)
        assert refused.value.response.status_code == 401

    run(scenario())


def test_offline_edits_merge_on_reconnect_with_nothing_doubled(site):
    site.template("live-offline")
    ws = site.draft("live-offline")

    async def scenario() -> None:
        alice, bob = await site.editor(ws, "alice"), await site.editor(ws, "bob")
        await bob.close()  # bob's connection is cut; both go on typing
        bob.type(0, "Offline first line.\n")
        bob.type(len(str(bob.text)), "Offline last line.\n")
        await alice.send(alice.type(len("You are careful.\n"), "Online middle line.\n"))
        await alice.until(lambda: alice.all_saved)
        back = SocketEditor()
        back.doc, back.text = bob.doc, bob.text  # the same document (Yjs keeps it in the page)
        back.doc.observe(back._local)
        await back.connect(ws, site.auth("bob"))  # sync step 1 and 2 both ways
        expected = "Offline first line.\nYou are careful.\nOnline middle line.\nBe brief.\nCite sources.\nOffline last line.\n"
        await back.until(lambda: str(back.text) == expected)
        await alice.until(lambda: str(alice.text) == expected)
        await back.until(lambda: back.all_saved)
        for editor in (alice, back):
            await editor.close()
        fresh = await site.editor(ws, "carol")
        assert str(fresh.text) == expected  # stored once, nothing doubled
        await fresh.close()

    run(scenario())


def test_a_git_push_during_a_draft_is_merged_in_and_the_commit_goes_through_the_push_path(site, tmp_path):
    site.template("live-git")
    ws = site.draft("live-git")
    draft_id = site.last_draft
    work = tmp_path / "w"
    git("clone", "-q", authed(f"{site.url}/alice/live-git.git", "alice", site.tokens["alice"]), str(work))

    async def scenario() -> None:
        alice, bob = await site.editor(ws, "alice"), await site.editor(ws, "bob")
        await bob.send(bob.type(0, "# System\n"))
        await bob.until(lambda: bob.all_saved)
        commit_file(work, "prompts/system.md", PROMPT.replace("Cite sources.", "Cite primary sources."))
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        merged = "# System\nYou are careful.\nBe brief.\nCite primary sources.\n"
        await alice.until(lambda: str(alice.text) == merged)
        await bob.until(lambda: str(bob.text) == merged)
        await alice.until(lambda: any(n.get("state") == "rebased" for n in alice.notices))
        rebased = next(n for n in alice.notices if n.get("state") == "rebased")
        assert rebased["merged"] == ["prompts/system.md"] and rebased["conflicts"] == []
        done = site.api("POST", f"/templates/alice/live-git/drafts/{draft_id}/commit", json={"message": "Heading"})
        assert done.status_code == 200, done.text
        await bob.until(lambda: any(n.get("state") == "committed" for n in bob.notices))
        for editor in (alice, bob):
            await editor.close()
        git("pull", "-q", "origin", "main", cwd=work)
        assert (work / "prompts/system.md").read_text() == merged
        message = git("log", "-1", "--format=%B", cwd=work).stdout
        assert message.strip() == "Heading\n\nCo-authored-by: bob <bob@registry>"
        refs = git("ls-remote", "origin", cwd=work).stdout
        assert "refs/drafts/" not in refs and "refs/heads/main" in refs
        statuses = site.api("GET", f"/templates/alice/live-git/commits/{done.json()['sha']}/statuses").json()
        assert {s["context"] for s in statuses} >= {"validate"}  # a commit from a draft is a push: checks run

    run(scenario())


def test_a_server_killed_mid_session_loses_nothing_it_acknowledged(tmp_path):
    port = free_port()
    with _start(tmp_path, port) as first:
        tokens = first.accounts(("alice", "bob", "carol"), {u: (u, "write") for u in ("alice", "bob", "carol")})
        site = Site(first, tokens)
        site.template("live-kill")
        ws = site.draft("live-kill")
        alice = SocketEditor()

        async def before() -> str:
            await alice.connect(ws, site.auth("alice"))
            await alice.until(lambda: alice.synced)
            for i in range(30):
                await alice.send(alice.type(len(str(alice.text)), f"line {i}\n"))
            await alice.until(lambda: alice.all_saved)
            return str(alice.text)

        typed = run(before())
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    with _start(tmp_path, port) as second:
        site = Site(second, tokens)

        async def after() -> None:
            fresh = await site.editor(ws, "bob")
            assert str(fresh.text) == typed  # every acknowledged keystroke, once
            await fresh.close()

        run(after())

