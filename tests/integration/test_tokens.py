"""Token management from outside (issue 15): the caller's tokens over the API, operators' token
commands, and revocation taking effect on the very next request for git, the API and the pages."""
from __future__ import annotations

import re

import httpx

from tests.gitcli import authed, git
from tests.integration.test_web import _csrf


def _api(env, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=env.url + "/api/v1", headers=headers, timeout=30)


def test_the_callers_tokens_over_the_api(local_env):
    env = local_env
    with _api(env, env.tokens["bob"]) as bob:
        listed = bob.get("/user/tokens").json()
        assert listed and all(set(t) == {"id", "scope", "created_at", "expires_at", "last_used_at", "revoked"}
                              for t in listed)
        assert any(t["last_used_at"] for t in listed)  # the calling token was just used
        made = bob.post("/user/tokens", json={"scope": "read", "expires_days": 1})
        assert made.status_code == 201 and made.json()["token"].startswith("rgt_") and made.json()["scope"] == "read"
        assert made.json()["token"] not in bob.get("/user/tokens").text  # shown once, never listed
    with _api(env, env.tokens["carol-ro"]) as carol:
        assert carol.post("/user/tokens", json={"scope": "write"}).status_code == 403  # never broader
        assert carol.delete(f"/user/tokens/{made.json()['id']}").status_code == 404  # not hers
    with _api(env, None) as anonymous:
        assert anonymous.get("/user/tokens").status_code == 401


def test_a_revoked_token_fails_on_the_very_next_request(local_env, tmp_path):
    env = local_env
    info = env.create("revoke-me", visibility="private")
    with _api(env, env.tokens["alice"]) as alice:
        made = alice.post("/user/tokens", json={"scope": "write"}).json()
    token = made["token"]
    url = authed(info["clone_url"], "alice", token)
    assert git("ls-remote", url, cwd=tmp_path).returncode == 0
    web = httpx.Client(base_url=env.url, timeout=30, headers={"Origin": env.url})
    page = web.get("/login")
    assert web.post("/login", data={"csrf": _csrf(page.text), "user": "alice", "token": token}).status_code == 303
    assert web.get("/alice/revoke-me").status_code == 200  # the session sees the private template
    with _api(env, token) as itself:
        assert itself.delete(f"/user/tokens/{made['id']}").status_code == 204
        assert itself.get("/templates/alice/revoke-me").status_code == 401
    assert git("ls-remote", url, cwd=tmp_path, check=False).returncode != 0
    assert web.get("/alice/revoke-me").status_code == 404  # the session is anonymous again


def test_operators_list_revoke_and_rotate(local_env, tmp_path):
    env, server = local_env, local_env.server
    old = server.cli("token", "create", "carol", "--scope", "read").stdout.strip()
    listing = server.cli("token", "list", "carol").stdout.splitlines()
    assert listing[0].split("\t")[:3] == ["id", "scope", "created"] and old not in "\n".join(listing)
    token_id = int(listing[-1].split("\t")[0])
    new = server.cli("token", "rotate", str(token_id)).stdout.strip()
    assert new.startswith("rgt_") and new != old
    with _api(env, old) as stale, _api(env, new) as fresh:
        assert stale.get("/user/tokens").status_code == 401
        assert fresh.get("/user/tokens").status_code == 200
    new_id = max(t["id"] for t in _api(env, new).get("/user/tokens").json())
    assert "revoked" in server.cli("token", "revoke", str(new_id)).stdout
    assert _api(env, new).get("/user/tokens").status_code == 401
    missing = server.cli("token", "revoke", "999999", check=False)
    assert missing.returncode == 1 and "no token" in missing.stderr and "Traceback" not in missing.stderr


def test_the_tokens_page_creates_shows_once_and_revokes(local_env):
    env = local_env
    web = httpx.Client(base_url=env.url, timeout=30, headers={"Origin": env.url})
    assert web.get("/settings/tokens").status_code == 401  # signed out
    page = web.get("/login")
    web.post("/login", data={"csrf": _csrf(page.text), "user": "bob", "token": env.tokens["bob"]})
    listing = web.get("/settings/tokens")
    assert listing.status_code == 200 and "Create token" in listing.text
    made = web.post("/settings/tokens", data={"csrf": _csrf(listing.text), "scope": "read", "expires_days": "3"})
    assert made.status_code == 201
    token = re.search(r"<code>(rgt_[^<]+)</code>", made.text).group(1)
    assert token not in web.get("/settings/tokens").text  # shown once
    token_id = max(t["id"] for t in _api(env, token).get("/user/tokens").json())
    forged = web.post(f"/settings/tokens/{token_id}/revoke", data={"csrf": "forged"})
    assert forged.status_code == 403
    revoked = web.post(f"/settings/tokens/{token_id}/revoke", data={"csrf": _csrf(made.text)})
    assert revoked.status_code == 303
    assert _api(env, token).get("/user/tokens").status_code == 401
