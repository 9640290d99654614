"""The file pages (tree, blob, raw, history, blame at any ref) and the prompt-first template
page with its "use this template" panel, over plain HTTP against a served registry."""
from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from tests.gitcli import commit_file, git

pytestmark = pytest.mark.timeout(300)

SYSTEM_V1 = "# Analyst\n\nYou study {{ topic }} for **{{ audience }}**.\n"
SYSTEM_V2 = SYSTEM_V1 + "\nKeep it short.\n"
MANIFEST = {"title": "File pages", "description": "pages", "industry": "other", "useCase": "testing",
            "tags": ["pages"], "status": "published",
            "promptConfig": {"systemPrompt": {"file": "prompts/system.md"},
                             "userPromptTemplate": "Write about {{ topic }}{% if audience %} for {{ audience }}{% endif %}.",
                             "parameters": [{"name": "topic", "type": "string", "required": True, "default": "tides"},
                                            {"name": "audience", "type": "string", "default": "sailors"}]}}


@pytest.fixture(scope="module")
def files_repo(tmp_path_factory, _shared_local):
    env = _shared_local
    info = env.create("file-pages")
    work = env.clone(info["clone_url"], "alice", tmp_path_factory.mktemp("file-pages") / "w")
    commit_file(work, "prompts/system.md", SYSTEM_V1, "system prompt")
    commit_file(work, "template.json", json.dumps(MANIFEST, indent=2), "manifest")
    commit_file(work, "tools/run.py", 'def main():\n    return "<script>alert(1)</script>"\n', "tool")
    commit_file(work, "evil.html", "<html><script>alert(document.cookie)</script></html>\n", "html file")
    commit_file(work, "data.bin", b"\x00\x01\x02binary", "binary")
    commit_file(work, "prompts/system.md", SYSTEM_V2, "shorter answers")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    git("checkout", "-q", "-b", "feature/x", cwd=work)
    commit_file(work, "tools/extra.txt", "only on the branch\n", "branch file")
    git("push", "-q", "origin", "feature/x", cwd=work)
    return env


def _web(env) -> httpx.Client:
    return httpx.Client(base_url=env.url, timeout=30)


def test_tree_lists_directories_first_at_any_ref(files_repo):
    with _web(files_repo) as web:
        root = web.get("/alice/file-pages/tree/main/")
        assert root.status_code == 200 and "script-src" not in root.headers["content-security-policy"]
        names = re.findall(r'/alice/file-pages/(?:tree|blob)/main/([^"]+)"', root.text)
        assert names.index("prompts") < names.index("template.json") and "tools" in names
        sub = web.get("/alice/file-pages/tree/main/tools")
        assert "run.py" in sub.text and "extra.txt" not in sub.text
        branch = web.get("/alice/file-pages/tree/feature/x/tools")  # a ref with a slash
        assert branch.status_code == 200 and "extra.txt" in branch.text
        assert web.get("/alice/file-pages/tree/main/nothing-here").status_code == 404
        assert web.get("/alice/file-pages/tree/no-such-branch/").status_code == 404
        assert web.get("/alice/file-pages/tree/main/../../etc").status_code in (400, 404)


def test_a_file_is_highlighted_on_the_server_and_escaped(files_repo):
    with _web(files_repo) as web:
        page = web.get("/alice/file-pages/blob/main/tools/run.py")
        assert page.status_code == 200 and 'id="L2"' in page.text
        assert '<span class="k">def</span>' in page.text  # Pygments' token classes, coloured by highlight.css
        assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text
        css = web.get("/static/highlight.css")
        assert css.status_code == 200 and ".hl .k" in css.text
        md = web.get("/alice/file-pages/blob/main/prompts/system.md")
        assert "<h1>Analyst</h1>" in md.text and "<strong>" in md.text
        source = web.get("/alice/file-pages/blob/main/prompts/system.md?plain=1")
        assert "<h1>Analyst</h1>" not in source.text and 'id="L5"' in source.text
        binary = web.get("/alice/file-pages/blob/main/data.bin")
        assert binary.status_code == 200 and "binary" in binary.text and 'id="code"' not in binary.text
        assert web.get("/alice/file-pages/blob/main/tools").status_code == 404


def test_raw_is_never_a_page_of_the_site(files_repo):
    with _web(files_repo) as web:
        html = web.get("/alice/file-pages/raw/main/evil.html")
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/plain")
        assert "sandbox" in html.headers["content-security-policy"] and html.headers["x-content-type-options"] == "nosniff"
        assert html.text.startswith("<html><script>")
        binary = web.get("/alice/file-pages/raw/main/data.bin")
        assert binary.headers["content-type"] == "application/octet-stream" and binary.content == b"\x00\x01\x02binary"


def test_history_and_blame_of_one_file(files_repo):
    with _web(files_repo) as web:
        history = web.get("/alice/file-pages/commits/main/prompts/system.md")
        assert history.status_code == 200
        listed = re.findall(r"<code>([0-9a-f]{10})</code></a>\s*([^<\n]+)", history.text)
        assert [m.strip() for _, m in listed] == ["shorter answers", "system prompt"]
        whole = web.get("/alice/file-pages/commits/main/")
        assert "html file" in whole.text and "branch file" not in whole.text  # the whole history of main
        blame = web.get("/alice/file-pages/blame/main/prompts/system.md")
        assert blame.status_code == 200
        rows = re.findall(r'<tr id="L(\d+)"', blame.text)
        assert rows == ["1", "2", "3", "4", "5"]
        assert "shorter answers" in blame.text and "system prompt" in blame.text
        assert web.get("/alice/file-pages/blame/main/prompts").status_code == 404


def test_private_files_are_hidden_from_strangers(files_repo, tmp_path):
    env = files_repo
    info = env.create("file-pages-private", visibility="private")
    work = env.clone(info["clone_url"], "alice", tmp_path / "p")
    commit_file(work, "secret.md", "# hush\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with _web(env) as web:
        for view in ("tree/main/", "blob/main/secret.md", "raw/main/secret.md", "commits/main/secret.md",
                     "blame/main/secret.md"):
            assert web.get(f"/alice/file-pages-private/{view}").status_code == 404, view


def test_the_template_page_leads_with_the_prompt_and_renders_it_with_values(files_repo):
    with _web(files_repo) as web:
        page = web.get("/alice/file-pages")
        assert page.status_code == 200
        assert page.text.index('id="prompt-system"') < page.text.index('id="readme"')
        system = page.text.split('id="prompt-system"')[1].split("</article>")[0]
        assert '<mark class="param">{{ topic }}</mark>' in system  # a parameter, marked, in rendered Markdown
        assert "<h1>Analyst</h1>" in page.text
        assert "\\n" not in page.text.split('id="prompt-system"')[1].split("</article>")[0]  # not an escaped JSON string
        assert 'id="rendered-user">Write about tides for sailors.' in page.text  # defaults, rendered in-process
        used = web.get("/alice/file-pages", params={"p:topic": "<b>eels</b>", "p:audience": "", "render": "1"})
        assert 'id="rendered-user">Write about &lt;b&gt;eels&lt;/b&gt; for sailors.' in used.text
        messages = json.loads(re.search(r'id="export-openai">(.*?)</pre>', used.text, re.S).group(1)
                              .replace("&#34;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
        assert messages[0]["role"] == "system" and "<b>eels</b>" in messages[0]["content"]
        assert messages[1] == {"role": "user", "content": "Write about <b>eels</b> for sailors."}


def test_a_hostile_prompt_is_rendered_only_on_request_and_stopped_by_its_limits(files_repo, tmp_path):
    env = files_repo
    info = env.create("file-pages-loop")
    work = env.clone(info["clone_url"], "alice", tmp_path / "loop")
    manifest = {**MANIFEST, "promptConfig": {
        "systemPrompt": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "userPromptTemplate": "{{ topic }}", "parameters": [{"name": "topic", "type": "string", "default": "x"}]}}
    commit_file(work, "template.json", json.dumps(manifest))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with _web(env) as web:
        start = time.monotonic()
        view = web.get("/alice/file-pages-loop")
        assert view.status_code == 200 and 'id="render-deferred"' in view.text  # a view starts no process
        assert time.monotonic() - start < 2
        start = time.monotonic()
        asked = web.get("/alice/file-pages-loop", params={"render": "1"})
        assert asked.status_code == 200 and 'id="render-error"' in asked.text
        assert time.monotonic() - start < 6
        bad = web.get("/alice/file-pages", params={"p:topic": "x" * 20_000, "render": "1"})
        assert bad.status_code == 400
