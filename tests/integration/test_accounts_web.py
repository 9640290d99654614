"""The account pages over HTTP against `registry serve` with a real SMTP server and a real OpenID
provider: joining (each refusal names its field and reason), address verification by the mail
received, signing in by name or address, the second-factor step that leaves a half-signed-in
session no one, `next=` only to this site, CSRF and origin on every form, the caller's account
and data through the API (token or session), and deleting an account with its templates."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pyotp
import pytest

from tests.accounts_web import OTHER_PASSWORD, PASSWORD, WebClient, csrf_of, error_of
from tests.integration.conftest import Env
from tests.mail import first_link
from tests.oidc import sign_in
from tests.services import free_port, registry_server

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def site(tmp_path_factory, smtp_server, oidc_provider) -> Iterator[Env]:
    port = free_port()
    client = oidc_provider.register(f"http://127.0.0.1:{port}/login/oidc/callback")
    extra = {"REGISTRY_SMTP_URL": smtp_server.url, "REGISTRY_MAIL_FROM": "registry@example.test",
             "REGISTRY_OIDC_ISSUER": oidc_provider.issuer, "REGISTRY_OIDC_CLIENT_ID": client.client_id,
             "REGISTRY_OIDC_CLIENT_SECRET": client.client_secret, "REGISTRY_OIDC_NAME": "Test provider"}
    with registry_server(tmp_path_factory.mktemp("srv-accounts") / "data", extra, port=port) as server:
        tokens = server.accounts(("alice", "bob"), {"alice": ("alice", "write"), "bob": ("bob", "write")})
        tokens["root"] = server.user("root", "admin", admin=True)
        yield Env(server, "local", tokens)


def test_join_names_each_refused_field_and_its_reason(site):
    web = WebClient(site.url)
    cases = [({"username": "Bad Name"}, 400, "Username: use 1-63 of a-z"),
             ({"username": "admin"}, 400, "Username: this name is reserved"),
             ({"username": "alice"}, 409, "Username: this username is taken"),
             ({"email": "not-an-address"}, 400, "Email address: not a valid email address"),
             ({"password": "short"}, 400, "Password: at least 10 characters"),
             ({"password": "password123"}, 400, "Password: too easy to guess"),
             ({"password": "é" * 600}, 400, "Password: at most 1024 bytes")]
    for change, status, said in cases:
        form = {"username": "jo", "email": "jo@example.test", "password": PASSWORD, **change}
        resp = web.post("/join", form)
        assert resp.status_code == status and error_of(resp.text).startswith(said), (change, error_of(resp.text))
        assert 'aria-invalid="true"' in resp.text  # the field itself is marked
    huge = web.post("/join", {"username": "jo", "email": "jo@example.test", "password": "x" * 5000})
    assert huge.status_code == 422 and "password" in huge.text  # bounded before any work
    assert web.who() is None


def test_join_then_confirm_the_address_by_the_mail_received(site, smtp_server):
    web = WebClient(site.url)
    joined = web.join("ines", "Ines@Example.test")
    assert joined.headers["location"] == "/settings/account?notice=verify_sent"
    cookie = joined.headers["set-cookie"].lower()
    assert "registry_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # the base URL is http here (tests/unit checks https)
    assert web.who() == "ines"
    assert "not confirmed yet" in web.get("/settings/account").text
    link = first_link(smtp_server.wait_for_mail("ines@example.test"))
    assert link.startswith(f"{site.url}/join/verify?token=")
    page = web.get(link)  # opening the link changes nothing (mail scanners open links)
    assert page.status_code == 200 and "Confirm my address" in page.text
    done = web.http.post("/join/verify", data={"csrf": csrf_of(page.text), "token": link.split("token=")[1]})
    assert done.headers["location"] == "/settings/account?notice=verified"
    assert 'class="ok">confirmed' in web.follow(done).text
    again = web.http.post("/join/verify", data={"csrf": csrf_of(page.text), "token": link.split("token=")[1]})
    assert again.status_code == 400 and "not valid" in error_of(again.text)


def test_sign_in_by_name_or_address_with_one_answer_for_every_failure(site):
    WebClient(site.url).join("jules", "jules@example.test")
    for user, password in (("jules", "wrong-password-42"), ("nobody-here", PASSWORD), ("jules@example.test", "nope")):
        web = WebClient(site.url)
        resp = web.sign_in(user, password)
        assert resp.status_code == 401 and error_of(resp.text) == "wrong username, email or password"
        assert web.who() is None
    for login in ("jules", "JULES@example.test"):
        web = WebClient(site.url)
        assert web.sign_in(login).headers["location"] == "/"
        assert web.who() == "jules"
    empty = WebClient(site.url).post("/login", {"user": "", "password": "x"})
    assert empty.status_code == 400 and error_of(empty.text).startswith("Username or email:")


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/x", "http:/evil",
                                    "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "evil.example"])
def test_next_leads_only_to_paths_of_this_site(site, target):
    web = WebClient(site.url)
    resp = web.post("/login", {"user": "alice", "token": site.tokens["alice"], "next": target})
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    assert 'name="next" value="/"' in web.get("/login", params={"next": target}).text
    assert web.get("/login/2fa", params={"next": target}).headers["location"] == "/"


def test_next_keeps_a_path_of_this_site(site):
    web = WebClient(site.url)
    resp = web.post("/login", {"user": "bob", "token": site.tokens["bob"], "next": "/alice/demo/pulls?state=all#x"})
    assert resp.headers["location"] == "/alice/demo/pulls?state=all#x"


def _web_form_posts() -> list[str]:
    from api.web import account, admin, authoring, editing, forms, join, security, settings, signin, sso, uploads

    modules = (account, admin, authoring, editing, forms, join, security, settings, signin, sso, uploads)
    return sorted({route.path for module in modules
                   for route in module.router.routes if "POST" in getattr(route, "methods", ())})


VALUES = {"owner": "alice", "name": "demo", "number": "1", "token_id": "1", "passkey_id": "1", "session_id": "1",
          "ref": "main", "rest": "main/notes.md"}


def test_every_form_refuses_a_post_without_its_csrf_token_or_from_another_origin(site):
    web = WebClient(site.url)
    web.post("/login", {"user": "alice", "token": site.tokens["alice"]})
    token = csrf_of(web.get("/settings/account").text)
    posts = _web_form_posts()
    assert len(posts) >= 30, posts
    refused = []
    for path in posts:
        url = re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: VALUES[m.group(1)], path)
        bare = web.http.post(url, data={"value": "true", "email": "x@example.test"})
        foreign = web.http.post(url, data={"csrf": token}, headers={"Origin": "http://evil.example"})
        forged = web.http.post(url, data={"csrf": "f" * 64})
        if not (bare.status_code == 403 and "CSRF" in bare.text and foreign.status_code == 403
                and "cross-origin" in foreign.text and forged.status_code == 403):
            refused.append(f"{path}: {bare.status_code} {foreign.status_code} {forged.status_code}")
    assert not refused, "forms that took a POST without a good CSRF token and origin:\n" + "\n".join(refused)
    assert web.who() == "alice"  # nothing above signed her out


def test_a_token_before_sign_in_is_worth_nothing_after_it(site):
    web = WebClient(site.url)
    before = csrf_of(web.get("/login").text)
    web.post("/login", {"user": "alice", "token": site.tokens["alice"]})
    stale = web.http.post("/settings/tokens", data={"csrf": before, "scope": "read"})
    assert stale.status_code == 403


def _enrol_totp(web: WebClient) -> tuple[str, list[str]]:
    page = web.post("/settings/security/totp", {}, page="/settings/security")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    assert "<svg" in page.text and "<script" not in page.text.split("<main>")[1]  # the QR code is drawn by the server
    handle = re.search(r'name="handle" value="([^"]+)"', page.text).group(1)
    done = web.http.post("/settings/security/totp/confirm",
                         data={"csrf": csrf_of(page.text), "handle": handle, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, error_of(done.text)
    codes = re.findall(r"<li><code>([^<]+)</code></li>", done.text.split('id="recovery-codes"')[1])
    assert len(codes) == 10
    return secret, codes


def test_the_second_factor_step_leaves_a_half_signed_in_session_no_one(site):
    web = WebClient(site.url)
    web.join("tess", "tess@example.test")
    secret, codes = _enrol_totp(web)
    assert "Recovery codes left: <strong id=\"codes-left\">10" in web.get("/settings/security").text
    web.post("/logout", {}, page="/")
    step = web.sign_in("tess", next_path="/settings/tokens")
    assert step.headers["location"] == "/login/2fa?next=/settings/tokens"
    assert web.get("/settings/account").status_code == 401  # not signed in yet
    assert web.get("/api/v1/user").status_code == 401
    assert web.who() is None
    wrong = web.post("/login/2fa", {"code": "000000", "next": "/settings/tokens"}, page="/login/2fa")
    assert wrong.status_code == 401 and error_of(wrong.text).startswith("Code:")
    ok = web.post("/login/2fa", {"kind": "recovery", "code": codes[0], "next": "/settings/tokens"}, page="/login/2fa")
    assert ok.headers["location"] == "/settings/tokens" and web.who() == "tess"
    web.post("/logout", {}, page="/")
    web.sign_in("tess")
    reused = web.post("/login/2fa", {"kind": "recovery", "code": codes[0]}, page="/login/2fa")
    assert reused.status_code == 401
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step: the enrolment used this one
    assert web.post("/login/2fa", {"code": code}, page="/login/2fa").status_code == 303
    assert web.who() == "tess"
    token = WebClient(site.url)  # a token is a first factor too: the second follows
    made = web.post("/settings/tokens", {"scope": "read"})
    new_token = re.search(r"<code>(rgt_[^<]+)</code>", made.text).group(1)
    assert token.post("/login", {"user": "tess", "token": new_token}).headers["location"] == "/login/2fa"


def test_the_callers_account_and_data_by_token_or_session(site):
    web = WebClient(site.url)
    web.join("uma", "uma@example.test")
    by_session = web.get("/api/v1/user")
    assert by_session.status_code == 200 and by_session.json()["username"] == "uma"
    assert by_session.json()["two_factor"] is False and by_session.json()["has_password"] is True
    made = web.post("/settings/tokens", {"scope": "write"})
    token = re.search(r"<code>(rgt_[^<]+)</code>", made.text).group(1)
    api = httpx.Client(base_url=site.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert api.post("/templates", json={"name": "uma-notes"}).status_code == 201
    assert api.put("/templates/alice/missing/star").status_code == 404
    export = api.get("/user/export").json()
    assert export["profile"]["username"] == "uma" and export["profile"]["email"] == "uma@example.test"
    assert export["templates"][0]["clone_url"] == f"{site.url}/uma/uma-notes.git"
    assert {"user.joined", "token.created", "template.created"} <= {e["action"] for e in export["events"]}
    assert export["sessions"] and export["sessions"][0]["user_agent"].endswith("Firefox/140.0")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", export["profile"]["created_at"])
    assert token not in str(export) and "password" not in str(export["profile"]).replace("has_password", "")
    assert web.get("/api/v1/user/export").json()["profile"]["username"] == "uma"  # the session's cookie
    download = web.get("/settings/account/export")
    assert download.headers["content-disposition"] == 'attachment; filename="uma-registry-data.json"'
    assert download.json()["templates"][0]["name"] == "uma/uma-notes"
    anonymous = httpx.get(site.url + "/api/v1/user/export")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthenticated"
    doc = httpx.get(site.url + "/openapi.json").json()
    ok = doc["paths"]["/api/v1/user/export"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/UserExport"}
    assert {"bearer": []} in doc["paths"]["/api/v1/user/export"]["get"]["security"]


def test_admins_list_users_through_the_api(site):
    def api(who: str) -> httpx.Client:
        return httpx.Client(base_url=site.url + "/api/v1", headers={"Authorization": f"Bearer {site.tokens[who]}"})

    assert api("alice").get("/admin/users").status_code == 403
    listed = api("root").get("/admin/users", params={"q": "ali", "per_page": 5})
    assert listed.status_code == 200 and [u["username"] for u in listed.json()] == ["alice"]
    assert int(listed.headers["x-total-count"]) == 1


def test_deleting_an_account_deletes_or_transfers_each_template(site):
    web = WebClient(site.url)
    web.join("vera", "vera@example.test")
    made = web.post("/settings/tokens", {"scope": "write"})
    token = re.search(r"<code>(rgt_[^<]+)</code>", made.text).group(1)
    api = httpx.Client(base_url=site.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    for name in ("vera-keep", "vera-drop"):
        assert api.post("/templates", json={"name": name}).status_code == 201
    page = web.get("/settings/account").text
    assert "vera/vera-keep" in page and "vera/vera-drop" in page
    rows = {"template": ["vera/vera-drop", "vera/vera-keep"], "action": ["delete", "transfer"], "heir": ["", "bob"]}
    for change, said in (({"confirm": "someone"}, "Confirm: type your username"),
                         ({"proof": "not-my-password"}, "Password or code: this is not your password"),
                         ({"heir": ["", "no-such-user"]}, "Your templates: vera/vera-keep: there is no user"),
                         ({"template": ["vera/vera-keep"], "action": ["transfer"], "heir": ["bob"]},
                          "Your templates: say for each")):
        form = {**rows, "confirm": "vera", "proof": PASSWORD, **change}
        refused = web.post("/settings/account/delete", form, page="/settings/account")
        assert refused.status_code == 400 and error_of(refused.text).startswith(said), error_of(refused.text)
    done = web.post("/settings/account/delete", {**rows, "confirm": "vera", "proof": PASSWORD}, page="/settings/account")
    assert done.headers["location"] == "/?notice=deleted" and "registry_session=\"\"" in done.headers["set-cookie"]
    assert web.who() is None and "Your account is deleted." in web.get("/?notice=deleted").text
    public = httpx.Client(base_url=site.url + "/api/v1", headers={"Authorization": f"Bearer {site.tokens['bob']}"})
    assert public.get("/templates/bob/vera-keep").json()["owner"] == "bob"
    assert public.get("/templates/vera/vera-drop").status_code == 404
    assert api.get("/user").status_code == 401  # the token went with the account
    assert WebClient(site.url).sign_in("vera").status_code == 401


def test_changing_the_password_needs_the_current_one(site):
    web = WebClient(site.url)
    web.join("wren", "wren@example.test")
    wrong = web.post("/settings/account/password", {"current_password": "nope-nope-nope", "new_password": OTHER_PASSWORD},
                     page="/settings/account")
    assert wrong.status_code == 400 and error_of(wrong.text).startswith("Current password:")
    weak = web.post("/settings/account/password", {"current_password": PASSWORD, "new_password": "wren12345678"},
                    page="/settings/account")
    assert weak.status_code == 400 and error_of(weak.text).startswith("New password: too easy to guess")
    done = web.post("/settings/account/password", {"current_password": PASSWORD, "new_password": OTHER_PASSWORD},
                    page="/settings/account")
    assert done.headers["location"] == "/settings/account?notice=password_changed" and web.who() == "wren"
    assert WebClient(site.url).sign_in("wren", OTHER_PASSWORD).status_code == 303


def _through_provider(web: WebClient, oidc_provider, username: str, start: str = "/login/oidc") -> httpx.Response:
    """Start single sign-on, sign in at the provider; the redirect back to the registry (not followed)."""
    begin = web.get(start)
    assert begin.status_code == 303 and begin.headers["location"].startswith(oidc_provider.issuer)
    return sign_in(web.http, begin.headers["location"], username, leave_at=f"{web.url}/login/oidc/callback")


def test_a_new_identity_joins_under_a_chosen_name_and_signs_in_after(site, oidc_provider):
    web = WebClient(site.url)
    back = _through_provider(web, oidc_provider, "pia")
    choose = web.follow(back)
    assert choose.status_code == 200 and "Welcome, pia" in choose.text and 'value="pia"' in choose.text
    taken = web.post("/login/oidc/join", {"username": "alice"}, page="/login")
    assert taken.status_code == 409 and error_of(taken.text).startswith("Username: this username is taken")
    reserved = web.post("/login/oidc/join", {"username": "settings"}, page="/login")
    assert reserved.status_code == 400 and "reserved" in error_of(reserved.text)
    joined = web.post("/login/oidc/join", {"username": "pia"}, page="/login")  # the identity waited
    assert joined.headers["location"] == "/settings/account?notice=joined" and web.who() == "pia"
    me = web.get("/api/v1/user").json()
    assert me["email"] == "pia@example.test" and me["email_verified"] and not me["has_password"]
    web.post("/logout", {}, page="/")
    again = web.follow(_through_provider(web, oidc_provider, "pia"))  # known now: straight in
    assert again.headers["location"] == "/" and web.who() == "pia"
    # No password and no second factor: the fresh round trip through the provider is the proof.
    gone = web.post("/settings/account/delete", {"confirm": "pia"}, page="/settings/account")
    assert gone.headers["location"] == "/?notice=deleted"


def test_an_answer_from_the_provider_signs_in_only_the_browser_that_asked(site, oidc_provider):
    asker, victim = WebClient(site.url), WebClient(site.url)
    back = _through_provider(asker, oidc_provider, "mallory")
    planted = victim.get(back.headers["location"].replace(site.url, ""))
    assert planted.status_code == 400 and "not for this browser" in planted.text and victim.who() is None
    assert asker.follow(back).status_code == 200  # the browser that asked goes on


def test_linking_an_identity_needs_its_owner_signed_in_and_confirming(site, oidc_provider):
    web = WebClient(site.url)
    WebClient(site.url).join("quinn", "quinn@example.test")
    choose = web.follow(_through_provider(web, oidc_provider, "quinn-at-work"))
    assert "Sign in and link" in choose.text  # an address alone links nothing
    assert web.get("/login/oidc/link").headers["location"] == "/login?next=/login/oidc/link"
    signed = web.sign_in("quinn", next_path="/login/oidc/link")
    confirm = web.follow(signed)
    assert "Link to quinn" in confirm.text
    linked = web.post("/login/oidc/link", {}, page="/login/oidc/link")
    assert linked.headers["location"] == "/settings/security?notice=linked"
    assert "quinn-at-work@example.test" in web.get("/settings/security").text
    web.post("/logout", {}, page="/")
    web.follow(_through_provider(web, oidc_provider, "quinn-at-work"))
    assert web.who() == "quinn"


def test_factors_are_renewed_and_removed_only_with_proof(site):
    web, other = WebClient(site.url), WebClient(site.url)
    web.join("yara", "yara@example.test")
    _, codes = _enrol_totp(web)
    other.sign_in("yara")
    wrong = web.post("/settings/security/recovery-codes", {"proof": "not-it-at-all"}, page="/settings/security")
    assert wrong.status_code == 400 and error_of(wrong.text).startswith("Password or code:")
    renewed = web.post("/settings/security/recovery-codes", {"proof": codes[0]}, page="/settings/security")
    fresh = re.findall(r"<li><code>([^<]+)</code></li>", renewed.text)
    assert len(fresh) == 10 and not set(fresh) & set(codes)  # the old ones stop working
    assert web.post("/settings/security/totp/remove", {"proof": codes[1]}, page="/settings/security").status_code == 400
    removed = web.post("/settings/security/totp/remove", {"proof": PASSWORD}, page="/settings/security")
    assert removed.headers["location"] == "/settings/security?notice=totp_removed"
    assert "Set up an authenticator app" in web.get("/settings/security").text
    assert other.who() is None and web.who() == "yara"  # a removed factor ends every other session
    missing = web.post("/settings/security/passkeys/999/remove", {"proof": PASSWORD}, page="/settings/security")
    assert missing.status_code == 400 and error_of(missing.text) == "Passkey: no such passkey"
    junk = web.post("/settings/security/passkeys", {"handle": "x", "credential": "not json", "name": "k"},
                    page="/settings/security")
    assert junk.status_code == 400 and "start again" in error_of(junk.text)  # no ceremony of that handle
