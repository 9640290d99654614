"""/new over plain HTTP: a template from the form (rows added by buttons, no script), checked
before anything is made, created with one commit that a push's checks then pass; or a fork."""
from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.gitcli import git
from tests.webclient import csrf as _csrf
from tests.webclient import signed_in as _login

pytestmark = pytest.mark.timeout(300)




def _fields(html: str) -> dict[str, str]:
    """The /new form's fields with the values the page shows (inputs, selects, textareas)."""
    form = html.split('id="new-form"', 1)[1]
    out = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) in ("radio", "checkbox") and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        out[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select name="([^"]+)">(.*?)</select>', form, re.S):
        chosen = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)', body)
        if chosen:
            out[name] = chosen.group(1) if chosen.group(1) is not None else chosen.group(2)
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        out[name] = body
    return {k: v.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            for k, v in out.items()}


def test_a_template_from_the_form(local_env, tmp_path):
    env = local_env
    assert httpx.get(f"{env.url}/new").status_code == 401
    alice = _login(env, "alice")
    page = alice.get("/new", params={"example": "risk-report"})
    assert page.status_code == 200 and 'id="new-form"' in page.text
    fields = _fields(page.text)
    assert fields["title"] == "Quarterly risk report writer" and fields["param-count"] == "2"

    added = alice.post("/new", data={**fields, "csrf": _csrf(page.text), "name": "from-form", "row": "add:param"})
    assert added.status_code == 200
    fields = _fields(added.text)
    assert fields["param-count"] == "3" and fields["name"] == "from-form" and fields["title"] == "Quarterly risk report writer"

    bad = {**fields, "csrf": _csrf(page.text), "param-2-name": "tone", "userPromptTemplate": "Write {{ mood }}.",
           "title": "", "action": "create"}
    refused = alice.post("/new", data=bad)
    assert refused.status_code == 422 and 'id="new-error"' in refused.text
    assert "mood" in refused.text and "nothing was created" in refused.text
    assert alice.get("/alice/from-form").status_code == 404

    good = {**bad, "title": "From the form", "userPromptTemplate": "Summarise {{ portfolio }} for {{ quarter }} in a {{ tone }} tone."}
    made = alice.post("/new", data=good)
    assert made.status_code == 303 and made.headers["location"] == "/alice/from-form", made.text[-2000:]
    clone = env.clone(f"{env.url}/alice/from-form.git", "alice", tmp_path / "c")
    manifest = json.loads((clone / "template.json").read_text())
    assert manifest["title"] == "From the form" and manifest["promptConfig"]["systemPrompt"] == {"file": "prompts/system.md"}
    assert [p["name"] for p in manifest["promptConfig"]["parameters"]] == ["portfolio", "quarter", "tone"]
    assert (clone / "prompts" / "user.md").read_text() == good["userPromptTemplate"] + "\n"
    assert (clone / "README.md").exists() and json.loads((clone / "tests" / "basic.json").read_text())["parameters"]
    sha = git("rev-parse", "HEAD", cwd=clone).stdout.strip()
    assert env.check("from-form", sha)["state"] == "success"
    shown = alice.get("/alice/from-form")
    assert "<mark class=\"param\">{{ tone }}</mark>" in shown.text

    again = alice.post("/new", data=good)
    assert again.status_code == 422 and "already exists" in again.text


def test_fork_from_the_new_page(local_env):
    env = local_env
    env.create("fork-me")
    bob = _login(env, "bob")
    csrf = _csrf(bob.get("/new").text)
    done = bob.post("/new/fork", data={"csrf": csrf, "source": "alice/fork-me"})
    assert done.status_code == 303 and done.headers["location"] == "/bob/fork-me"
    assert bob.post("/new/fork", data={"csrf": csrf, "source": "nobody"}).status_code == 400


def test_the_manifest_edited_through_the_form_keeps_unknown_keys_and_order(local_env, tmp_path):
    env = local_env
    alice = _login(env, "alice")
    page = alice.get("/new", params={"example": "risk-report"})
    made = alice.post("/new", data={**_fields(page.text), "csrf": _csrf(page.text), "name": "form-edited",
                                    "action": "create"})
    assert made.status_code == 303
    work = env.clone(f"{env.url}/alice/form-edited.git", "alice", tmp_path / "w")
    manifest = json.loads((work / "template.json").read_text())
    manifest = {"x-owner-note": {"keep": [1, 2]}, **manifest}
    (work / "template.json").write_text(json.dumps(manifest, indent=2) + "\n")
    git("commit", "-qam", "a key the form does not know", cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work)

    form_page = alice.get("/alice/form-edited/manifest/main")
    assert form_page.status_code == 200 and 'id="manifest-form"' in form_page.text
    fields = _fields(form_page.text.replace('id="manifest-form"', 'id="new-form"'))
    assert fields["systemPrompt"] == "You are a careful credit risk analyst.\n"  # read from prompts/system.md
    fields.update(title="Edited by form", systemPrompt="You are a terse analyst.\n", action="commit", choice="direct",
                  message="retitle")
    done = alice.post("/alice/form-edited/manifest/main", data=fields)
    assert done.status_code == 303, done.text[-1500:]
    git("pull", "-q", "origin", "main", cwd=work)
    after = json.loads((work / "template.json").read_text())
    assert list(after) == list(manifest) and after["x-owner-note"] == {"keep": [1, 2]}
    assert after["title"] == "Edited by form" and after["promptConfig"]["systemPrompt"] == {"file": "prompts/system.md"}
    assert (work / "prompts" / "system.md").read_text() == "You are a terse analyst.\n"
    changed = git("show", "--stat", "--format=", "HEAD", cwd=work).stdout
    assert "template.json" in changed and "prompts/system.md" in changed and "user.md" not in changed
