import copy
import json
import threading
import time
from pathlib import Path

import pytest

from registry import secrets_scan
from registry.errors import RefNotFound, TemplateNotFound
from registry.manifest import check, merge
from registry.secrets_scan import PATTERNS, PREFILTER, find_secret, literal_secrets

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples"
MINIMAL = json.loads((EXAMPLES / "minimal.template.json").read_text())
RICH = json.loads((EXAMPLES / "rich.template.json").read_text())


def files_of(manifest, **extra):
    data = {"template.json": json.dumps(manifest).encode(), **{k: v.encode() for k, v in extra.items()}}
    return lambda path: data.get(path)


def no_parents(template, ref):
    raise TemplateNotFound(f"template {template} not found")


def repos(**by_key):
    """A parent loader over {"owner/name@ref": FileSource}."""
    def load(template, ref):
        if f"{template}@{ref}" in by_key:
            return by_key[f"{template}@{ref}"]
        if any(k.startswith(template + "@") for k in by_key):
            raise RefNotFound(f"no branch, tag or commit {ref!r}")
        raise TemplateNotFound(f"template {template} not found")
    return load


def test_minimal_example_validates():
    result = check(files_of(MINIMAL), no_parents)
    assert result.problems == []


def test_rich_example_validates_once_parent_and_prompt_file_exist():
    parent = copy.deepcopy(MINIMAL)
    parent["promptConfig"]["parameters"] = []
    parent["promptConfig"]["userPromptTemplate"] = "{{ logline }}"
    parent["promptConfig"]["parameters"] = [{"name": "logline", "type": "string"}]
    loader = repos(**{"studio/drama-base@v1.2.0": files_of(parent)})
    result = check(files_of(RICH, **{"prompts/system.md": "You plan short dramas."}), loader)
    assert result.problems == []
    assert result.manifest["promptConfig"]["systemPrompt"] == "You plan short dramas."
    assert not check(files_of(RICH), loader).ok  # prompt file missing


@pytest.mark.parametrize("mutate, path, fragment", [
    (lambda m: m.update(industry="space"), "$.industry", "is not one of"),
    (lambda m: m.pop("title"), "$", "'title' is a required property"),
    (lambda m: m["promptConfig"]["parameters"][0].update(type="text"), "$.promptConfig.parameters[0].type", ""),
    (lambda m: m["promptConfig"].update(userPromptTemplate="{{ portfolio } for"), "$.promptConfig.userPromptTemplate",
     "Jinja2 syntax error"),
    (lambda m: m["promptConfig"].update(userPromptTemplate="{{ region }} {{ quarter }} {{ portfolio }}"),
     "$.promptConfig.userPromptTemplate", "variable 'region' is not a declared parameter"),
    (lambda m: m["promptConfig"]["parameters"].append({"name": "quarter", "type": "string"}),
     "$.promptConfig.parameters[2].name", "declared twice"),
    (lambda m: m["promptConfig"]["parameters"][0].update(default=3), "$.promptConfig.parameters[0].default",
     "not of type string"),
    (lambda m: m.update(mcpServers=[{"serverId": "x", "serverType": "custom", "tools": [
        {"name": "t", "inputSchema": {"type": "strin"}}]}]), "$.mcpServers[0].tools[0].inputSchema",
     "not a valid JSON Schema"),
    (lambda m: m.update(agentConfig={"steps": [{"id": "a", "uses": "mcp:nope/tool"}]}), "$.agentConfig.steps[0].uses",
     "no MCP tool"),
    (lambda m: m.update(saasIntegrations=[{"provider": "kling", "service": "t2v",
                                           "configuration": {"apiKey": "plain-text"}}]),
     "$.saasIntegrations[0].configuration.apiKey", "does not match"),
])
def test_invalid_manifests_name_the_json_path(mutate, path, fragment):
    manifest = copy.deepcopy(MINIMAL)
    mutate(manifest)
    problems = check(files_of(manifest), no_parents).problems
    assert any(p.path == path and fragment in p.message for p in problems), problems


def test_bad_json_and_missing_manifest():
    assert check(lambda p: b"{nope" if p == "template.json" else None, no_parents).problems[0].message.startswith(
        "invalid JSON")
    assert "missing" in check(lambda p: None, no_parents).problems[0].message


def test_extends_missing_parent_ref_and_cycles():
    child = {**copy.deepcopy(MINIMAL), "extends": {"template": "a/base", "ref": "v1"}}
    assert check(files_of(child), no_parents).problems[0].path == "$.extends.template"
    other = repos(**{"a/base@v2": files_of(MINIMAL)})
    assert check(files_of(child), other).problems[0].path == "$.extends.ref"
    a = {**copy.deepcopy(MINIMAL), "extends": {"template": "x/b", "ref": "v1"}}
    b = {**copy.deepcopy(MINIMAL), "extends": {"template": "x/a", "ref": "v1"}}
    loader = repos(**{"x/a@v1": files_of(a), "x/b@v1": files_of(b)})
    problems = check(files_of(a), loader).problems
    assert problems[0].path == "$.extends" and "cycle" in problems[0].message


def test_merge_by_name():
    parent = {"promptConfig": {"parameters": [{"name": "a", "type": "string"}, {"name": "b", "type": "string"}]}}
    child = {"promptConfig": {"parameters": [{"name": "b", "type": "integer"}, {"name": "c", "type": "string"}]}}
    merged = merge(parent, child)["promptConfig"]["parameters"]
    assert [(p["name"], p["type"]) for p in merged] == [("a", "string"), ("b", "integer"), ("c", "string")]


def test_the_secret_prefilter_lets_every_literal_through():
    # find_secret skips the patterns when PREFILTER finds nothing: it must match each literal
    # wherever it stands, or that kind of secret would never be found.
    for _, literals, _ in PATTERNS:
        for literal in literals:
            for text in (literal, b"x " + literal + b"x", b"\n" + literal, b"a" + literal):
                assert PREFILTER.search(text), (literal, text)
    assert find_secret(b"aws AKIAABCDEFGHIJKLMNOP and a slack xoxb-0123456789abc") == "AWS access key"
    assert find_secret(b"x" * 10_000 + b" ghp_" + b"a" * 36) == "GitHub token"
    assert PREFILTER.search(b"be concise and cite sources.\n" * 100) is None


def test_hyperscan_finds_the_same_literals_as_the_regex_prefilter():
    # FAST (Hyperscan, installed on x86-64 Linux) replaces PREFILTER when present: the same
    # literals, wherever they stand, in any thread; a scan it stops early still says "found".
    if secrets_scan.FAST is None:
        pytest.skip("hyperscan is not installed on this platform")
    fast = secrets_scan.FAST
    for _, literals, _ in PATTERNS:
        for literal in literals:
            for text in (literal, b"x " + literal + b"x", b"\n" + literal, b"a" + literal, b"q" * 70_000 + literal):
                assert fast.contains_any(text), (literal, text)
    for text in (b"", b"be concise and cite sources.\n" * 100, b"AKI", b"sk_", b"xox-", b"-----BEGIN", b"\x00" * 5000):
        assert not fast.contains_any(text) and not PREFILTER.search(text), text
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.extend(
        fast.contains_any(b"y" * 100_000 + b" rgt_") for _ in range(50))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 200
    assert find_secret(b"x" * 10_000 + b" ghp_" + b"a" * 36) == "GitHub token"


def test_secret_patterns_and_literal_secret_fields():
    assert find_secret(b"key = AKIAABCDEFGHIJKLMNOP") == "AWS access key"
    assert find_secret(b"OPENAI=sk-proj-abcdefghijklmnopqrstuvwxyz012345") == "API key (sk-...)"
    assert find_secret(b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc") == "private key"
    assert find_secret(b"use ${secrets.KLING_API_KEY} and ask for sk- prefixes") is None
    assert list(literal_secrets(RICH)) == []
    bad = copy.deepcopy(RICH)
    bad["mcpServers"][0]["configuration"]["authentication"]["token"] = "hunter2"
    assert list(literal_secrets(bad)) == ["$.mcpServers[0].configuration.authentication.token"]


def test_mcp_client_config_export():
    from registry.mcp import client_config

    assert client_config(RICH) == {"mcpServers": {"firecrawl": {
        "type": "http", "url": "https://api.firecrawl.dev",
        "headers": {"Authorization": "Bearer ${secrets.FIRECRAWL_API_KEY}"}}}}
    packaged = copy.deepcopy(RICH)
    packaged["mcpServers"][0]["registry"]["packages"] = [
        {"registryType": "npm", "identifier": "firecrawl-mcp", "environmentVariables": [{"name": "FIRECRAWL_API_KEY"}]}]
    assert client_config(packaged)["mcpServers"]["firecrawl"] == {
        "command": "npx", "args": ["-y", "firecrawl-mcp@1.7.0"], "env": {"FIRECRAWL_API_KEY": "${secrets.FIRECRAWL_API_KEY}"}}
    assert client_config(MINIMAL) == {"mcpServers": {}}


def test_used_variables_without_running_the_template():
    from registry.manifest import JINJA, used_variables

    text = ("{% set tone = 'calm' %}{% for item in items %}{{ loop.index }} {{ item }}{% endfor %}"
            "{% macro m(arg) %}{{ arg }}{{ other }}{% endmacro %}{{ m(1) }}{{ tone }}{{ range(3) }}")
    assert used_variables(JINJA.parse(text)) == {"items", "other"}
    started = time.monotonic()  # folding this constant would build a 4 GB string
    assert used_variables(JINJA.parse("{{ 'x' * 4000000000 }}{{ 'y' | center(4000000000) }}")) == set()
    assert time.monotonic() - started < 1
