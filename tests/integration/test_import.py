"""`registry import DIR --owner USER` against a served registry."""
from __future__ import annotations

import json

import httpx

from tests.gitcli import git
from tests.services import registry_server


def test_import_folders_as_valid_templates(tmp_path):
    src = tmp_path / "prompts"
    (src / "Risk Report").mkdir(parents=True)
    (src / "Risk Report" / "system.md").write_text("You analyse {{ portfolio }} risk.\n")
    (src / "Risk Report" / "user.md").write_text("Summarise {{ quarter }} for {{ audience }}.\n")
    (src / "Risk Report" / "README.md").write_text("# Quarterly risk\n\nDrafts a risk summary.\n")
    (src / "plain").mkdir()
    (src / "plain" / "system.md").write_text("Be brief.\n")
    (src / "broken").mkdir()
    (src / "broken" / "system.md").write_text("Hello {{ name \n")
    (src / "notes").mkdir()
    (src / "notes" / "README.md").write_text("not a template\n")
    with registry_server(tmp_path / "data") as server:
        server.accounts(("alice",), {})
        res = server.cli("import", str(src), "--owner", "alice", check=False)
        assert res.returncode == 0, res.stderr  # a prompt that is no valid Jinja2 imports as text
        assert "imported 3 of 3 templates for alice" in res.stdout
        assert "importing" in res.stderr  # the progress bar
        assert 'alice/risk-report' in res.stderr and 'description "Drafts a risk summary."' in res.stderr
        with httpx.Client(base_url=server.url + "/api/v1") as api:
            risk = api.get("/templates/alice/risk-report").json()
            assert risk["manifest"]["title"] == "Risk Report"  # from the name
            assert risk["manifest"]["description"] == "Drafts a risk summary."  # the README's first paragraph
            assert [p["name"] for p in risk["manifest"]["promptConfig"]["parameters"]] == [
                "audience", "portfolio", "quarter"]
            assert risk["checks"]["validate"]["state"] == "success", risk["checks"]
            plain = api.get("/templates/alice/plain").json()
            assert plain["manifest"]["promptConfig"]["userPromptTemplate"] == "{{ input }}"
            broken = api.get("/templates/alice/broken").json()
            assert broken["manifest"]["promptConfig"]["format"] == "text"
            assert api.get("/templates/alice/notes").status_code == 404
        clone = tmp_path / "clone"
        git("clone", "-q", f"{server.url}/alice/risk-report.git", str(clone))
        assert (clone / "prompts" / "user.md").read_text() == "Summarise {{ quarter }} for {{ audience }}.\n"
        assert json.loads((clone / "template.json").read_text())["metadata"]["importedFrom"] == "Risk Report"
        again = server.cli("import", str(src), "--owner", "alice", check=False)
        assert again.returncode == 1 and "already exists" in again.stderr
        (tmp_path / "more" / "Code Review").mkdir(parents=True)
        (tmp_path / "more" / "Code Review" / "system.md").write_text(
            "You review Python code in pull requests: find bugs, security holes and missing tests.\n")
        kept = server.cli("import", str(tmp_path / "more"), "--owner", "alice", "--keep", "tags,industry",
                          check=False)
        assert kept.returncode == 0, kept.stderr
        with httpx.Client(base_url=server.url + "/api/v1") as api:
            manifest = api.get("/templates/alice/code-review").json()["manifest"]
        assert manifest["tags"] == ["imported"] and manifest["industry"] == "other"  # kept: not guessed
        assert manifest["useCase"] == "coding" and manifest["title"] == "Code Review"  # guessed
        bad = server.cli("import", str(tmp_path / "more"), "--owner", "alice", "--keep", "colour", check=False)
        assert bad.returncode == 1 and "--keep takes" in bad.stderr and "Traceback" not in bad.stderr


def test_import_errors_are_one_line(tmp_path):
    with registry_server(tmp_path / "data") as server:
        res = server.cli("import", str(tmp_path / "nope"), "--owner", "alice", check=False)
        assert res.returncode != 0 and res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
        server.accounts(("alice",), {})
        res = server.cli("import", str(tmp_path), "--owner", "alice", check=False)
        assert res.returncode != 0 and "no sub-folder" in res.stderr
