"""The account commands of the `registry` CLI against a running server's data (issue 30):
`registry user invite EMAIL` and `reset-password NAME` print single-use links built from the
base URL, and `disable|enable NAME` stop and restore every token of the user at once."""
from __future__ import annotations

import httpx

from registry.services import accounts

PASSWORD = "violet-lantern-orbit-57"


def test_invite_prints_a_single_use_join_link(local_env):
    server = local_env.server
    out = server.cli("user", "invite", "Cli-Invitee@Example.com").stdout.strip()
    base = server.settings().public_base_url()
    assert out.startswith(f"{base}/join?invite=") and "\n" not in out
    token = out.split("invite=")[1]
    with server.container() as c:
        assert accounts.invite_email(c, token) == "cli-invitee@example.com"
    again = server.cli("user", "invite", "not an address", check=False)
    assert again.returncode == 1 and "email" in again.stderr and "Traceback" not in again.stderr


def test_reset_password_prints_a_link_that_sets_a_password_once(local_env):
    server = local_env.server
    server.user("cli-rosa")
    out = server.cli("user", "reset-password", "cli-rosa").stdout.strip()
    assert out.startswith(f"{server.settings().public_base_url()}/login/reset?token=")
    with server.container() as c:
        rosa = accounts.reset_with_token(c, out.split("token=")[1], PASSWORD)
        assert accounts.authenticate(c, "cli-rosa", PASSWORD) == rosa
    missing = server.cli("user", "reset-password", "cli-nobody", check=False)
    assert missing.returncode == 1 and "cli-nobody" in missing.stderr


def test_disable_stops_every_token_at_once_and_enable_restores_them(local_env):
    server = local_env.server
    token = server.user("cli-dora")
    with httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as api:
        assert api.get("/user/tokens").status_code == 200
        assert server.cli("user", "disable", "cli-dora").stdout.strip() == "disabled user cli-dora"
        refused = api.get("/user/tokens")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "account_disabled"
        assert server.cli("user", "enable", "cli-dora").stdout.strip() == "enabled user cli-dora"
        assert api.get("/user/tokens").status_code == 200


def test_user_add_refuses_reserved_names(local_env):
    res = local_env.server.cli("user", "add", "settings", check=False)
    assert res.returncode == 1 and "reserved" in res.stderr and "Traceback" not in res.stderr
