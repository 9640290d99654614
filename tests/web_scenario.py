"""A template built to be hostile to its web pages: a README, manifest title, branch name, file
name and commit message that would run script if any page failed to escape them; a protected
main (one approval) and a pull-request branch that changes the manifest and a prompt line."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tests.gitcli import commit_file, git

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"
XSS_TITLE = "<script>alert('title')</script> risk writer"
XSS_BRANCH = 'x"><svg/onload=alert(1)>'
XSS_FILE = "notes <img src=x onerror=alert(2)>.md"
XSS_COMMIT = "<img src=x onerror=alert(3)> tune the prompt"
README = """# Risk writer

Drafts **credit risk** summaries. <script>alert('readme')</script>

[click me](javascript:alert('link')) and <img src=x onerror=alert('img')>
"""


@dataclass
class Scenario:
    owner: str
    name: str
    base_sha: str
    head_sha: str
    comment_line: int  # the line of template.json (new side) where maxTokens changed


def build(env, name: str, tmp: Path) -> Scenario:
    """In `env` (tests/integration/conftest.Env): alice's template with bob as maintainer."""
    info = env.create(name)
    work = tmp / name
    env.clone(info["clone_url"], "alice", work)
    manifest = json.loads((EXAMPLES / "minimal.template.json").read_text())
    manifest["title"] = XSS_TITLE
    commit_file(work, "README.md", README)
    base = commit_file(work, "template.json", json.dumps(manifest, indent=2) + "\n", "first version")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    git("checkout", "-q", "-b", XSS_BRANCH, cwd=work)
    manifest["promptConfig"]["constraints"]["maxTokens"] = 400
    manifest["tags"] = [*manifest["tags"], "quarterly"]
    text = json.dumps(manifest, indent=2) + "\n"
    line = next(i for i, row in enumerate(text.splitlines(), 1) if '"maxTokens": 400' in row)
    commit_file(work, "template.json", text, "shorter answers")
    head = commit_file(work, XSS_FILE, "some notes\n", XSS_COMMIT)
    git("push", "-q", "origin", f"HEAD:refs/heads/{XSS_BRANCH}", cwd=work)
    with env.api() as c:
        assert c.put(f"/templates/alice/{name}/collaborators/bob", json={"role": "maintainer"}).status_code == 204
        assert c.put(f"/templates/alice/{name}/protection/main", json={"required_approvals": 1}).status_code == 200
    return Scenario("alice", name, base, head, line)


CONFLICT_PROMPT = "You are careful.\nBe brief.\nCite sources.\n"


@dataclass
class Conflicted:
    owner: str
    name: str
    number: int  # the pull request from `feature` into main, which conflicts
    head_sha: str
    base_sha: str
    work: Path  # alice's clone


def build_conflict(env, name: str, tmp: Path, writer: str = "bob") -> Conflicted:
    """alice's template `name` (`writer` may write) with a pull request from `feature` into main
    that conflicts in a prompt line (hostile text on both sides), template.json's title and a test
    case, while other changes of both merge by themselves."""
    info = env.create(name)
    work = tmp / name
    env.clone(info["clone_url"], "alice", work)
    manifest = json.loads((EXAMPLES / "minimal.template.json").read_text())
    case = {"name": "mentions the quarter", "parameters": {"quarter": "Q3"}, "assert": [{"type": "contains",
                                                                                        "value": "Q3"}]}

    def write(title: str, line: str, quarter: str, **more: object) -> None:
        commit_file(work, "template.json", json.dumps({**manifest, "title": title, **more}, indent=2) + "\n")
        commit_file(work, "prompts/system.md", CONFLICT_PROMPT.replace("Be brief.", line))
        commit_file(work, "tests/basic.json", json.dumps([{**case, "parameters": {"quarter": quarter}}], indent=2)
                    + "\n")

    write(manifest["title"], "Be brief.", "Q3")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    git("checkout", "-q", "-b", "feature", cwd=work)
    write("Feature title", "Be brief. <script>alert('ours')</script>", "Q4", tags=["feature"])
    head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    git("push", "-q", "origin", "feature", cwd=work)
    git("checkout", "-q", "main", cwd=work)
    write("Main title", "Be short. <img src=x onerror=alert('theirs')>", "Q1", description="From main")
    base = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    git("push", "-q", "origin", "main", cwd=work)
    with env.api() as c:
        assert c.put(f"/templates/alice/{name}/collaborators/{writer}", json={"role": "writer"}).status_code == 204
        resp = c.post(f"/templates/alice/{name}/pulls", json={"title": "Feature", "head": "feature", "base": "main"})
        assert resp.status_code == 201, resp.text
    return Conflicted("alice", name, resp.json()["number"], head, base, work)
