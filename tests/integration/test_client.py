"""The typed client (`api.client`) against the server's own OpenAPI document, and the CLI's remote
commands that use it: `registry validate --remote` and `registry import --remote`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from api.client import OPERATIONS, ApiError, RegistryClient
from api.models.templates import CreateTemplate
from tests.gitcli import git
from tests.unit.usecases import MINIMAL


def _cli(*args: str, token: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    if token:
        env["REGISTRY_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True)


def test_every_client_operation_is_in_the_document_with_its_model(local_env):
    doc = httpx.get(local_env.url + "/openapi.json").json()
    for name, (method, path, model) in OPERATIONS.items():
        op = doc["paths"].get(path, {}).get(method)
        assert op is not None, f"{name}: {method.upper()} {path} is not in the document"
        success = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        if model is None:
            assert list(success) == ["204"], name
            continue
        assert success, name
        for response in success.values():  # a PUT answers 200 or 201 (replaced or created), the same shape
            assert response["content"]["application/json"]["schema"] == {
                "$ref": f"#/components/schemas/{model.__name__}"}, name


def test_client_round_trip_and_errors(local_env):
    with RegistryClient(local_env.url, local_env.tokens["alice"]) as client:
        made = client.create_template(CreateTemplate(name="via-client", description="made by the client"))
        assert made.full_name == "alice/via-client" and made.default_branch == "main"
        assert client.get_template("alice", "via-client").description == "made by the client"
        with pytest.raises(ApiError) as caught:
            client.create_template(CreateTemplate(name="via-client"))
        assert caught.value.status == 409 and caught.value.code
        client.delete_template("alice", "via-client")
        with pytest.raises(ApiError) as caught:
            client.get_template("alice", "via-client")
        assert caught.value.status == 404
    with RegistryClient(local_env.url) as anonymous, pytest.raises(ApiError) as caught:
        anonymous.create_template(CreateTemplate(name="nobody"))
    assert caught.value.status == 401


def test_validate_remote_reports_the_servers_problems(local_env, tmp_path):
    folder = tmp_path / "t"
    (folder / "prompts").mkdir(parents=True)
    (folder / "template.json").write_text(json.dumps({**MINIMAL, "title": 5, "tags": "not-a-list"}))
    res = _cli("validate", str(folder), "--remote", local_env.url, token=local_env.tokens["alice"])
    local = _cli("validate", str(folder), token=None)
    assert res.returncode == local.returncode == 1, res.stderr
    assert res.stdout == local.stdout  # the same problems, said the same way
    assert "$.title: " in res.stdout and "$.tags: " in res.stdout
    (folder / "template.json").write_text(json.dumps(MINIMAL))
    good = _cli("validate", str(folder), "--remote", local_env.url, token=None)  # anonymous may validate
    assert good.returncode == 0 and good.stdout.strip() == f"{folder}: valid", good.stderr
    unreachable = _cli("validate", str(folder), "--remote", "http://127.0.0.1:9", token=None)
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert unreachable.stderr.startswith("registry: cannot reach")


def test_import_remote_creates_and_pushes_templates(local_env, tmp_path):
    src = tmp_path / "src"
    for name, text in (("Meeting Notes", "Summarise the meeting.\n"), ("Code Review", "Review this diff.\n")):
        (src / name).mkdir(parents=True)
        (src / name / "system.md").write_text(text)
    res = _cli("import", str(src), "--owner", "bob", "--remote", local_env.url, token=local_env.tokens["bob"])
    assert res.returncode == 0, res.stderr
    assert f"imported 2 of 2 templates for bob at {local_env.url}" in res.stdout
    with local_env.api("bob") as c:
        detail = c.get("/templates/bob/meeting-notes").json()
    assert detail["head_sha"] and detail["manifest"]["metadata"]["importedFrom"] == "Meeting Notes"
    assert local_env.check("meeting-notes", detail["head_sha"], user="bob")["state"] == "success"
    clone = local_env.clone(detail["clone_url"], "bob", tmp_path / "clone")
    assert (clone / "prompts" / "system.md").read_text() == "Summarise the meeting.\n"
    assert git("log", "--format=%s", cwd=clone).stdout.strip() == "Import Meeting Notes"
    # again: the names are taken, each is skipped with a one-line reason, nothing else changes
    again = _cli("import", str(src), "--owner", "bob", "--remote", local_env.url, token=local_env.tokens["bob"])
    assert again.returncode == 1 and "skipped Meeting Notes" in again.stderr and "Traceback" not in again.stderr
    no_token = _cli("import", str(src), "--owner", "bob", "--remote", local_env.url, token=None)
    assert no_token.returncode == 1 and "needs a token" in no_token.stderr
