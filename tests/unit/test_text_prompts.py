"""Prompts as people write them (issue 15): `promptConfig.format: "text"` prompts are literal, never
parsed as Jinja2, by the check, the sandbox and the importer; real Jinja2 prompts stay templates."""
from __future__ import annotations

import json

from registry import importer
from registry.manifest import check
from registry.sandbox.runner import run_case
from tests.unit.usecases import MINIMAL

NOT_JINJA = {
    "code": "Refactor this:\n```js\nconst f = (x) => {{ ...x }};\n```\nNever output {% raw %} tags.\n",
    "json": 'Answer as JSON like {"name": "{{", "ok": true}} and nothing else.\n',
    "handlebars": "Fill the Handlebars template {{#each items}}{{this}}{{/each}} for the user.\n",
    "mustache": "Use {{> partial}} and {{{triple}}} as the examples show. What is 2 {% 3?\n",
}


def _no_parents(template: str, ref: str):
    raise AssertionError("no extends here")


def test_text_prompts_are_never_parsed(tmp_path):
    for name, text in NOT_JINJA.items():
        manifest = {**MINIMAL, "promptConfig": {**MINIMAL["promptConfig"], "format": "text",
                                                "systemPrompt": text, "userPromptTemplate": text, "parameters": []}}
        result = check({"template.json": json.dumps(manifest).encode()}.get, _no_parents)
        assert result.ok, (name, result.problems)
        as_jinja = {**manifest, "promptConfig": {**manifest["promptConfig"], "format": "jinja2"}}
        assert not check({"template.json": json.dumps(as_jinja).encode()}.get, _no_parents).ok, name


def test_the_sandbox_renders_text_prompts_literally():
    manifest = {**MINIMAL, "promptConfig": {**MINIMAL["promptConfig"], "format": "text",
                                            "systemPrompt": "Reply {{ name }}", "userPromptTemplate": "{% x"}}
    case = {"name": "literal", "parameters": {"name": "ignored"},
            "assert": [{"type": "contains", "target": "prompt", "value": "{{ name }}"}]}
    result = run_case(manifest, case, "tests/t.json", None)
    assert result["outcome"] == "passed", result


def test_every_markdown_prompt_imports(tmp_path):
    for name, text in NOT_JINJA.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "system.md").write_text(text)
        files, _ = importer.template_files(folder)
        manifest = json.loads(files["template.json"])
        assert manifest["promptConfig"]["format"] == "text" and manifest["promptConfig"]["parameters"] == []
        assert check(files.get, _no_parents).ok
    jinja = tmp_path / "jinja"
    jinja.mkdir()
    (jinja / "system.md").write_text("Summarise {{ topic }} for {{ audience }}.\n")
    manifest = json.loads(importer.template_files(jinja)[0]["template.json"])
    assert manifest["promptConfig"]["format"] == "jinja2"
    assert [p["name"] for p in manifest["promptConfig"]["parameters"]] == ["audience", "input", "topic"]
